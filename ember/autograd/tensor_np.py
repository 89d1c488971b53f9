"""A NumPy-named namespace over ember Tensors, used by backward rules under ``create_graph``.

Backward rules are written once as ``F.exp(x)``, ``F.sum(g, axis=..., keepdims=...)``...; the
engine passes NumPy itself normally, and this module when the backward must itself be
differentiable. Each function maps NumPy's call convention onto the differentiable ember op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.tensor import Tensor


def _t(x: Any, like: Tensor | None = None) -> Any:
    if isinstance(x, Tensor):
        return x
    from ember.ops._core import to_tensor

    return to_tensor(x, like)


def sum(x: Tensor, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    return (
        x.sum(dim=axis, keepdim=keepdims)
        if axis is not None
        else (x.sum().reshape((1,) * x.ndim) if keepdims else x.sum())
    )


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    return x.mean(dim=axis, keepdim=keepdims) if axis is not None else x.mean()


def reshape(x: Tensor, shape: Any) -> Tensor:
    return x.reshape(tuple(shape))


def broadcast_to(x: Tensor, shape: Any) -> Tensor:
    return x.expand(tuple(shape))


def swapaxes(x: Tensor, a: int, b: int) -> Tensor:
    return x.transpose(a, b)


def transpose(x: Tensor, axes: Any = None) -> Tensor:
    return x.permute(tuple(int(a) for a in axes)) if axes is not None else x.T


def expand_dims(x: Tensor, axis: int) -> Tensor:
    return x.unsqueeze(axis)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    return a.matmul(b)


def where(c: Any, a: Any, b: Any) -> Tensor:
    from ember.ops.elementwise import where as _where

    return _where(_t(c), a, b)


def zeros_like(x: Tensor, dtype: Any = None) -> Tensor:
    from ember.ops.creation import zeros_like as z

    return z(x)


def ones_like(x: Tensor, dtype: Any = None) -> Tensor:
    from ember.ops.creation import ones_like as o

    return o(x)


def astype(x: Tensor, dt: Any) -> Tensor:
    from ember import dtypes

    return x.to(dtypes.from_np(np.dtype(dt)))


def add_at(target: Tensor, index: Any, values: Tensor) -> Tensor:
    return target.index_put(
        index if isinstance(index, tuple) else (index,), values, accumulate=True
    )


def maximum(a: Any, b: Any) -> Tensor:
    return _t(a).maximum(_t(b, a))


def minimum(a: Any, b: Any) -> Tensor:
    return _t(a).minimum(_t(b, a))


def _method(name: str) -> Any:
    def f(x: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_t(x), name)(*args, **kwargs)

    f.__name__ = name
    return f


for _name in (
    "exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sign", "abs", "floor",
    "ceil", "trunc", "isfinite", "isnan", "sigmoid", "log1p", "expm1", "square", "reciprocal",
    "cumsum", "flip", "diagonal", "tril", "triu", "logical_not", "erf", "rsqrt",
):  # fmt: skip
    globals()[_name] = _method(_name)


def concatenate(xs: Any, axis: int = 0) -> Tensor:
    from ember.ops import cat

    return cat(list(xs), axis)


def stack(xs: Any, axis: int = 0) -> Tensor:
    from ember.ops import stack as _stack

    return _stack(list(xs), axis)


def pad(x: Tensor, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    from ember.ops import constant_pad

    flat = []
    for lo, hi in reversed(list(pad_width)):
        flat += [lo, hi]
    return constant_pad(x, flat, constant_values)


def take_along_axis(x: Tensor, idx: Any, axis: int) -> Tensor:
    return x.gather(axis, _t(idx))


def register(name: str, fn: Any) -> None:
    """Add a NumPy-named function for backward rules of ops defined elsewhere."""
    globals()[name] = fn


def __getattr__(name: str) -> Any:
    raise NotImplementedError(
        f"double backward (create_graph=True) needs `{name}`, which ember's differentiable "
        "namespace does not provide yet"
    )
