#!/usr/bin/env python3
"""Train the float Fashion-MNIST sample CNNs used by onebit and export them to ONNX.

The three models deliberately differ in the ONNX features they exercise, because the
converter has to cope with what real PyTorch exports look like:

  plain.onnx   opset 11, dynamic batch, x.view(N, -1) -> Shape/Gather/Unsqueeze/Concat/Reshape
  resnet.onnx  opset 13, fixed batch 1, BatchNorm already folded into Conv, residual Add, GAP
  vgg.onnx     opset 17, dynamic batch, BatchNormalization kept as separate nodes

Besides the models the script writes reference logits (so Java tests need no Python),
small IDX subsets of Fashion-MNIST, models.json and README.md.

Run with the Debian interpreter, which is the one that has torch and onnx:
    /usr/bin/python3 samples/train_samples.py
"""

import argparse
import gzip
import io
import json
import os
import random
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
SAMPLES_DIR = os.path.dirname(os.path.abspath(__file__))

# Normalisation constants of the Fashion-MNIST training set. They are applied outside
# the model so that the converter sees exactly the network, not a preprocessing stage.
MEAN = 0.2860
STD = 0.3530

CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

TRAIN_SUBSET = 1000
TEST_SUBSET = 2000
EXPECTED_FIRST = 16
SEED = 20240601


# --------------------------------------------------------------------------- IDX I/O

def read_idx(path):
    """Parse a gzipped IDX file into a numpy array (big-endian header, uint8 payload)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = raw[0] * 256 + raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: payload size does not match header {dims.tolist()}")
    return data.reshape(dims)


def write_idx(path, array):
    """Write a uint8 array as gzipped IDX with the same header layout as the originals.

    mtime=0 and an empty embedded file name make reruns byte-identical.
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(header)
        gz.write(array.tobytes())
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def load_split(data_dir, split):
    images = read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz"))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{split}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


def to_input(images):
    """uint8 [N,28,28] -> normalised float32 NCHW, i.e. exactly what the models consume."""
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    return ((x - MEAN) / STD).unsqueeze(1)


# --------------------------------------------------------------------------- models

class PlainNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 7 * 7, 64)
        self.drop = nn.Dropout(0.25)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        # Kept as view(size(0), -1) on purpose: with a dynamic batch in opset 11 it
        # exports as a Shape->Gather->Unsqueeze->Concat->Reshape chain, which the
        # converter must be able to constant-fold once the batch size is known.
        x = x.view(x.size(0), -1)
        x = self.drop(F.relu(self.fc1(x)))
        return self.fc2(x)


def conv_bn(cin, cout, stride=1, kernel=3):
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body1 = conv_bn(cin, cout, stride)
        self.body2 = conv_bn(cout, cout)
        # A projection is needed only where the shape changes; elsewhere the shortcut is
        # a pure identity so the export contains a plain Add of two branches.
        self.shortcut = conv_bn(cin, cout, stride, kernel=1) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.body2(F.relu(self.body1(x)))
        s = x if self.shortcut is None else self.shortcut(x)
        return F.relu(y + s)


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(1, 16)
        self.stages = nn.Sequential(
            BasicBlock(16, 16, 1),
            BasicBlock(16, 32, 2),
            BasicBlock(32, 64, 2),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.stages(F.relu(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class VGG(nn.Module):
    def __init__(self):
        super().__init__()
        layers, cin = [], 1
        for cout in (32, 64, 128):
            for _ in range(2):
                layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                           nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
                cin = cout
            layers.append(nn.MaxPool2d(2))  # 28 -> 14 -> 7 -> 3 (floor)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * 3 * 3, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(256, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


# Per-model recipe. Epoch counts come from measured epoch times on two idle CPU cores
# (about 15 s, 32 s and 110 s for plain, resnet and vgg), to keep the whole run near
# half an hour; vgg needs its 12 epochs to clear 93% test top-1.
SPECS = [
    dict(name="plain", build=PlainNet, opset=11, dynamic=True, bn="none",
         epochs=8, lr=0.05, weight_decay=5e-4),
    dict(name="resnet", build=ResNet, opset=13, dynamic=False, bn="folded",
         epochs=10, lr=0.1, weight_decay=5e-4),
    dict(name="vgg", build=VGG, opset=17, dynamic=True, bn="separate",
         epochs=12, lr=0.05, weight_decay=5e-4),
]


# --------------------------------------------------------------------------- training

def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def augment(x, gen):
    """Random horizontal flip plus a shift of up to 2 px.

    Both are label-preserving for Fashion-MNIST garments and curb the overfitting that
    the wider nets otherwise show after a few epochs. The border is filled with the
    normalised value of a black pixel so shifted images look like real ones.
    """
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (2, 2, 2, 2), value=-MEAN / STD)[:, 0]
    dy = torch.randint(0, 5, (n,), generator=gen)
    dx = torch.randint(0, 5, (n,), generator=gen)
    ar = torch.arange(28)
    rows = (dy[:, None] + ar)[:, :, None]
    cols = (dx[:, None] + ar)[:, None, :]
    return padded[torch.arange(n)[:, None, None], rows, cols].unsqueeze(1)


def train(model, spec, x_train, y_train, x_test, y_test, batch_size=128):
    gen = torch.Generator().manual_seed(SEED + 1)
    steps_per_epoch = (x_train.shape[0] + batch_size - 1) // batch_size
    opt = torch.optim.SGD(model.parameters(), lr=spec["lr"], momentum=0.9,
                          nesterov=True, weight_decay=spec["weight_decay"])
    # One-cycle gives good accuracy in few epochs, which matters on a 2-core budget.
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=spec["lr"], epochs=spec["epochs"], steps_per_epoch=steps_per_epoch)
    for epoch in range(spec["epochs"]):
        t0 = time.time()
        model.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total_loss = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            xb = augment(x_train[idx], gen)
            loss = F.cross_entropy(model(xb), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.item() * idx.numel()
        acc = evaluate(model, x_test, y_test)[0]
        print(f"  [{spec['name']}] epoch {epoch + 1}/{spec['epochs']} "
              f"loss {total_loss / x_train.shape[0]:.4f} test top-1 {acc:.4f} "
              f"({time.time() - t0:.0f}s)", flush=True)


@torch.no_grad()
def predict(model, x, batch_size=1000):
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)])


