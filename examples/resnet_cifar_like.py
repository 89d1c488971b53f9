"""A ResNet-18 for 32x32x3 images (CIFAR-style stem), trained a few steps on random data with ember.

The network is torchvision's ResNet-18 layout with the usual CIFAR changes (3x3 stride-1 stem, no
max-pool): ``conv1/bn1/relu``, four stages ``layer1..layer4`` of two ``BasicBlock``s (3x3 conv,
BatchNorm, ReLU, 3x3 conv, BatchNorm, plus the input, through a ``downsample`` 1x1 conv +
BatchNorm when the stride or width changes), ``AdaptiveAvgPool2d`` and a ``fc`` Linear. Its
``state_dict`` keys are exactly those of the same definition in PyTorch, so checkpoints move
both ways. ``--width`` scales the channels (64 = ResNet-18).

There is no CIFAR-10 here, so it fits one fixed batch of random images with random labels (SGD
with momentum) and prints the loss at each step: it must go down as the network memorises it.
"""

from __future__ import annotations

import argparse
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(
        self, layers: tuple[int, ...] = (2, 2, 2, 2), num_classes: int = 10, width: int = 64
    ) -> None:
        super().__init__()
        self.in_planes = width
        self.conv1 = nn.Conv2d(3, width, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(width, layers[0], stride=1)
        self.layer2 = self._make_layer(2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18(num_classes: int = 10, width: int = 64) -> ResNet:
    return ResNet((2, 2, 2, 2), num_classes, width)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description="ResNet-18 (CIFAR-style) on random 32x32 data.")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--width", type=int, default=64, help="channels of the first stage (64)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)

    model = resnet18(num_classes=10, width=args.width)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"ResNet-18 (width {args.width}): {n_params:,} parameters, "
        f"{len(model.state_dict())} state_dict entries"
    )
    x = torch.randn(args.batch_size, 3, 32, 32)
    y = torch.randint(10, (args.batch_size,))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    losses = []
    t0 = time.perf_counter()
    model.train()
    for step in range(1, args.steps + 1):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        print(
            f"step {step:3d}  loss {losses[-1]:.4f}  ({time.perf_counter() - t0:.1f} s)", flush=True
        )
    print(
        f"loss {losses[0]:.4f} -> {losses[-1]:.4f} in {args.steps} steps "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    return {"losses": losses, "model": model}


if __name__ == "__main__":
    main()
