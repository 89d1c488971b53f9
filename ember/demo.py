"""ember's demo job: ``python -m ember.demo`` (run by ``./run demo``).

Trains the seed MLP (Linear(10, 5) -> ReLU -> Linear(5, 1), MSELoss, SGD) on 4 random samples,
written exactly as the PyTorch program would be, and prints the loss as it falls.
"""

from __future__ import annotations

import argparse
import time


def seed_mlp(steps: int, lr: float, seed: int, quiet: bool = False) -> float:
    import ember as torch
    import ember.nn as nn
    import ember.optim as optim

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    x = torch.randn(4, 10)
    y = torch.randn(4, 1)
    loss = None
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if not quiet and (step == 1 or step % max(1, steps // 10) == 0):
            print(f"step {step:5d}  loss {loss.item():.6f}")
    assert loss is not None
    return loss.item()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ember.demo", description=__doc__)
    p.add_argument("--steps", type=int, default=3000, help="training steps (default 3000)")
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (default 0.01)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    final = seed_mlp(args.steps, args.lr, args.seed)
    dt = time.perf_counter() - t0
    print(f"seed MLP: final loss {final:.6f} after {args.steps} steps in {dt:.2f} s")
    return 0 if final < 1e-3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