def evaluate(model, x, y):
    pred = predict(model, x).argmax(1)
    correct = int((pred == y).sum())
    return correct / y.shape[0], correct


# --------------------------------------------------------------------------- export

def export(model, spec, path):
    model.eval()
    # A batch of 2 for dynamic exports keeps the tracer from specialising on size 1.
    dummy = torch.zeros(2 if spec["dynamic"] else 1, 1, 28, 28)
    kwargs = dict(opset_version=spec["opset"], input_names=["input"],
                  output_names=["logits"], do_constant_folding=True)
    if spec["dynamic"]:
        kwargs["dynamic_axes"] = {"input": {0: "N"}, "logits": {0: "N"}}
    if spec["bn"] == "separate":
        # PRESERVE skips the eval-mode peephole pass that fuses BN into Conv; the model
        # is in eval mode, so BN is still exported in its inference form. Constant
        # folding is off because torch warns it may rewrite parameters in this mode.
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
        kwargs["do_constant_folding"] = False
    torch.onnx.export(model, dummy, path, **kwargs)

    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = sorted({n.op_type for n in m.graph.node})
    bn_nodes = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
    if spec["bn"] == "separate":
        if not bn_nodes or any(len(n.output) != 1 for n in bn_nodes):
            raise RuntimeError(f"{path}: expected inference-form BatchNormalization nodes")
    elif bn_nodes:
        raise RuntimeError(f"{path}: BatchNormalization should have been folded")
    batch_dim = m.graph.input[0].type.tensor_type.shape.dim[0]
    if spec["dynamic"] != (batch_dim.dim_param == "N"):
        raise RuntimeError(f"{path}: unexpected batch dimension {batch_dim}")
    return ops


# --------------------------------------------------------------------------- reports

