#!/usr/bin/env python3
"""Export a randomly initialised ResNet-18 (torchvision's architecture) to ONNX for timing.

The speed goal of onebit is stated on ResNet-18 at 224x224, batch 1: the xnor container
against ONNX Runtime on the float file. Random weights are enough to time it, so nothing is
trained; the about 45 MB file is generated, not committed (samples/generated/ is ignored).

torchvision is not a dependency: the architecture is written out below, layer for layer as
torchvision.models.resnet18 builds it, with its initialisation (Kaiming-normal, fan_out, for
the convs). The BatchNorm layers get random affine parameters and running statistics from a
few forward passes in train mode on random inputs, so that activations keep a sane scale
through the depth. Export is in eval mode at opset 13 with constant folding, so BatchNorm is
folded into the convs as in PyTorch's default export. The same seed gives the same file.

Run with the Debian interpreter, which is the one that has torch and onnx:
    /usr/bin/python3 samples/export_resnet18.py [--out PATH] [--seed N]
"""

import argparse
import os

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLES_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(SAMPLES_DIR, "generated", "resnet18.onnx")
SEED = 20240601
OPSET = 13


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages, cin = [], 64
        for i, cout in enumerate((64, 128, 256, 512)):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@torch.no_grad()
def randomise_batchnorm(model, gen, passes=4, batch=8):
    """Random BN affine parameters, then running statistics from random-input batches.

    momentum=None makes the running statistics a plain average over the passes.
    """
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5, generator=gen)
            m.bias.normal_(0.0, 0.1, generator=gen)
            m.momentum = None
            m.reset_running_stats()
    model.train()
    for _ in range(passes):
        model(torch.randn(batch, 3, 224, 224, generator=gen))
    model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output path (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=SEED, help="seed for all random values")
    args = parser.parse_args()

    torch.set_num_threads(2)  # the build machine has two cores shared with other work
    torch.manual_seed(args.seed)
    model = ResNet18()
    randomise_batchnorm(model, torch.Generator().manual_seed(args.seed + 1))

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), args.out, opset_version=OPSET,
                      input_names=["input"], output_names=["logits"], do_constant_folding=True)
    m = onnx.load(args.out)
    onnx.checker.check_model(m, full_check=True)
    if any(n.op_type == "BatchNormalization" for n in m.graph.node):
        raise RuntimeError(f"{args.out}: BatchNormalization should have been folded")

    params = sum(p.numel() for p in model.parameters())
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"{args.out}: {os.path.getsize(args.out):,} bytes, {params:,} parameters, "
          f"{len(m.graph.node)} nodes, ops {ops}")


if __name__ == "__main__":
    main()
