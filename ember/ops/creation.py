"""Tensor creation: from data, filled, ranges, and random (through ``ember.random``)."""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any

import numpy as np

from ember import dtypes
from ember.backends import array_module, device as _device, device_of
from ember.random import _gen
from ember.tensor import Tensor, _make

__all__ = [
    "tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
    "zeros_like", "ones_like", "full_like", "empty_like", "arange", "range", "linspace",
    "logspace", "eye", "rand", "randn", "randint", "randperm", "rand_like", "randn_like",
    "randint_like", "normal", "bernoulli", "multinomial", "poisson", "scalar_tensor",
    "empty_strided", "frombuffer", "tril_indices", "triu_indices", "complex",
]  # fmt: skip


def _shape(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], list | tuple):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, int | np.integer) or isinstance(s, bool):
            raise TypeError(
                f"size must be a tuple of ints, but got an element of type {type(s).__name__}"
            )
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _finish(arr: Any, device: Any, requires_grad: bool) -> Tensor:
    if device is not None:
        dev = _device(device)
        if dev.type != "cpu":
            arr = array_module(dev).asarray(arr)
    t = _make(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _infer_dtype(data: Any) -> dtypes.dtype:
    """torch's inference: any float -> default dtype, else int64, else bool."""
    kind = 0
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, builtins.bool | np.bool_):
            continue
        if isinstance(x, int | np.integer):
            kind = max(kind, 1)
        elif isinstance(x, float | np.floating):
            kind = 2
        elif isinstance(x, builtins.complex):
            raise TypeError("complex tensors are not supported by ember")
        elif isinstance(x, Tensor):
            return x.dtype if kind < 2 or x.is_floating_point() else dtypes.get_default_dtype()
        elif isinstance(x, np.ndarray):
            return dtypes.from_np(x.dtype)
        elif isinstance(x, list | tuple):
            stack.extend(x)
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    return (dtypes.bool, dtypes.int64, dtypes.get_default_dtype())[kind]