def write_readme(path, records, torch_version):
    epochs = ", ".join(f"{r['name']} {r['epochs']}" for r in records)
    rows = "\n".join(
        f"| `{r['file']}` | {r['opset']} | {r['batch']} | {r['batchnorm']} | "
        f"{r['params']:,} | {r['file_size_bytes'] / 1024:.0f} KiB | "
        f"{r['float_top1_full_test']:.4f} ({r['correct_full_test']}/10000) | "
        f"{r['float_top1_test2k']:.4f} |"
        for r in records)
    text = f"""# onebit sample models

Real float CNNs trained on Fashion-MNIST and exported to ONNX by PyTorch {torch_version}.
They are the inputs for testing the float-to-1-bit conversion on models as PyTorch
actually exports them. The models, data subsets and reference outputs are produced by

    /usr/bin/python3 samples/train_samples.py

(`--data-dir` overrides the location of the original Fashion-MNIST `.gz` files,
default `{DEFAULT_DATA_DIR}`).

## Models

| File | Opset | Batch | BatchNorm | Params | Size | Float top-1, full test set | Float top-1, test2k |
|---|---|---|---|---|---|---|---|
{rows}

- `plain.onnx`: conv-ReLU-maxpool x2, Linear 64, Linear 10. Flattening uses
  `x.view(x.size(0), -1)`, exported as a Shape/Gather/Unsqueeze/Concat/Reshape chain.
- `resnet.onnx`: 3x3 stem and one basic residual block per stage at 16/32/64 channels
  (stride-2 convs and 1x1 projection shortcuts at stages 2 and 3), global average pool,
  Linear 10. BatchNorm is folded into the convolutions.
- `vgg.onnx`: [conv3x3-BN-ReLU] x2 at 32/64/128 channels with max pooling
  (28->14->7->3), Linear 256, Linear 10. BatchNormalization nodes are kept separate.

Input `input` is float32 NCHW `[N,1,28,28]` (N = 1 for the fixed-batch model), output
`logits` is `[N,10]` (no softmax). Accuracies are PyTorch eval-mode results.
`models.json` has the same facts in machine-readable form.

Training: full 60,000-image training set, SGD (Nesterov momentum 0.9, weight decay
5e-4) with a one-cycle learning-rate schedule, batch 128, random horizontal flip and
shifts of up to 2 px; epochs: {epochs}. Training runs on CPU, so a rerun gives close
but not necessarily bit-identical weights; the data subsets are byte-identical.

## Preprocessing

Not part of the models: `x = (pixel / 255 - {MEAN:.4f}) / {STD:.4f}` for uint8 pixels.
Classes (label 0-9): {", ".join(CLASS_NAMES)}.

## Reference outputs

`expected/<model>-logits-first16.npy`: float32 `[16,10]` PyTorch logits for the first 16
images of the Fashion-MNIST test set (= the first 16 of the test2k subset).

## Data subsets

IDX files, gzipped, same header layout as the originals:

- `data/fashion-mnist-train1k-{{images-idx3,labels-idx1}}-ubyte.gz`: the first {TRAIN_SUBSET:,}
  images/labels of the Fashion-MNIST training set.
- `data/fashion-mnist-test2k-{{images-idx3,labels-idx1}}-ubyte.gz`: the first {TEST_SUBSET:,}
  images/labels of the Fashion-MNIST test set.

Fashion-MNIST is by Zalando Research, released under the MIT License:
Han Xiao, Kashif Rasul, Roland Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
Benchmarking Machine Learning Algorithms", arXiv:1708.07747 (2017),
https://github.com/zalandoresearch/fashion-mnist
"""
    with open(path, "w") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                        help="directory with the original Fashion-MNIST IDX .gz files")
    args = parser.parse_args()

    torch.set_num_threads(2)  # the build machine has two cores shared with other work

    train_images, train_labels = load_split(args.data_dir, "train")
    test_images, test_labels = load_split(args.data_dir, "t10k")

    data_dir = os.path.join(SAMPLES_DIR, "data")
    expected_dir = os.path.join(SAMPLES_DIR, "expected")
    os.makedirs(data_dir, exist_ok=True)
    os.makedirs(expected_dir, exist_ok=True)
    for name, images, labels, n in (("train1k", train_images, train_labels, TRAIN_SUBSET),
                                    ("test2k", test_images, test_labels, TEST_SUBSET)):
        write_idx(os.path.join(data_dir, f"fashion-mnist-{name}-images-idx3-ubyte.gz"), images[:n])
        write_idx(os.path.join(data_dir, f"fashion-mnist-{name}-labels-idx1-ubyte.gz"), labels[:n])

    x_train, y_train = to_input(train_images), torch.from_numpy(train_labels.astype(np.int64))
    x_test, y_test = to_input(test_images), torch.from_numpy(test_labels.astype(np.int64))

    records = []
    t_all = time.time()
    for spec in SPECS:
        seed_everything(SEED)
        model = spec["build"]()
        t0 = time.time()
        train(model, spec, x_train, y_train, x_test, y_test)
        train_seconds = time.time() - t0

        onnx_path = os.path.join(SAMPLES_DIR, f"{spec['name']}.onnx")
        ops = export(model, spec, onnx_path)

        logits = predict(model, x_test)
        correct = int((logits.argmax(1) == y_test).sum())
        correct2k = int((logits[:TEST_SUBSET].argmax(1) == y_test[:TEST_SUBSET]).sum())
        np.save(os.path.join(expected_dir, f"{spec['name']}-logits-first16.npy"),
                logits[:EXPECTED_FIRST].numpy().astype(np.float32))

        records.append({
            "name": spec["name"],
            "file": f"{spec['name']}.onnx",
            "file_size_bytes": os.path.getsize(onnx_path),
            "opset": spec["opset"],
            "batch": "dynamic" if spec["dynamic"] else "fixed 1",
            "batchnorm": spec["bn"],
            "params": sum(p.numel() for p in model.parameters()),
            "float_top1_full_test": round(correct / y_test.shape[0], 6),
            "correct_full_test": correct,
            "float_top1_test2k": round(correct2k / TEST_SUBSET, 6),
            "correct_test2k": correct2k,
            "epochs": spec["epochs"],
            "input_name": "input",
            "input_shape": ["N" if spec["dynamic"] else 1, 1, 28, 28],
            "output_name": "logits",
            "mean": [MEAN],
            "std": [STD],
            "class_labels": CLASS_NAMES,
            "torch_version": torch.__version__,
            "expected_logits": f"expected/{spec['name']}-logits-first16.npy",
        })
        print(f"{spec['name']}: top-1 {correct / 10000:.4f} ({correct}/10000), "
              f"test2k {correct2k / TEST_SUBSET:.4f}, trained in {train_seconds:.0f}s, "
              f"{os.path.getsize(onnx_path)} bytes, ops {ops}", flush=True)
    print(f"total training+export time {time.time() - t_all:.0f}s")

    with open(os.path.join(SAMPLES_DIR, "models.json"), "w") as f:
        json.dump({"models": records}, f, indent=2)
        f.write("\n")
    write_readme(os.path.join(SAMPLES_DIR, "README.md"), records, torch.__version__)


if __name__ == "__main__":
    main()
