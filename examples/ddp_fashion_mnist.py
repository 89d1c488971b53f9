"""Train the seed CNN on Fashion-MNIST with DistributedDataParallel, one process per rank.

    ember-run --nproc-per-node 2 examples/ddp_fashion_mnist.py --epochs 1 --subset 4000
    python examples/ddp_fashion_mnist.py --subset 1000          # one process works too

Each rank reads its shard of the training set through ``DistributedSampler`` (``set_epoch``
every epoch, so the shuffling changes), DDP averages the gradients, and the ranks end every
epoch with identical parameters. The epoch's mean loss and the test accuracy are all-reduced
across ranks and printed by rank 0. ``--batch-size`` is per rank (the global batch is
``batch_size * world_size``), as with torch's DDP.
"""

from __future__ import annotations

import argparse
import os
import time

import ember as torch
import ember.distributed as dist
import ember.nn as nn
import ember.nn.functional as F
from ember.datasets import FashionMNIST
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, Subset, TensorDataset
from ember.utils.data.distributed import DistributedSampler

MEAN, STD = 0.2860, 0.3530


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1, padding=1)
        self.fc1 = nn.Linear(3136, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 28x28 -> 14x14
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 14x14 -> 7x7
        x = x.view(-1, 64 * 7 * 7)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def load_split(root: str | None, train: bool, limit: int | None) -> TensorDataset:
    """Normalised (N, 1, 28, 28) float images and int64 labels."""
    ds = FashionMNIST(root=root, train=train)
    x, y = ds.data[:limit], ds.targets[:limit]
    return TensorDataset(((x.float() / 255.0 - MEAN) / STD).unsqueeze(1), y)


def evaluate(model: nn.Module, data: TensorDataset, rank: int, world: int) -> float:
    """Accuracy on the whole set: each rank scores every world-th sample, then one all_reduce."""
    mine = Subset(data, range(rank, len(data), world))
    model.eval()
    counts = torch.zeros(2)
    with torch.no_grad():
        for x, y in DataLoader(mine, batch_size=500):
            counts += torch.tensor([float((model(x).argmax(1) == y).sum().item()), float(len(y))])
    model.train()
    dist.all_reduce(counts, op=dist.ReduceOp.SUM)
    return float(counts[0].item() / counts[1].item())


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Seed CNN on Fashion-MNIST with DDP (ember).")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64, help="per rank")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (momentum 0.9)")
    p.add_argument("--subset", type=int, default=0,
                   help="use the first N training images and N/6 test images (0: all)")  # fmt: skip
    p.add_argument("--root", default=None, help="folder with the IDX files (default: system)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    # the usual torch setup: the launcher (ember-run) sets RANK and WORLD_SIZE
    rank = int(os.environ.get("RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    dist.init_process_group(backend="gloo", rank=rank, world_size=world_size)

    torch.manual_seed(args.seed)  # DDP broadcasts rank 0's parameters anyway
    train_set = load_split(args.root, True, args.subset or None)
    test_set = load_split(args.root, False, max(args.subset // 6, 500) if args.subset else None)
    sampler = DistributedSampler(train_set, shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    model = DDP(Net())
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    if rank == 0:
        print(f"{world_size} rank(s), {len(train_set)} training images ({len(sampler)} per "
              f"rank, {len(loader)} steps of {args.batch_size} per epoch)", flush=True)  # fmt: skip

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        t0 = time.perf_counter()
        total = torch.zeros(2)
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()  # gradients are averaged across ranks when this returns
            opt.step()
            total += torch.tensor([float(loss.item()) * len(y), float(len(y))])
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        acc = evaluate(model.module, test_set, rank, world_size)
        if rank == 0:
            print(f"epoch {epoch + 1}: train loss {float(total[0] / total[1]):.4f}  "
                  f"test accuracy {acc:.4f}  ({time.perf_counter() - t0:.1f} s)", flush=True)  # fmt: skip
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
