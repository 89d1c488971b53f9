"""Train the seed CNN on Fashion-MNIST with ember: the training loop of ``ember/demo.py``, plain.

Data: Fashion-MNIST from local files (the Debian package ``dataset-fashion-mnist`` puts them in
``/usr/share/datasets/fashion-mnist``; ``--root`` names another folder), the first ``--limit``
images of each split, scaled to [0, 1] and normalised with the dataset's mean and std.
Model: two 3x3 convolutions (padding 1) with ReLU and 2x2 max-pooling, then two linear layers.
Training: DataLoader (shuffled), Adam, cross-entropy; the test accuracy after every epoch.
At the end the model's ``state_dict`` is saved with ``ember.save`` (PyTorch's file format).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.datasets import FashionMNIST
from ember.utils.data import DataLoader, TensorDataset

MEAN, STD = 0.2860, 0.3530


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 28x28 -> 14x14
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 14x14 -> 7x7
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def load_split(root: str | None, train: bool, limit: int | None) -> TensorDataset:
    """Normalised (N, 1, 28, 28) float images and int64 labels as a TensorDataset."""
    ds = FashionMNIST(root=root, train=train)
    x, y = ds.data[:limit], ds.targets[:limit]
    x = ((x.float() / 255.0 - MEAN) / STD).unsqueeze(1)
    return TensorDataset(x, y)


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    model.train()
    return correct / total


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description="Seed CNN on Fashion-MNIST (ember).")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument(
        "--limit",
        type=int,
        default=10000,
        help="use the first N images of each split (0: all 60k/10k)",
    )
    p.add_argument("--root", default=None, help="folder with the IDX files (default: system)")
    p.add_argument("--out", default="runs/fashion_mnist_cnn", help="where the checkpoint goes")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)

    limit = args.limit or None
    train_set = load_split(args.root, True, limit)
    test_set = load_split(args.root, False, limit)
    print(f"Fashion-MNIST: {len(train_set):,} train / {len(test_set):,} test images")
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    t0 = time.perf_counter()
    test_acc = 0.0
    for epoch in range(1, args.epochs + 1):
        running, seen = 0.0, 0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(y)
            seen += len(y)
        test_acc = evaluate(model, test_loader)
        print(
            f"epoch {epoch}: train loss {running / seen:.4f}  test accuracy {test_acc:.4f}  "
            f"({time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
    train_time = time.perf_counter() - t0

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "seed_cnn.pt")
    torch.save(model.state_dict(), path)
    print(f"saved the state_dict to {path}; test accuracy {test_acc:.4f} ({train_time:.1f} s)")
    return {"test_acc": test_acc, "train_time": train_time, "checkpoint": path}


if __name__ == "__main__":
    main()