def _to_nested(data: Any) -> Any:
    if isinstance(data, Tensor):
        return data._data if data.is_cpu else data._data.get()
    if isinstance(data, list | tuple):
        return [_to_nested(x) for x in data]
    return data


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, scalars, arrays or tensors)."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.clone()."
            "detach() or sourceTensor.clone().detach().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
        d = dtypes.as_dtype(dtype) if dtype is not None else data.dtype
        t = _make(data._data.astype(d.np, copy=True))
        if device is not None and _device(device) != data.device:
            t = t.to(device)
        if requires_grad:
            t.requires_grad = True
        return t
    if isinstance(data, np.ndarray):
        d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.from_np(data.dtype)
        arr = np.array(data, dtype=d.np, copy=True)
    else:
        d = dtypes.as_dtype(dtype) if dtype is not None else _infer_dtype(data)
        nested = _to_nested(data)
        try:
            arr = np.array(nested, dtype=d.np)
        except ValueError as e:
            raise ValueError(f"expected sequence of equal-length lists to build a tensor: {e}") from None
        except OverflowError as e:
            raise RuntimeError(f"value cannot be converted to type {d} without overflow") from e
        if arr.dtype == object:
            raise TypeError("Could not infer dtype of the given data")
    return _finish(arr, device, requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return tensor(s, dtype=dtype or dtypes.get_default_dtype(), device=device, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like `tensor`, but shares memory with a tensor or NumPy array when no conversion is needed."""
    if isinstance(data, Tensor):
        t = data if dtype is None else data.to(dtype)
        return t if device is None else t.to(device)
    if isinstance(data, np.ndarray) and (device is None or _device(device).type == "cpu"):
        d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.from_np(data.dtype)
        return _make(data if data.dtype == d.np else data.astype(d.np))
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (writes show through both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_np(ndarray.dtype)
    return _make(ndarray)


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    return _finish(np.frombuffer(buffer, dtype=dtypes.as_dtype(dtype).np, count=count, offset=offset), None, requires_grad)


def _dt(dtype: Any, default: dtypes.dtype | None = None) -> Any:
    return (dtypes.as_dtype(dtype) if dtype is not None else default or dtypes.get_default_dtype()).np


def _xp(device: Any) -> Any:
    return np if device is None else array_module(_device(device))


def zeros(*size: Any, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """A tensor of zeros."""
    return _finish(_xp(device).zeros(_shape(size), _dt(dtype)), None, requires_grad)


def ones(*size: Any, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """A tensor of ones."""
    return _finish(_xp(device).ones(_shape(size), _dt(dtype)), None, requires_grad)


def empty(*size: Any, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """An uninitialised tensor (ember zero-fills it: same cost, no garbage)."""
    return _finish(_xp(device).zeros(_shape(size), _dt(dtype)), None, requires_grad)


def empty_strided(size: Any, stride: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size: Any, fill_value: Any, *, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with `fill_value` (dtype inferred from it as torch does)."""
    if dtype is None:
        dtype = _infer_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _finish(_xp(device).full(_shape((size,) if isinstance(size, int) else tuple(size)), fill_value, _dt(dtype)), None, requires_grad)


def _like(input: Tensor, dtype: Any, device: Any) -> tuple[Any, Any]:
    d = dtypes.as_dtype(dtype).np if dtype is not None else input._data.dtype
    xp = input.xp if device is None else array_module(_device(device))
    return xp, d


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, memory_format: Any = None, layout: Any = None) -> Tensor:
    xp, d = _like(input, dtype, device)
    return _finish(xp.zeros(input._data.shape, d), None, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, memory_format: Any = None, layout: Any = None) -> Tensor:
    xp, d = _like(input, dtype, device)
    return _finish(xp.ones(input._data.shape, d), None, requires_grad)


empty_like = zeros_like


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    xp, d = _like(input, dtype, device)
    return _finish(xp.full(input._data.shape, fill_value, d), None, requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, *, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from start (inclusive) to end (exclusive) by step; ints give int64."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dtype = _infer_dtype(vals)
    d = dtypes.as_dtype(dtype)
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    if d.is_floating_point:
        arr = (vals[0] + np.arange(n, dtype=np.float64) * vals[2]).astype(d.np)
    else:
        arr = np.arange(vals[0], vals[0] + n * vals[2], vals[2])[:n].astype(d.np)
    return _finish(arr, device, requires_grad)


def range(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A001
    """Deprecated torch.range: end inclusive, default float dtype."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    arr = (start + np.arange(n, dtype=np.float64) * step).astype(_dt(dtype))
    return _finish(arr, device, requires_grad)


def linspace(start: Any, end: Any, steps: int, *, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end inclusive."""
    s = start.item() if isinstance(start, Tensor) else start
    e = end.item() if isinstance(end, Tensor) else end
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return _finish(np.linspace(s, e, steps).astype(_dt(dtype)), device, requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(np.logspace(start, end, steps, base=base).astype(_dt(dtype)), device, requires_grad)


def eye(n: int, m: int | None = None, *, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Identity matrix (n x m)."""
    return _finish(_xp(device).eye(n, m, dtype=_dt(dtype)), None, requires_grad)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    r, c = np.tril_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(_dt(dtype, dtypes.int64)), device, False)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    r, c = np.triu_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(_dt(dtype, dtypes.int64)), device, False)


def complex(real: Any, imag: Any) -> Tensor:  # noqa: A001
    raise NotImplementedError("complex tensors are not supported by ember")


# ------------------------------------------------------------------------------------ random
def rand(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """Uniform samples on [0, 1)."""
    d = _dt(dtype)
    return _finish(_gen(generator).random(_shape(size), dtype=np.float64).astype(d, copy=False), device, requires_grad)


def randn(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """Standard normal samples."""
    d = _dt(dtype)
    g = _gen(generator)
    arr = g.standard_normal(_shape(size), dtype=np.float32) if d == np.float32 else g.standard_normal(_shape(size)).astype(d)
    return _finish(arr, device, requires_grad)


def randint(low: Any, high: Any = None, size: Any = None, *, generator: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` as torch."""
    if size is None:
        if isinstance(high, tuple | list):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:
        low, high = 0, low
    arr = _gen(generator).integers(low, high, _shape(tuple(size)), dtype=np.int64)
    return _finish(arr.astype(_dt(dtype, dtypes.int64)), device, requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1."""
    return _finish(_gen(generator).permutation(n).astype(_dt(dtype, dtypes.int64)), device, requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad, generator=generator)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad, generator=generator)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal samples with (broadcast) mean and std, tensors or floats."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if size is None:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        d = (mean.dtype if isinstance(mean, Tensor) else std.dtype if isinstance(std, Tensor) else dtypes.get_default_dtype()).np
    else:
        shape = _shape(tuple(size) if not isinstance(size, int) else (size,))
        d = _dt(dtype)
    arr = (_gen(generator).standard_normal(shape) * s + m).astype(d)
    dev = device or (mean.device if isinstance(mean, Tensor) else None)
    return _finish(arr, dev, requires_grad)


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    """Samples 1 with probability `input` (or `p`), else 0, in input's dtype."""
    probs = input._data if p is None else p
    u = _gen(generator).random(input._data.shape)
    return _make((u < probs).astype(input._data.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
    """Sample category indices from (unnormalised) row weights."""
    w = np.asarray(input._data, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if (w < 0).any() or not np.isfinite(w).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    g = _gen(generator)
    out = np.empty((rows.shape[0], num_samples), np.int64)
    for i, r in enumerate(rows):
        s = r.sum()
        if s <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        out[i] = g.choice(len(r), size=num_samples, replace=replacement, p=r / s)
    return _make(out.reshape(w.shape[:-1] + (num_samples,)))


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    return _make(_gen(generator).poisson(input._data).astype(input._data.dtype))


_ = device_of
