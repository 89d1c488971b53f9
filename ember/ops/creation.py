"""Tensor creation: from data, filled, ranges, and random (through ``ember.random``).

Inference and casts follow torch: Python floats give the default dtype, ints int64, bools bool;
NumPy scalars and 0-d tensors inside lists keep their dtype (promoted together); explicit integer
dtypes range-check Python numbers ("value cannot be converted to type int8 without overflow").
"""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any

import numpy as np

from ember import dtypes
from ember.autograd.grad_mode import state as gm
from ember.autograd.node import record
from ember.backends import array_module
from ember.backends import device as _device
from ember.ops._core import cast_array
from ember.random import _gen
from ember.size import Size
from ember.tensor import Tensor, _make, _tname

__all__ = [
    "tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
    "zeros_like", "ones_like", "full_like", "empty_like", "arange", "range", "linspace",
    "logspace", "eye", "rand", "randn", "randint", "randperm", "rand_like", "randn_like",
    "randint_like", "normal", "bernoulli", "multinomial", "poisson", "scalar_tensor",
    "empty_strided", "frombuffer", "tril_indices", "triu_indices", "complex",
]  # fmt: skip

_pybool, _pyint, _pyfloat, _pyrange = builtins.bool, builtins.int, builtins.float, builtins.range
_F64, _I64, _BOOL = np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_)


# ------------------------------------------------------------------------------------ helpers
def _size_error(name: str, s: Any, nested: bool, pos: int) -> TypeError:
    t = type(s).__name__
    if nested:
        return TypeError(
            f"{name}(): argument 'size' failed to unpack the object at pos {pos + 1} with error "
            f'"type must be tuple of ints,but got {t}"'
        )
    return TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not {t}")


def _shape(size: tuple, name: str = "empty") -> tuple[int, ...]:
    """A shape from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(ember.Size(...))``."""
    dims = size[0] if len(size) == 1 and size[0].__class__ in (tuple, list, Size) else size
    for s in dims:  # fast path: non-negative Python ints
        if s.__class__ is not int or s < 0:
            return _shape_slow(size, name)
    return tuple(dims)


def _shape_slow(size: tuple, name: str) -> tuple[int, ...]:
    nested = False
    if len(size) == 1 and size[0].__class__ is not int:
        s0 = size[0]
        if isinstance(s0, list | tuple):
            size, nested = tuple(s0), True
        elif isinstance(s0, str | _pyfloat | np.floating):
            raise _size_error(name, s0, False, 0)
    out = []
    for i, s in enumerate(size):
        if s.__class__ is not int:
            if isinstance(s, _pybool | _pyfloat | np.floating | np.bool_) or not hasattr(
                s, "__index__"
            ):
                raise _size_error(name, s, nested, i)
            try:
                s = s.__index__()  # NumPy ints, 0-d integer tensors
            except TypeError:
                raise _size_error(name, s, nested, i) from None
        out.append(s)
    for s in out:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


def _size_arg(size: tuple, kw: dict, name: str) -> tuple[int, ...]:
    if not kw:
        return _shape(size, name)
    if "size" in kw:
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (kw.pop("size"),)
    for k in ("layout", "pin_memory", "memory_format"):
        kw.pop(k, None)
    if kw:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kw))}'")
    return _shape(size, name)


def _check_rg(dt: Any, requires_grad: bool) -> None:
    if requires_grad and dt.kind != "f" and dt.name != "bfloat16":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")


def _finish(arr: Any, device: Any, requires_grad: bool, out: Any = None) -> Tensor:
    if requires_grad:
        _check_rg(arr.dtype, requires_grad)
    if device is not None:
        dev = _device(device)
        if dev.type != "cpu":
            xp = array_module(dev)
            with xp.cuda.Device(dev.index or 0):
                arr = xp.asarray(arr)
    if out is not None:
        return _write_out(out, arr)
    t = _make(arr)
    if requires_grad:
        t._rg = True
    return t


def _write_out(out: Tensor, arr: Any) -> Tensor:
    """torch's ``out=``: the result lands in `out` (resized to the result's shape)."""
    if out._data.shape == arr.shape:
        out._data[...] = arr
    else:
        out._data = arr.astype(out._data.dtype, copy=True)
    out._vc[0] += 1
    return out


