"""Python operators on Tensor (``a + b``, ``a @ b``, ``a[i]``, ``a += 1`` ...), bound to the ops."""

from __future__ import annotations

from typing import Any

from ember.ops import elementwise as ew
from ember.ops import linalg
from ember.tensor import Tensor


def _bind(name: str, fn: Any) -> None:
    setattr(Tensor, name, fn)


def _reflect(fn: Any) -> Any:
    def r(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    return r


def _rsub(self: Tensor, other: Any) -> Tensor:
    return ew._rsub(self, other)


def _rtruediv(self: Tensor, other: Any) -> Tensor:
    return ew._rdiv(self, other)


def _rpow(self: Tensor, other: Any) -> Tensor:
    return ew._rpow(self, other)


def _rfloordiv(self: Tensor, other: Any) -> Tensor:
    from ember.ops._core import to_tensor

    return ew.floor_divide(to_tensor(other, self), self)


def _rmod(self: Tensor, other: Any) -> Tensor:
    from ember.ops._core import to_tensor

    return ew.remainder(to_tensor(other, self), self)


def _rmatmul(self: Tensor, other: Any) -> Tensor:
    return linalg.matmul(other, self)


def _inplace(method: str) -> Any:
    def f(self: Tensor, other: Any) -> Tensor:
        return getattr(self, method)(other)

    return f


def _logic_or_bit(logical: Any, bitwise: Any) -> Any:
    def f(self: Tensor, other: Any) -> Tensor:
        from ember.ops._core import to_tensor

        o = to_tensor(other, self)
        if self._data.dtype.kind == "b" and o._data.dtype.kind == "b":
            return logical(self, o)
        return bitwise(self, o)

    return f


def _invert(self: Tensor) -> Tensor:
    if self._data.dtype.kind == "b":
        return ew.logical_not(self)
    return ew.bitwise_not(self)


def _comparable(other: Any) -> bool:
    """torch compares tensors with tensors and numbers only (lists, None...: NotImplemented)."""
    import numpy as np

    return isinstance(other, Tensor | int | float | bool | np.number | np.bool_ | np.ndarray)


def _cmp(fn: Any) -> Any:
    def f(self: Tensor, other: Any) -> Any:
        return fn(self, other) if _comparable(other) else NotImplemented

    return f


def _eq(self: Tensor, other: Any) -> Any:
    if not _comparable(other):
        return NotImplemented
    try:
        return ew.eq(self, other)
    except TypeError:
        return NotImplemented


def _ne(self: Tensor, other: Any) -> Any:
    if not _comparable(other):
        return NotImplemented
    try:
        return ew.ne(self, other)
    except TypeError:
        return NotImplemented


def _getitem(self: Tensor, index: Any) -> Tensor:
    from ember.ops.indexing import getitem

    return getitem(self, index)


def _setitem(self: Tensor, index: Any, value: Any) -> None:
    from ember.ops.indexing import setitem

    setitem(self, index, value)


for _name, _fn in {
    "__add__": ew.add, "__radd__": ew.add, "__sub__": ew.sub, "__rsub__": _rsub,
    "__mul__": ew.mul, "__rmul__": ew.mul, "__truediv__": ew.div, "__rtruediv__": _rtruediv,
    "__floordiv__": ew.floor_divide, "__rfloordiv__": _rfloordiv, "__mod__": ew.remainder,
    "__rmod__": _rmod, "__pow__": ew.pow, "__rpow__": _rpow, "__matmul__": linalg.matmul,
    "__rmatmul__": _rmatmul, "__neg__": ew.neg, "__pos__": ew.positive, "__abs__": ew.abs,
    "__invert__": _invert, "__eq__": _eq, "__ne__": _ne, "__lt__": _cmp(ew.lt), "__le__": _cmp(ew.le),
    "__gt__": _cmp(ew.gt), "__ge__": _cmp(ew.ge),
    "__and__": _logic_or_bit(ew.logical_and, ew.bitwise_and),
    "__or__": _logic_or_bit(ew.logical_or, ew.bitwise_or),
    "__xor__": _logic_or_bit(ew.logical_xor, ew.bitwise_xor),
    "__lshift__": ew.bitwise_left_shift, "__rshift__": ew.bitwise_right_shift,
    "__iadd__": _inplace("add_"), "__isub__": _inplace("sub_"), "__imul__": _inplace("mul_"),
    "__itruediv__": _inplace("div_"), "__ifloordiv__": _inplace("floor_divide_"),
    "__imod__": _inplace("remainder_"), "__ipow__": _inplace("pow_"),
    "__iand__": _inplace("bitwise_and_"), "__ior__": _inplace("bitwise_or_"),
    "__ixor__": _inplace("bitwise_xor_"), "__getitem__": _getitem, "__setitem__": _setitem,
}.items():  # fmt: skip
    _bind(_name, _fn)
_bind("__rand__", _reflect(Tensor.__and__))
_bind("__ror__", _reflect(Tensor.__or__))
_bind("__rxor__", _reflect(Tensor.__xor__))
Tensor.__hash__ = object.__hash__  # type: ignore[assignment]  # __eq__ above must not unhash
