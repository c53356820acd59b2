#!/usr/bin/env python3
"""Measures every sample x method with `onebit convert` and prints the README's markdown table.

Top-1 is on the full Fashion-MNIST test set (Debian's dataset-fashion-mnist), calibration on
the bundled first 1,000 training images. Usage: python3 samples/binarization_table.py
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
CALIB = os.path.join(ROOT, "samples/data/fashion-mnist-train1k-images-idx3-ubyte.gz")
NORM = ["--mean", "0.2860", "--std", "0.3530"]
# "moments only": calibration without the sign refit (--no-sign-refit), for comparison.
METHODS = [("bwn", []), ("bwn moments only", ["--no-sign-refit"]), ("xnor", []), ("bireal", []),
           ("cbd K=2", ["--bits", "2"]), ("cbd K=2 moments only", ["--bits", "2", "--no-sign-refit"]),
           ("cbd K=3", ["--bits", "3"]), ("cbd K=4", ["--bits", "4"])]


def convert(model, method, extra, out):
    args = [os.path.join(ROOT, "onebit"), "convert", os.path.join(ROOT, "samples", model + ".onnx"),
            "-o", out, "--method", method.split()[0], "--calib", CALIB, "--data", TEST, "--json"] + extra + NORM
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {res.stderr}")
    return json.loads(res.stdout)


def main():
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in ["plain", "resnet", "vgg"]:
            for method, extra in METHODS:
                r = convert(model, method, extra, os.path.join(tmp, "m.bnn"))
                rows.append(f"| {model} | {method} | {100 * r['reference_top1']:.2f} | "
                            f"{100 * r['top1_uncalibrated']:.2f} | {100 * r['top1']:.2f} | "
                            f"{r['container_bytes']:,} | {r['ratio']:.1f}x | {r['binary_tensor_ratio']:.1f}x |")
                print(rows[-1], file=sys.stderr, flush=True)
    print("| sample | method | float top-1 % | binarized % | calibrated % | container bytes | vs ONNX | binary tensors vs float32 |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