def _dt(dtype: Any, default: dtypes.dtype | None = None) -> Any:
    return (dtypes.as_dtype(dtype) if dtype is not None else default or dtypes._default).np


def _xp(device: Any) -> Any:
    return np if device is None else array_module(_device(device))


def _on(device: Any, fn: Any) -> Any:
    """Run fn(xp) on the device (CuPy arrays are created on the requested GPU)."""
    if device is None:
        return fn(np)
    dev = _device(device)
    if dev.type == "cpu":
        return fn(np)
    xp = array_module(dev)
    with xp.cuda.Device(dev.index or 0):
        return fn(xp)


def _overflow(dt: Any) -> RuntimeError:
    return RuntimeError(f"value cannot be converted to type {dt.name} without overflow")


# dtype -> (low, high) that torch accepts for a Python number before the cast: uint8 takes
# negative ints down to -255 (they wrap), floats must lie in [min, max]
_INT_LIMITS = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max))
               for t in (np.int8, np.int16, np.int32, np.int64, np.uint8)}  # fmt: skip


_CPP_NAMES = {
    "int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
    "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
    "bool": "bool",
}  # fmt: skip


_FLOAT_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
              "float32": float(np.finfo(np.float32).max), "float64": math.inf}  # fmt: skip


def _scalar_to(v: Any, dn: Any) -> Any:
    """c10's ``Scalar.to<T>()``: a range-checked conversion of one Python number to dtype `dn`."""
    if dn.kind in "iu":
        lo, hi = _INT_LIMITS[dn]
        if isinstance(v, _pyfloat):
            ok = math.isfinite(v) and lo <= v <= hi
        else:
            v = int(v)
            ok = v <= hi and v >= (-hi if dn.kind == "u" else lo)  # uint8 lets -255..-1 wrap
        if not ok:
            raise RuntimeError(
                f"value cannot be converted to type {_CPP_NAMES[dn.name]} without overflow"
            )
        return int(np.asarray(int(v)).astype(np.int64).astype(dn))
    if dn.kind == "b":
        return bool(v)
    f = float(v)
    if math.isfinite(f) and abs(f) > _FLOAT_MAX[dn.name]:
        raise RuntimeError(
            f"value cannot be converted to type {_CPP_NAMES[dn.name]} without overflow"
        )
    return float(cast_array(np.asarray(f), dn))


def _checked_cast(arr: np.ndarray, dt: Any) -> np.ndarray:
    """Cast exact Python values (float64/int64/bool) to `dt`, refusing out-of-range ints."""
    if arr.dtype == dt:
        return arr
    if dt.kind in "iu" and arr.dtype.kind in "if":
        lo, hi = _INT_LIMITS[dt]
        if arr.size:
            if arr.dtype.kind == "f":
                mx, mn = arr.max(), arr.min()
                too_big = mx > hi if hi < 2**53 else mx >= float(hi)  # int64 max isn't a double
                if not np.isfinite(arr).all() or mn < lo or too_big:
                    raise _overflow(dt)
            elif arr.min() < (-hi if dt.kind == "u" else lo) or arr.max() > hi:
                raise _overflow(dt)
    return cast_array(arr, dt)


# ------------------------------------------------------------------------------- from data
def _scalar_dtype(x: Any) -> dtypes.dtype:
    c = x.__class__
    if c is _pyfloat:
        return dtypes._default
    if c is _pyint:
        return dtypes.int64
    if c is _pybool:
        return dtypes.bool
    if isinstance(x, np.generic):
        if isinstance(x, np.complexfloating):
            raise TypeError("complex tensors are not supported by ember")
        return dtypes.from_np(x.dtype)
    if isinstance(x, _pybool):
        return dtypes.bool
    if isinstance(x, _pyint):
        return dtypes.int64
    if isinstance(x, _pyfloat):
        return dtypes._default
    if isinstance(x, builtins.complex):
        raise TypeError("complex tensors are not supported by ember")
    if isinstance(x, str):
        raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


_NUM_TYPES = {_pyfloat, _pyint, _pybool}


