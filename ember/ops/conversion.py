"""dtype/device conversion, clone/contiguous, and the basic in-place fills (copy_, zero_, fill_)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import dtypes
from ember.backends import array_module
from ember.backends import device as _device
from ember.ops._core import (
    Node,
    Tensor,
    _make,
    cast_array,
    check_inplace,
    commit_inplace,
    gm,
    record,
    wrap,
)  # fmt: skip
from ember.tensor import _TNAMES, tensor_method
from ember.tensor import _LegacyTensorType as LegacyType

__all__ = ["clone"]


class ToCopyBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (g,)  # the engine casts back to the input's dtype (and device: see `to`)


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (g,)


def _parse_to(args: tuple, kwargs: dict) -> tuple[Any, Any, bool]:
    """torch's three ``to`` signatures: (device, dtype), (dtype), (tensor); then non_blocking,
    copy positionally."""
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(
            f"to() received an invalid combination of arguments - got unexpected keyword "
            f"{next(iter(kwargs))!r}"
        )
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):
        other = rest.pop(0)
        dev, dt = other.device, other.dtype
    elif rest and _is_dtype(rest[0]):
        dt = rest.pop(0)
    elif (
        rest
        and (rest[0] is None or isinstance(rest[0], str | _device | int))
        and not (isinstance(rest[0], bool))
    ):
        dev = rest.pop(0)
        if rest and (rest[0] is None or _is_dtype(rest[0])):
            dt = rest.pop(0)
    # what is left: non_blocking, copy (bools)
    if len(rest) > 2 or not all(isinstance(r, bool) for r in rest):
        names = ", ".join(
            "ember.dtype" if isinstance(a, dtypes.dtype) else a.__class__.__name__ for a in args
        )
        raise TypeError(
            f"to() received an invalid combination of arguments - got ({names}), but expected "
            "one of:\n * (device, dtype, non_blocking, copy)\n * (dtype, non_blocking, copy)\n"
            " * (tensor, non_blocking, copy)"
        )
    if len(rest) == 2:
        copy = rest[1]
    if dev is not None:
        try:
            dev = _device(dev)
        except RuntimeError:
            raise RuntimeError(f"Invalid device string: '{dev}'") from None
    return dev, (None if dt is None else dtypes.as_dtype(dt)), bool(copy)


def _is_dtype(x: Any) -> bool:
    return isinstance(x, dtypes.dtype) or x in (float, int, bool)


@tensor_method
def to(self: Tensor, *args: Any, memory_format: Any = None, **kwargs: Any) -> Tensor:
    """Convert dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(other)``,
    ``to('cuda', dtype)``; returns self when nothing changes (unless ``copy=True``)."""
    dev, dt, copy = _parse_to(args, kwargs)
    a = self._data
    cur_dev = self.device
    same_dev = dev is None or dev == cur_dev or (dev.type == cur_dev.type and dev.index is None)
    same_dt = dt is None or dt.np == a.dtype
    if same_dev and same_dt and not copy:
        return self
    if not same_dev:
        if dev.type == "cpu":
            a = a.get()
        elif dev.type == "meta":
            raise NotImplementedError("ember has no meta tensors")
        else:
            cp = array_module(dev)
            with cp.cuda.Device(dev.index or 0):
                a = cp.asarray(a)
    if not same_dt:
        a = cast_array(a, dt.np)
    elif copy and same_dev:
        a = a.copy()
    r = _make(a)
    if gm.enabled and self._rg and (r._data.dtype.kind == "f" or dt is dtypes.bfloat16):
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
    ("byte", dtypes.uint8), ("bool", dtypes.bool), ("bfloat16", dtypes.bfloat16),
):  # fmt: skip
    _cast(_n, _d)

_TYPE_NAMES = {f"{short}Tensor": name for name, short in _TNAMES.items()}


@tensor_method
def type(self: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """With no argument, the type name ('torch.FloatTensor', as torch); else a cast (dtype, name or class)."""
    if dtype is None:
        return "torch." + ("cuda." if self.is_cuda else "") + _TNAMES[self.dtype.name] + "Tensor"
    if isinstance(dtype, str):
        parts = dtype.split(".")
        if parts[0] not in ("torch", "ember") or parts[-1] not in _TYPE_NAMES:
            raise ValueError(f"invalid type: '{dtype}'")
        t = to(self, "cuda") if "cuda" in parts[1:-1] else self
        return to(t, getattr(dtypes, _TYPE_NAMES[parts[-1]]))
    if isinstance(dtype, LegacyType):
        return to(self, dtype.dtype)
    return to(self, dtypes.as_dtype(dtype))


@tensor_method
def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other.dtype)


@tensor_method
def cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    return to(self, "cpu")


@tensor_method
def cuda(self: Tensor, device: Any = None, non_blocking: bool = False,
         memory_format: Any = None) -> Tensor:  # fmt: skip
    """A copy on the GPU (CuPy), ``cuda:0`` unless `device` says otherwise."""
    if device is None:
        device = "cuda"
    dev = _device(f"cuda:{device}" if isinstance(device, int) else device)
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
    xp = np if self.is_cpu else self.xp
    r = _make(cast_array(xp.broadcast_to(sa, self._data.shape), self._data.dtype))
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
        raise RuntimeError(
            "fill_ only supports 0-dimension value tensor but got tensor with "
            f"{value.ndim} dimensions."
        )
    self._data[...] = v
    self._vc[0] += 1
    self._vc[1] = ("fill_", None)
    if gm.enabled and (self._rg or (isinstance(value, Tensor) and value._rg)):
        tmp = wrap(self._data)
        record(FillBackward, tmp, (self,) if not isinstance(value, Tensor) else (self, value))
        self.grad_fn, self._out_nr, self._rg = tmp.grad_fn, 0, True
    return self


@tensor_method
def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
    """A new tensor from `data`, with self's dtype and device unless given."""
    from ember.ops.creation import tensor

    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)  # fmt: skip


def _new_factory(name: str) -> None:
    def method(self: Tensor, *args: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kw: Any) -> Tensor:  # fmt: skip
        from ember.ops import creation

        fn = getattr(creation, name)
        opts = dict(dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)  # fmt: skip
        for k in ("layout", "pin_memory", "memory_format"):
            kw.pop(k, None)
        if name == "full":
            if "fill_value" in kw:
                args = (*args, kw.pop("fill_value"))
            if "size" in kw:
                args = (kw.pop("size"), *args)
            if len(args) != 2:
                raise TypeError("new_full() missing required arguments 'size' and 'fill_value'")
            return fn(args[0], args[1], **opts, **kw)
        return fn(*args, **opts, **kw)

    method.__name__ = "new_" + name
    method.__doc__ = f"``ember.{name}(...)`` with self's dtype and device unless given."
    setattr(Tensor, "new_" + name, method)


for _n in ("zeros", "ones", "empty", "full"):
    _new_factory(_n)
