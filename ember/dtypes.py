"""dtypes with PyTorch's names and type-promotion rules.

An ember dtype wraps a NumPy dtype. Promotion follows torch, not NumPy: categories
bool < integer < floating; Python scalars are *weak* (they only raise the category, to the default
dtype of that category), and 0-dim tensors only count when they raise the category of the
dimensioned operands (``int32_vec * 2.5`` is float32, ``float32_vec * float64_scalar_tensor`` stays
float32).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

_pyfloat, _pyint, _pybool = builtins.float, builtins.int, builtins.bool

__all__ = [
    "dtype", "float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64",
    "uint8", "bool", "half", "float", "double", "short", "int", "long",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast",
    "as_dtype", "finfo", "iinfo",
]  # fmt: skip

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:  # noqa: N801 - torch's name
    """A tensor element type (``ember.float32`` ...), wrapping the matching NumPy dtype."""

    __slots__ = ("_cat", "is_complex", "is_floating_point", "is_signed", "itemsize", "name", "np")

    def __init__(self, name: str, np_dtype: Any, cat: int, signed: bool) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self._cat = cat
        self.is_floating_point = cat == _FLOAT
        self.is_complex = False
        self.is_signed = signed
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self) -> str:
        return self.name  # pickles as the module-level singleton

    def to_complex(self) -> dtype:
        raise NotImplementedError("complex dtypes are not supported by ember")


float16 = dtype("float16", np.float16, _FLOAT, True)
float32 = dtype("float32", np.float32, _FLOAT, True)
float64 = dtype("float64", np.float64, _FLOAT, True)
int8 = dtype("int8", np.int8, _INT, True)
int16 = dtype("int16", np.int16, _INT, True)
int32 = dtype("int32", np.int32, _INT, True)
int64 = dtype("int64", np.int64, _INT, True)
uint8 = dtype("uint8", np.uint8, _INT, False)
bool = dtype("bool", np.bool_, _BOOL, False)  # noqa: A001 - torch's name
try:  # bfloat16 needs ml_dtypes (optional)
    import ml_dtypes

    bfloat16: dtype | None = dtype("bfloat16", ml_dtypes.bfloat16, _FLOAT, True)
except ImportError:  # pragma: no cover - depends on the environment
    bfloat16 = None

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

_ALL = [d for d in (float16, float32, float64, bfloat16, int8, int16, int32, int64, uint8, bool) if d]
_FROM_NP: dict[Any, dtype] = {d.np: d for d in _ALL}
_FROM_NP.update({d.np.type: d for d in _ALL})
_FROM_NAME = {d.name: d for d in _ALL}

_default = float32


def from_np(np_dtype: Any) -> dtype:
    """The ember dtype of a NumPy dtype (raises TypeError for unsupported ones)."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    nd = np.dtype(np_dtype)
    if nd in _FROM_NP:
        return _FROM_NP[nd]
    if nd.kind == "u":  # uint16/32/64 have no torch counterpart with full ops; widen
        return int64
    raise TypeError(f"can't convert NumPy array of type {nd}: ember supports {', '.join(_FROM_NAME)}")


def as_dtype(d: Any) -> dtype:
    """Accept an ember dtype, a NumPy dtype, a Python type or a name; return an ember dtype."""
    if d.__class__ is dtype:
        return d
    if d is _pyfloat:
        return _default
    if d is _pyint:
        return int64
    if d is _pybool:
        return bool
    if isinstance(d, str):
        if d in _FROM_NAME:
            return _FROM_NAME[d]
        d = d.replace("torch.", "").replace("ember.", "")
        if d in _FROM_NAME:
            return _FROM_NAME[d]
        alias = {"half": float16, "float": float32, "double": float64, "long": int64, "int": int32}
        if d in alias:
            return alias[d]
    return from_np(d)


def get_default_dtype() -> dtype:
    """The dtype of floating tensors created from Python floats (float32 unless changed)."""
    return _default


def set_default_dtype(d: Any) -> None:
    """Set the default floating dtype (float16/float32/float64 as in torch)."""
    global _default
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default = d


def _promote_same_cat(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a._cat == _FLOAT:
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return float32
        return a if a.itemsize >= b.itemsize else b
    return _FROM_NP[np.promote_types(a.np, b.np)]  # ints and bool: NumPy agrees with torch


_PROMO: dict[tuple[dtype, dtype], dtype] = {}


def promote_types(a: Any, b: Any) -> dtype:
    """torch.promote_types: the smallest dtype both operands can be cast to."""
    a, b = as_dtype(a), as_dtype(b)
    key = (a, b)
    r = _PROMO.get(key)
    if r is None:
        if a._cat != b._cat:
            r = a if a._cat > b._cat else b
        else:
            r = _promote_same_cat(a, b)
        _PROMO[key] = r
    return r


def _scalar_cat(x: Any) -> int:
    if isinstance(x, _pybool | np.bool_):
        return _BOOL
    if isinstance(x, _pyint | np.integer):
        return _INT
    if isinstance(x, _pyfloat | np.floating):
        return _FLOAT
    if isinstance(x, complex):
        raise TypeError("complex scalars are not supported by ember")
    raise TypeError(f"unsupported operand of type {type(x).__name__}")


_CAT_DEFAULT = {_BOOL: bool, _INT: int64}


def result_type(*operands: Any) -> dtype:
    """torch.result_type over tensors and Python scalars (three tiers: dim>0, 0-dim, scalars)."""
    dims: dtype | None = None
    zero: dtype | None = None
    scal = -1
    for x in operands:
        d = getattr(x, "dtype", None)
        if d.__class__ is dtype:
            if x.ndim:
                dims = d if dims is None else promote_types(dims, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            scal = max(scal, _scalar_cat(x))
    res = dims
    if zero is not None and (res is None or zero._cat > res._cat):
        res = zero
    if scal >= 0 and (res is None or scal > res._cat):
        res = _default if scal == _FLOAT else _CAT_DEFAULT[scal]
    assert res is not None
    return res


def can_cast(from_: dtype, to: dtype) -> builtins.bool:
    """torch.can_cast: casting to a lower category is not allowed."""
    return as_dtype(from_)._cat <= as_dtype(to)._cat


class finfo:  # noqa: N801 - torch's name
    """Machine limits of a floating dtype (torch.finfo)."""

    def __init__(self, type: Any = None) -> None:  # noqa: A002
        d = _default if type is None else as_dtype(type)
        fi = np.finfo(d.np)
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.eps = float(fi.eps)
        self.max = float(fi.max)
        self.min = float(fi.min)
        self.tiny = self.smallest_normal = float(fi.tiny)
        self.resolution = float(fi.resolution)


class iinfo:  # noqa: N801 - torch's name
    """Machine limits of an integer dtype (torch.iinfo)."""

    def __init__(self, type: Any) -> None:  # noqa: A002
        d = as_dtype(type)
        ii = np.iinfo(d.np)
        self.dtype, self.bits, self.max, self.min = d.name, d.itemsize * 8, int(ii.max), int(ii.min)
