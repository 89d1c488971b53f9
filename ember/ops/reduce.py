"""Reductions: sum and mean here; more (var, norm, sort, ...) live beside them.

``dim`` is an int, a tuple or None (all dims); ``keepdim`` as torch. Backward rules put the
reduced dims back (size 1) and broadcast the gradient to the input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import dtypes
from ember.ops._core import Node, Tensor, gm, record, wrap
from ember.tensor import tensor_method

__all__ = ["sum", "mean", "norm_dims", "expand_reduced"]


def norm_dims(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """Normalise `dim` (int, sequence, or None) to a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, int | np.integer):
        dim = (int(dim),)
    n = max(ndim, 1)
    out = []
    for d in dim:
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        d = d % n
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    return tuple(sorted(out)) if ndim else ()


def expand_reduced(F: Any, g: Any, shape: tuple, axes: tuple | None, keepdim: bool) -> Any:
    """Broadcast a reduced gradient back to `shape` (re-inserting the reduced axes first)."""
    if axes is None:
        axes = tuple(range(len(shape)))
    if not keepdim and axes:
        g = F.reshape(g, tuple(1 if i in axes else s for i, s in enumerate(shape)))
    return F.broadcast_to(g, shape)


class SumBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, axes, keepdim = self.args
        return (expand_reduced(F, g, shape, axes, keepdim),)


def _acc_dtype(a: Any, dtype: Any) -> Any:
    if dtype is not None:
        return dtypes.as_dtype(dtype).np
    if a.dtype.kind in "bui":
        return np.int64  # torch: integer sums accumulate (and return) in int64
    return None


@tensor_method
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, out: Any = None) -> Tensor:  # noqa: A001
    """Sum over `dim` (all dims if None)."""
    a = input._data
    axes = norm_dims(dim, a.ndim) if dim is not None else None
    if axes == () and dim is not None and not isinstance(dim, int) and len(dim) == 0:
        axes = None  # torch: dim=() reduces everything
    r = wrap(a.sum(axis=axes, dtype=_acc_dtype(a, dtype), keepdims=keepdim))
    if gm.enabled and input._rg:
        record(SumBackward0, r, (input,), args=(a.shape, axes, keepdim))
    return r


class MeanBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, axes, keepdim, n = self.args
        return (expand_reduced(F, g / n, shape, axes, keepdim),)


@tensor_method
def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, out: Any = None) -> Tensor:
    """Arithmetic mean over `dim` (floating dtypes only, as torch)."""
    a = input._data
    if dtype is not None:
        a = a.astype(dtypes.as_dtype(dtype).np)
    elif a.dtype.kind not in "f" and a.dtype.name != "bfloat16":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_dname(a.dtype)}"
        )
    axes = norm_dims(dim, a.ndim) if dim is not None else None
    if axes is not None and dim is not None and not isinstance(dim, int) and len(dim) == 0:
        axes = None
    n = a.size if axes is None else int(np.prod([a.shape[i] for i in axes]))
    r = wrap(a.mean(axis=axes, keepdims=keepdim) if a.size else np.full(_reduced_shape(a.shape, axes, keepdim), np.nan, a.dtype))
    if r._data.dtype != a.dtype:
        r._data = r._data.astype(a.dtype)
    if gm.enabled and input._rg:
        record(MeanBackward0, r, (input,), args=(a.shape, axes, keepdim, max(n, 1)))
    return r


def _reduced_shape(shape: tuple, axes: tuple | None, keepdim: bool) -> tuple:
    if axes is None:
        axes = tuple(range(len(shape)))
    if keepdim:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _dname(d: Any) -> str:
    return dtypes.from_np(d).name.capitalize().replace("Int64", "Long").replace("Int32", "Int")
