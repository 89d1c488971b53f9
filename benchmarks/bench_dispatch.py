"""W5 dispatch: 100 cheap elementwise ops on a 16-element tensor with requires_grad, forward +
backward; reported as microseconds per op (ember and torch side by side)."""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Result, compare

N_OPS = 100


def _chain(x):
    y = x
    for i in range(N_OPS // 4):
        y = y * 1.0001
        y = y + 0.001
        y = y.tanh() if i % 2 else y.sigmoid()
        y = y - 0.0005
    return y


def make(lib):
    x = lib.tensor(np.linspace(-1, 1, 16, dtype=np.float32), requires_grad=True)

    def step():
        x.grad = None
        _chain(x).sum().backward()

    return step


def make_forward(lib):
    x = lib.tensor(np.linspace(-1, 1, 16, dtype=np.float32), requires_grad=True)
    return lambda: _chain(x)


def run(torch=None) -> list[Result]:
    import ember

    per_op = 1e6 / N_OPS
    out = [
        compare(
            "W5 dispatch fwd+bwd",
            make(ember),
            make(torch) if torch else None,
            inner=20,
            rounds=15,
            scale=per_op,
            unit="us/op",
            target=0.5,
        ),
        compare(
            "W5b dispatch fwd only",
            make_forward(ember),
            make_forward(torch) if torch else None,
            inner=20,
            rounds=15,
            scale=per_op,
            unit="us/op",
        ),
    ]
    with ember.no_grad():
        pass
    return out


if __name__ == "__main__":
    try:
        import torch as _torch

        _torch.set_num_threads(2)
    except ImportError:
        _torch = None
    from benchmarks.harness import table

    print(table(run(_torch)))