def _scan(x: Any, found: dict) -> None:
    """Collect the dtypes of the leaves of nested data into `found` (dtype -> None)."""
    if isinstance(x, list | tuple | _pyrange):
        types = set(map(type, x))
        if types <= _NUM_TYPES:  # the common case: a flat list of Python numbers
            for t in types:
                found[_scalar_dtype(t())] = None
            return
        for e in x:
            _scan(e, found)
    elif isinstance(x, Tensor):
        if x._data.ndim and x._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        found[x.dtype] = None
        found[Tensor] = None  # marks that tensors must be unwrapped
    elif isinstance(x, np.ndarray):
        found[dtypes.from_np(x.dtype)] = None
    else:
        found[_scalar_dtype(x)] = None


def _unwrap(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x._host().reshape(())
    if isinstance(x, list | tuple):
        return [_unwrap(e) for e in x]
    return x


def _ragged(data: Any) -> Exception:
    """torch's message for nested lists that don't form a rectangular array."""

    def seq(x: Any) -> bool:
        return isinstance(x, list | tuple | _pyrange) or (
            isinstance(x, np.ndarray | Tensor) and x.ndim > 0 and x.shape[0] != 1
        )

    sizes = []
    x = data
    while seq(x):
        sizes.append(len(x))
        if not len(x):
            break
        x = x[0]

    def check(x: Any, dim: int) -> Exception | None:
        if dim == len(sizes):
            if seq(x):
                return TypeError(f"'{type(x).__name__}' object cannot be interpreted as an integer")
            return None
        if not seq(x):
            return TypeError("not a sequence")
        if len(x) != sizes[dim]:
            return ValueError(
                f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)})"
            )
        for e in x:
            err = check(e, dim + 1)
            if err is not None:
                return err
        return None

    return check(data, 0) or ValueError("expected a rectangular nested sequence")


def _from_data(data: Any, dtype: Any) -> np.ndarray:
    """A new NumPy array with `data`'s values, in `dtype` or the dtype torch infers."""
    if isinstance(data, np.ndarray):
        d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.from_np(data.dtype)
        return cast_array(data, d.np) if data.dtype != d.np else data.copy()
    found: dict = {}
    _scan(data, found)
    has_tensor = found.pop(Tensor, False) is None
    inferred = dtypes._default
    if found:
        it = iter(found)
        inferred = next(it)
        for d in it:
            inferred = dtypes.promote_types(inferred, d)
    target = dtypes.as_dtype(dtype) if dtype is not None else inferred
    if has_tensor:
        data = _unwrap(data)
    # build with exact values first (Python floats are doubles, ints int64), then cast as torch
    wide = _F64 if inferred.is_floating_point else _I64 if inferred is not dtypes.bool else _BOOL
    try:
        arr = np.array(data, dtype=wide)
    except ValueError as e:
        if "inhomogeneous" in str(e) or "sequence" in str(e):
            raise _ragged(data) from None
        raise
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None
    except TypeError:
        raise _ragged(data) from None
    if not found:  # empty nested lists: [] -> (0,), [[]] -> (1, 0)
        return arr.astype(target.np)
    return _checked_cast(arr, target.np)


def tensor(
    data: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, scalars, arrays or tensors)."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
        d = dtypes.as_dtype(dtype).np if dtype is not None else data._data.dtype
        a = data._data
        arr = cast_array(a, d) if a.dtype != d else a.copy()
        if device is None and data.is_cuda:
            device = data.device
        return _finish(arr, device, requires_grad)
    return _finish(_from_data(data, dtype), device, requires_grad)


