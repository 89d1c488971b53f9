"""OpSpec: one declaration per op, checked three ways by tests/test_ops.py.

``fn(T, *xs)`` is written once against the shared torch/ember API (``T`` is the module: ``ember``
or ``torch``), so the same lambda runs on both libraries. ``ref(*arrays)`` is the NumPy reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class OpSpec:
    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any] | None
    shapes: tuple[tuple[int, ...], ...] = ((3, 4),)
    low: float = -2.0
    high: float = 2.0
    kinks: tuple[float, ...] = ()  # non-differentiable points to keep samples away from
    grad: bool = True  # differentiable (checked against finite differences)
    gradgrad: bool = True  # double backward checked too
    grad_inputs: tuple[int, ...] | None = None  # which inputs are differentiable (default: floats)
    dtypes: tuple[str, ...] | None = None  # per input: 'float', 'int64', 'bool', ...
    make: Callable[[np.random.Generator], list[np.ndarray]] | None = None  # custom inputs
    atol: float = 1e-5
    rtol: float = 1e-5
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-4
    torch: bool = True  # compare with torch when installed
    noncontig: bool = True  # also run on Fortran-ordered inputs (False for .view, as torch)
    distinct: bool = False  # keep samples pairwise distinct (max/sort/median ties)
    tags: tuple[str, ...] = field(default_factory=tuple)

    def inputs(self, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        if self.make is not None:
            return [np.asarray(x) for x in self.make(rng)]
        xs = []
        for i, s in enumerate(self.shapes):
            kind = self.dtypes[i] if self.dtypes else "float"
            if kind == "float":
                x = rng.uniform(self.low, self.high, s)
                if self.distinct and x.size:
                    x = x.reshape(-1)
                    x = (
                        rng.permutation(x.size) / max(x.size, 1) * (self.high - self.low)
                        + self.low
                        + 0.013
                        + 0.0411 * i
                    ).reshape(s)
                for k in self.kinks:
                    x[np.abs(x - k) < 5e-2] += 0.1
            elif kind == "bool":
                x = rng.random(s) > 0.5
            else:
                x = rng.integers(int(self.low), int(self.high), s).astype(kind)
            xs.append(np.asarray(x))
        return xs

    def diff_inputs(self, xs: list[np.ndarray]) -> tuple[int, ...]:
        if self.grad_inputs is not None:
            return self.grad_inputs
        return tuple(i for i, x in enumerate(xs) if x.dtype.kind == "f")
