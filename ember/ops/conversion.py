"""dtype/device conversion, clone/contiguous, and the basic in-place fills (copy_, zero_, fill_)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import dtypes
from ember.backends import array_module, device as _device
from ember.ops._core import Node, Tensor, _make, check_inplace, commit_inplace, gm, record, wrap
from ember.tensor import tensor_method

__all__ = ["clone"]


class ToCopyBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (g,)  # the engine casts back to the input's dtype (and device: see `to`)


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (g,)


def _parse_to(args: tuple, kwargs: dict) -> tuple[Any, Any]:
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, dtypes.dtype) or (isinstance(a, type) and a in (float, int, bool)):
            dt = a
        elif isinstance(a, str | _device | int) and not isinstance(a, bool):
            dev = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    return (None if dev is None else _device(dev)), (None if dt is None else dtypes.as_dtype(dt))


@tensor_method
def to(self: Tensor, *args: Any, non_blocking: bool = False, copy: bool = False, memory_format: Any = None, **kwargs: Any) -> Tensor:
    """Convert dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(other)``, ``to('cuda', ...)``."""
    dev, dt = _parse_to(args, kwargs)
    a = self._data
    cur_dev = self.device
    same_dev = dev is None or dev == cur_dev or (dev.type == cur_dev.type and dev.index is None)
    same_dt = dt is None or dt.np == a.dtype
    if same_dev and same_dt and not copy:
        return self
    if not same_dev:
        if dev.type == "cpu":
            a = a.get()
        else:
            cp = array_module(dev)
            with cp.cuda.Device(dev.index or 0):
                a = cp.asarray(a)
    if not same_dt:
        a = a.astype(dt.np)
    elif copy and same_dev:
        a = a.copy()
    r = _make(a)
    if gm.enabled and self._rg:
        if not same_dev:
            record(ToDeviceBackward, r, (self,), args=cur_dev)
        else:
            record(ToCopyBackward0, r, (self,))
    return r


class ToDeviceBackward(Node):
    __slots__ = ()

    def name(self) -> str:
        return "ToCopyBackward0"

    def backward(self, F: Any, g: Any) -> tuple:
        dev = self.args
        if hasattr(g, "_data"):
            return (g.to(dev),)
        return ((g.get() if dev.type == "cpu" else array_module(dev).asarray(g)),)


def _cast(name: str, dt: Any) -> None:
    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        return to(self, dt)

    method.__name__ = name
    method.__doc__ = f"``self.to({dt})``"
    setattr(Tensor, name, method)


for _n, _d in (
    ("float", dtypes.float32), ("double", dtypes.float64), ("half", dtypes.float16),
    ("long", dtypes.int64), ("int", dtypes.int32), ("short", dtypes.int16), ("char", dtypes.int8),
    ("byte", dtypes.uint8), ("bool", dtypes.bool),
):  # fmt: skip
    _cast(_n, _d)
if dtypes.bfloat16 is not None:
    _cast("bfloat16", dtypes.bfloat16)


@tensor_method
def type(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:  # noqa: A001
    """With no argument, the type name ('ember.FloatTensor'); else a cast."""
    if dtype is None:
        names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor", "bfloat16": "BFloat16Tensor"}
        return "ember." + ("cuda." if self.is_cuda else "") + names[self.dtype.name]
    if isinstance(dtype, str):
        table = {"FloatTensor": "float32", "DoubleTensor": "float64", "LongTensor": "int64", "IntTensor": "int32", "HalfTensor": "float16", "BoolTensor": "bool", "ByteTensor": "uint8"}
        dtype = table.get(dtype.split(".")[-1], dtype)
    return to(self, dtypes.as_dtype(dtype))


@tensor_method
def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other.dtype)


@tensor_method
def cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    return to(self, "cpu")


@tensor_method
def cuda(self: Tensor, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
    dev = _device("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}")
    return to(self, dev)


@tensor_method
def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy with its own storage, still connected to the graph."""
    r = _make(input._data.copy())
    if gm.enabled and input._rg:
        record(CloneBackward0, r, (input,))
    return r


@tensor_method
def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    """Itself if C-contiguous, else a contiguous copy (connected to the graph)."""
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


@tensor_method
def is_contiguous(input: Tensor, memory_format: Any = None) -> bool:
    return bool(input._data.flags.c_contiguous)


@tensor_method
def stride(input: Tensor, dim: int | None = None) -> Any:
    st = tuple(s // input._data.itemsize for s in input._data.strides)
    return st if dim is None else st[dim]


@tensor_method
def data_ptr(input: Tensor) -> int:
    a = input._data
    return int(a.__array_interface__["data"][0]) if a.__class__ is np.ndarray else int(a.data.ptr)


@tensor_method
def untyped_storage(input: Tensor) -> Any:
    base = input._data
    while getattr(base, "base", None) is not None and hasattr(base.base, "shape"):
        base = base.base
    return base


@tensor_method
def storage_offset(input: Tensor) -> int:
    base = untyped_storage(input)
    return (data_ptr(input) - int(base.__array_interface__["data"][0])) // input._data.itemsize


class CopyBackwards(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return F.zeros_like(g), g


@tensor_method
def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy `src` (broadcast, cast, moved across devices) into self's storage."""
    check_inplace(self, "copy_")
    if not isinstance(src, Tensor):
        from ember.ops.creation import tensor

        src = tensor(src)
    sa = src._data
    if sa.__class__ is not self._data.__class__:
        sa = sa.get() if self.is_cpu else self.xp.asarray(sa)
    r = _make(np.broadcast_to(sa, self._data.shape).astype(self._data.dtype) if self.is_cpu else self.xp.broadcast_to(sa, self._data.shape).astype(self._data.dtype))
    if gm.enabled and (self._rg or src._rg):
        record(CopyBackwards, r, (self, src))
    _commit_any_dtype(self, r)
    return self


def _commit_any_dtype(self: Tensor, r: Tensor) -> None:
    commit_inplace(self, r, "copy_")


@tensor_method
def zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    return fill_(self, 0)


class FillBackward(Node):
    __slots__ = ()

    def name(self) -> str:
        return "FillBackward0"

    def backward(self, F: Any, g: Any) -> tuple:
        if len(self.edges) == 1:
            return (F.zeros_like(g),)
        return F.zeros_like(g), F.sum(g)


@tensor_method
def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with `value` (a number or a 0-d tensor) in place."""
    check_inplace(self, "fill_")
    v = value._data if isinstance(value, Tensor) else value
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions.")
    self._data[...] = v
    self._vc[0] += 1
    self._vc[1] = ("fill_", None)
    if gm.enabled and (self._rg or (isinstance(value, Tensor) and value._rg)):
        tmp = wrap(self._data)
        record(FillBackward, tmp, (self,) if not isinstance(value, Tensor) else (self, value))
        self.grad_fn, self._out_nr, self._rg = tmp.grad_fn, 0, True
    return self


@tensor_method
def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    from ember.ops.creation import tensor

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _new_factory(name: str) -> None:
    def method(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
        from ember.ops import creation

        fn = getattr(creation, name)
        if name == "full":
            return fn(size[0], size[1], dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    method.__name__ = "new_" + name
    setattr(Tensor, "new_" + name, method)


for _n in ("zeros", "ones", "empty", "full"):
    _new_factory(_n)