def scalar_tensor(
    s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A 0-d tensor of `s`, in the default dtype unless `dtype` is given."""
    if isinstance(s, Tensor):
        s = s.item()
    d = dtypes.as_dtype(dtype) if dtype is not None else dtypes._default
    return _finish(cast_array(np.asarray(s), d.np), device, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like `tensor`, but shares memory with a tensor or NumPy array when no copy is needed."""
    if isinstance(data, Tensor):
        t = data if dtype is None else data.to(dtype)
        return t if device is None else t.to(device)
    if isinstance(data, np.ndarray) and (device is None or _device(device).type == "cpu"):
        d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.from_np(data.dtype)
        return _make(data if data.dtype == d.np else cast_array(data, d.np))
    return tensor(data, dtype=dtype, device=device)


def asarray(
    obj: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    copy: bool | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """torch.asarray: share memory with tensors/arrays when possible (``copy=True`` forces a copy,
    ``copy=False`` refuses one)."""
    if isinstance(obj, Tensor | np.ndarray):
        src = obj if isinstance(obj, Tensor) else None
        a = obj._data if src is not None else obj
        d = dtypes.as_dtype(dtype).np if dtype is not None else None
        if src is None and d is None:
            d = dtypes.from_np(a.dtype).np
        same_dev = device is None or (
            src.device == _device(device) if src is not None else _device(device).type == "cpu"
        )
        needs = (d is not None and a.dtype != d) or not same_dev
        if copy is False and needs:
            raise ValueError("can't alias tensor from a different dtype or device without a copy")
        if not needs and not copy:
            t = _make(a)
            if src is not None:
                t._vc = src._vc
                t._rg = src._rg if not requires_grad else True
                t.grad_fn, t._out_nr = src.grad_fn, src._out_nr
            if requires_grad:
                _check_rg(a.dtype, True)
                t._rg = True
            return t
        r = obj if src is not None else _make(a)
        r = r.to(device=device, dtype=d and dtypes.from_np(d), copy=bool(copy) or not needs)
        if requires_grad:
            r = r.detach().requires_grad_()
        return r
    if copy is False:
        raise ValueError("can't alias a Python sequence: a copy is needed")
    return tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (writes show through both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    d = dtypes.from_np(ndarray.dtype)
    if d.np != ndarray.dtype:  # uint16/32/64 have no ember dtype: no way to share memory
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{ndarray.dtype}: ember has no such dtype "
            "(use ember.tensor(array) to copy it into int64)"
        )
    return _make(ndarray)


def frombuffer(
    buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False
) -> Tensor:
    """A 1-D tensor over a Python buffer (shares its memory)."""
    arr = np.frombuffer(buffer, dtype=dtypes.as_dtype(dtype).np, count=count, offset=offset)
    return _finish(arr, None, requires_grad)


# ---------------------------------------------------------------------------------- filled
def zeros(*size: Any, out: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """A tensor of zeros."""
    shape, d = _size_arg(size, kw, "zeros"), _dt(dtype)
    return _finish(_on(device, lambda xp: xp.zeros(shape, d)), None, requires_grad, out)


def ones(*size: Any, out: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """A tensor of ones."""
    shape, d = _size_arg(size, kw, "ones"), _dt(dtype)
    return _finish(_on(device, lambda xp: xp.ones(shape, d)), None, requires_grad, out)


def empty(*size: Any, out: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """An uninitialised tensor (ember zero-fills it: same cost, no garbage)."""
    shape, d = _size_arg(size, kw, "empty"), _dt(dtype)
    return _finish(_on(device, lambda xp: xp.zeros(shape, d)), None, requires_grad, out)


def empty_strided(size: Any, stride: Any, *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """An uninitialised tensor (the strides are NumPy's own)."""
    return empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _fill_value(v: Any) -> Any:
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _fill_array(xp: Any, shape: tuple, value: Any, d: Any) -> Any:
    return xp.full(shape, _scalar_to(value, d), d)  # torch's checked Scalar conversion


def full(size: Any, fill_value: Any, *, out: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """A tensor filled with `fill_value` (dtype inferred from it as torch does)."""
    if isinstance(size, int | np.integer):
        raise TypeError("full(): argument 'size' (position 1) must be tuple of ints, not int")
    shape = _size_arg((size,), kw, "full")
    v = _fill_value(fill_value)
    d = dtypes.as_dtype(dtype).np if dtype is not None else _scalar_dtype(v).np
    return _finish(_on(device, lambda xp: _fill_array(xp, shape, v, d)), None, requires_grad, out)


def _like(input: Tensor, dtype: Any, device: Any, kw: dict, name: str) -> tuple[Any, Any]:
    for k in ("layout", "pin_memory", "memory_format"):
        kw.pop(k, None)
    if kw:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kw))}'")
    d = dtypes.as_dtype(dtype).np if dtype is not None else input._data.dtype
    return (input.device if device is None else device), d


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """Zeros with `input`'s shape, dtype and device (unless given)."""
    dev, d = _like(input, dtype, device, kw, "zeros_like")
    shape = input._data.shape
    return _finish(_on(dev, lambda xp: xp.zeros(shape, d)), None, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """Ones with `input`'s shape, dtype and device (unless given)."""
    dev, d = _like(input, dtype, device, kw, "ones_like")
    shape = input._data.shape
    return _finish(_on(dev, lambda xp: xp.ones(shape, d)), None, requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """An uninitialised (zero-filled) tensor like `input`."""
    dev, d = _like(input, dtype, device, kw, "empty_like")
    shape = input._data.shape
    return _finish(_on(dev, lambda xp: xp.zeros(shape, d)), None, requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """`fill_value` with `input`'s shape, dtype and device (unless given)."""
    dev, d = _like(input, dtype, device, kw, "full_like")
    shape, v = input._data.shape, _fill_value(fill_value)
    return _finish(_on(dev, lambda xp: _fill_array(xp, shape, v, d)), None, requires_grad)


# ----------------------------------------------------------------------------------- ranges
def _num(v: Any) -> Any:
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, np.generic):
        v = v.item()
    return v


_LD_EXACT = np.finfo(np.longdouble).nmant >= 63  # x87 extended: emulates a double FMA


def _fma(a: Any, b: Any, c: Any, acc: Any) -> Any:
    """a * b + c rounded once to `acc` (float64 or float32), as the FMA in torch's kernels."""
    if acc is np.float32:
        return (np.float64(a) * np.float64(b) + np.float64(c)).astype(np.float32)
    if _LD_EXACT:
        ld = np.longdouble
        return (ld(a) * np.asarray(b, ld) + ld(c)).astype(np.float64)
    return np.float64(a) * np.asarray(b, np.float64) + np.float64(c)


def _float_arange(s: float, st: float, n: int, dn: Any) -> np.ndarray:
    """torch's CPU arange kernel: 256-bit vectors, two per step, each from its own base; the
    tail element by element; start + step * i fused into one rounding."""
    acc = np.float32 if dn.itemsize == 2 else np.float64  # torch's acc_type on CPU
    v = 32 // dn.itemsize
    m = n // (2 * v) * (2 * v)
    i = np.arange(n)
    out = np.empty(n, dn)
    if m:
        base_i = i[:m] // v * v
        base = _fma(acc(st), base_i.astype(acc), acc(s), acc).astype(dn).astype(acc)
        out[:m] = _fma((i[:m] - base_i).astype(acc), acc(st), base, acc).astype(dn)
    out[m:] = _fma(acc(st), i[m:].astype(acc), acc(s), acc).astype(dn)
    return out


def arange(start: Any = None, end: Any = None, step: Any = 1, *, out: Any = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False,
           **kw: Any) -> Tensor:  # fmt: skip
    """Values from start (inclusive) to end (exclusive) by step; ints give int64."""
    if end is None:
        if start is None:
            raise TypeError("arange() missing required argument 'end'")
        start, end = 0, start
    elif start is None:
        start = 0
    s, e, st = _num(start), _num(end), _num(step)
    if dtype is None:
        any_float = any(isinstance(v, _pyfloat) for v in (s, e, st))
        d = dtypes._default if any_float else dtypes.int64
    else:
        d = dtypes.as_dtype(dtype)
    dn = d.np
    ds, de, dst = float(s), float(e), float(st)
    if dst == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(ds) and math.isfinite(de)):
        raise RuntimeError(f"unsupported range: {ds:g} -> {de:g}")
    if not ((dst > 0 and de >= ds) or (dst < 0 and de <= ds)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dn.kind in "iub":  # integral kernels run in int64 on truncated arguments
        si, ei, sti = (_scalar_to(v, _I64) for v in (s, e, st))
        if d is dtypes.int64:
            if sti == 0:
                raise ValueError("step must be nonzero")
            n = (ei - si + sti - (1 if sti > 0 else -1)) // sti
        else:
            n = math.ceil((de - ds) / dst)
        arr = cast_array(np.arange(n, dtype=np.int64) * sti + si, dn)
    else:
        arr = _float_arange(ds, dst, math.ceil((de - ds) / dst), dn)
    return _finish(arr, device, requires_grad, out)


def range(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None,
          device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """Deprecated torch.range: end inclusive, default float dtype."""
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior "
        "is inconsistent with Python's range builtin. Instead, use torch.arange, which produces "
        "values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    if end is None:
        start, end = 0, start
    s, e, st = _num(start), _num(end), _num(step)
    n = math.floor((e - s) / st) + 1
    arr = cast_array(s + np.arange(n, dtype=np.float64) * st, _dt(dtype))
    return _finish(arr, device, requires_grad)


def _steps(steps: Any) -> int:
    if isinstance(steps, Tensor):
        steps = steps.item()
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return int(steps)


def linspace(start: Any, end: Any, steps: int, *, out: Any = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """`steps` evenly spaced values from start to end inclusive (computed as torch's kernel)."""
    s, e, n = _num(start), _num(end), _steps(steps)
    dn = _dt(dtype)
    if n == 0:
        arr = np.zeros(0, dn)
    elif n == 1:
        arr = np.asarray([_scalar_to(s, dn)]).astype(dn)
    else:
        half = n // 2
        idx = np.arange(n)
        if dn.kind in "iub":  # integral: start/end cast to the dtype, step in double
            si, ei = _scalar_to(s, dn), _scalar_to(e, dn)
            stp = (ei - si) / (n - 1)
            lo = _fma(stp, idx[:half], si, np.float64)
            hi = _fma(-stp, n - idx[half:] - 1, ei, np.float64)
            arr = cast_array(np.concatenate([lo, hi]), dn)
        elif dn.itemsize == 2:  # half types: each operation rounds to the dtype
            c = dn.type
            sv, ev = c(_scalar_to(s, dn)), c(_scalar_to(e, dn))
            stp = (ev - sv) / c(n - 1)
            lo = sv + stp * idx[:half].astype(dn)
            hi = ev - stp * (n - idx[half:] - 1).astype(dn)
            arr = np.concatenate([lo, hi]).astype(dn)
        else:  # float32/64: in the dtype, from both ends, multiply-add fused as torch's kernel
            acc = dn.type
            sv, ev = acc(_scalar_to(s, dn)), acc(_scalar_to(e, dn))
            stp = (ev - sv) / acc(n - 1)
            lo = _fma(stp, idx[:half].astype(dn), sv, acc)
            hi = _fma(-stp, (n - idx[half:] - 1).astype(dn), ev, acc)
            arr = np.concatenate([lo, hi]).astype(dn)
    return _finish(arr, device, requires_grad, out)


def _pow(base: float, x: float) -> float:
    """C's pow (glibc, correctly rounded in practice): NumPy's SIMD pow may differ by an ulp."""
    try:
        return math.pow(base, x)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, out: Any = None,
             dtype: Any = None, device: Any = None, requires_grad: bool = False,
             **kw: Any) -> Tensor:  # fmt: skip
    """`steps` values base**x for x evenly spaced from start to end inclusive (torch's kernel:
    endpoints in the dtype, exponents in double from both ends)."""
    s, e, n = _num(start), _num(end), _steps(steps)
    dn, base = _dt(dtype), float(base)
    if n == 0:
        xs: list = []
    elif n == 1:
        xs = [float(s)]
    else:
        sv, ev = float(_scalar_to(s, dn)), float(_scalar_to(e, dn))
        if dn.kind in "iub":
            diff = ev - sv
        else:
            c = dn.type
            diff = float(c(c(ev) - c(sv)))
        stp = diff / (n - 1)
        half = n // 2
        xs = [sv + stp * i for i in _pyrange(half)]
        xs += [ev - stp * (n - i - 1) for i in _pyrange(half, n)]
    arr = cast_array(np.array([_pow(base, x) for x in xs], np.float64), dn)
    return _finish(arr, device, requires_grad, out)


def eye(n: int, m: int | None = None, *, out: Any = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """Identity matrix (n x m)."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    d = _dt(dtype)
    return _finish(_on(device, lambda xp: xp.eye(n, m, dtype=d)), None, requires_grad, out)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, **kw: Any) -> Tensor:  # fmt: skip
    """Indices (2, N) of the lower triangle of a row x col matrix."""
    r, c = np.tril_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(_dt(dtype, dtypes.int64)), device, False)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, **kw: Any) -> Tensor:  # fmt: skip
    """Indices (2, N) of the upper triangle of a row x col matrix."""
    r, c = np.triu_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(_dt(dtype, dtypes.int64)), device, False)


def complex(real: Any, imag: Any) -> Tensor:
    raise NotImplementedError("complex tensors are not supported by ember")


# ------------------------------------------------------------------------------------ random
def _float_only(dn: Any, kernel: str) -> None:
    if dn.kind != "f" and dn.name != "bfloat16":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_tname(dtypes.from_np(dn))}'"
        )


def _uniform(g: np.random.Generator, shape: tuple, dn: Any) -> np.ndarray:
    """Uniform [0, 1) samples in dtype `dn` (never 1.0 after rounding)."""
    if dn == np.float64:
        return g.random(shape)
    a = g.random(shape, dtype=np.float32)
    if dn != np.float32:
        a = a.astype(dn)
        a[a >= 1] = np.nextafter(dn.type(1), dn.type(0))
    return a


def _normal(g: np.random.Generator, shape: tuple, dn: Any) -> np.ndarray:
    if dn == np.float64:
        return g.standard_normal(shape)
    a = g.standard_normal(shape, dtype=np.float32)
    return a if dn == np.float32 else a.astype(dn)


def rand(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None,
         device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """Uniform samples on [0, 1)."""
    shape, dn = _size_arg(size, kw, "rand"), _dt(dtype)
    _float_only(dn, "check_uniform_bounds")
    return _finish(_uniform(_gen(generator), shape, dn), device, requires_grad, out)


def randn(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None,
          device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """Standard normal samples."""
    shape, dn = _size_arg(size, kw, "randn"), _dt(dtype)
    _float_only(dn, "normal_kernel_cpu")
    return _finish(_normal(_gen(generator), shape, dn), device, requires_grad, out)


def _int_arg(v: Any, name: str, pos: int) -> int:
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, _pybool) or not isinstance(v, _pyint | np.integer):
        raise TypeError(
            f"randint(): argument '{name}' (position {pos}) must be int, not {type(v).__name__}"
        )
    return int(v)


def _randint_array(g: Any, low: int, high: int, shape: tuple, dn: Any) -> np.ndarray:
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    if dn.kind in "iu":
        lo, hi = _INT_LIMITS[dn]
        if high - 1 > hi:
            raise RuntimeError(f"to - 1 is out of bounds for {_CT.get(dn.name, dn.name)}")
        if low < lo:
            raise RuntimeError(f"from is out of bounds for {_CT.get(dn.name, dn.name)}")
    return g.integers(low, high, shape, dtype=np.int64).astype(dn)


_CT = {"uint8": "unsigned char", "int8": "signed char", "int16": "short", "int32": "int",
       "int64": "long"}  # fmt: skip


def randint(*args: Any, generator: Any = None, out: Any = None, dtype: Any = None,
            device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    low, high, size = kw.pop("low", None), kw.pop("high", None), kw.pop("size", None)
    args = list(args)
    if size is None and args and isinstance(args[-1], tuple | list):
        size = args.pop()
    elif size is None and len(args) >= 2:
        raise TypeError(
            f"randint(): argument 'size' (position {len(args)}) must be tuple of ints, not "
            f"{type(args[-1]).__name__}"
        )
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif len(args) > 2:
        raise TypeError(
            f"randint(): argument 'size' (position {len(args)}) must be tuple of ints, not "
            f"{type(args[-1]).__name__}"
        )
    if size is None or high is None:
        raise TypeError("randint() missing required arguments 'high' and 'size'")
    pos = 2 if low is not None else 1
    low = 0 if low is None else _int_arg(low, "low", 1)
    high = _int_arg(high, "high", pos)
    shape = _size_arg((size,), kw, "randint")
    dn = _dt(dtype, dtypes.int64)
    _check_rg(dn, requires_grad)
    arr = _randint_array(_gen(generator), low, high, shape, dn)
    return _finish(arr, device, requires_grad, out)


def randperm(n: int, *, generator: Any = None, out: Any = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """A random permutation of 0..n-1."""
    n = _shape((n,), "randperm")[0]
    arr = _gen(generator).permutation(n).astype(_dt(dtype, dtypes.int64))
    return _finish(arr, device, requires_grad, out)


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, generator: Any = None, **kw: Any) -> Tensor:  # fmt: skip
    """Uniform [0, 1) samples like `input`."""
    dev, dn = _like(input, dtype, device, kw, "rand_like")
    _float_only(dn, "check_uniform_bounds")
    return _finish(_uniform(_gen(generator), input._data.shape, dn), dev, requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, generator: Any = None,
               **kw: Any) -> Tensor:  # fmt: skip
    """Standard normal samples like `input`."""
    dev, dn = _like(input, dtype, device, kw, "randn_like")
    _float_only(dn, "normal_kernel_cpu")
    return _finish(_normal(_gen(generator), input._data.shape, dn), dev, requires_grad)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False, generator: Any = None,
                 **kw: Any) -> Tensor:  # fmt: skip
    """Integers uniform on [low, high) like `input` (``randint_like(x, high)`` too)."""
    if high is None:
        low, high = 0, low
    dev, dn = _like(input, dtype, device, kw, "randint_like")
    arr = _randint_array(_gen(generator), int(low), int(high), input._data.shape, dn)
    return _finish(arr, dev, requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           out: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           **kw: Any) -> Tensor:  # fmt: skip
    """Normal samples with (broadcast) mean and std, tensors or floats."""
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not ts and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if ts and std._data.size and bool((std._data < 0).any()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not tm and not ts:
        if size is None:
            raise TypeError(
                "normal() received an invalid combination of arguments - got (float, float): "
                "pass a size, or a tensor mean or std"
            )
        shape = _shape((size,) if isinstance(size, int) else tuple(size), "normal")
        dn = _dt(dtype)
        arr = _normal(_gen(generator), shape, dn)
        with np.errstate(over="ignore"):
            arr = (arr * dn.type(std) + dn.type(mean)).astype(dn)
        return _finish(arr, device, requires_grad, out)
    m = mean._data if tm else mean
    s = std._data if ts else std
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    d = dtypes.result_type(*[x for x in (mean, std) if isinstance(x, Tensor)]).np
    _float_only(d, "normal_kernel_cpu")
    ref = mean if tm else std
    arr = (_normal(_gen(generator), shape, d) * s + m).astype(d)
    if ref.is_cuda:
        arr = ref.xp.asarray(arr)
    r = _make(arr)
    if gm.enabled and ((tm and mean._rg) or (ts and std._rg)):
        from ember.ops.elementwise import ZeroGradBackward  # torch: zero grad to mean and std

        name = "NormalBackward3" if tm and ts else "NormalBackward1" if tm else "NormalBackward2"
        record(ZeroGradBackward, r, (mean if tm else None, std if ts else None), args=name)
    return _write_out(out, r._data) if out is not None else r


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None, out: Any = None) -> Tensor:
    """Samples 1 with probability `input` (or `p`), else 0, in input's dtype."""
    probs = input._data if p is None else p
    if p is not None and not 0 <= p <= 1:
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    u = _gen(generator).random(input._data.shape)
    r = _make((u < probs).astype(input._data.dtype))
    return _write_out(out, r._data) if out is not None else r


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:  # fmt: skip
    """Sample category indices from (unnormalised) row weights."""
    w = np.asarray(input._data, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if (w < 0).any() or not np.isfinite(w).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    g = _gen(generator)
    res = np.empty((rows.shape[0], num_samples), np.int64)
    for i, r in enumerate(rows):
        s = r.sum()
        if s <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        res[i] = g.choice(len(r), size=num_samples, replace=replacement, p=r / s)
    return _make(res.reshape(w.shape[:-1] + (num_samples,)))


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    """Poisson samples with rates `input`."""
    return _make(_gen(generator).poisson(input._data).astype(input._data.dtype))
