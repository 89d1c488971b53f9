"""dtypes with PyTorch's names and type-promotion rules.

An ember dtype wraps a NumPy dtype. Promotion follows torch, not NumPy: categories
bool < integer < floating; Python scalars are *weak* (they only raise the category, to the default
dtype of that category), and 0-dim tensors only count when they raise the category of the
dimensioned operands (``int32_vec * 2.5`` is float32, ``float32_vec * float64_scalar_tensor`` stays
float32). NumPy scalars count as Python scalars, and ``np.bool_`` as a float, as in torch.
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


class dtype:
    """A tensor element type (``ember.float32`` ...), wrapping the matching NumPy dtype."""

    __slots__ = ("_cat", "is_complex", "is_floating_point", "is_signed", "itemsize", "name", "np")

    def __init__(
        self, name: str, np_dtype: Any, cat: int, signed: builtins.bool, size: int
    ) -> None:
        self.name = name
        self.np = None if np_dtype is None else np.dtype(np_dtype)  # None: bfloat16 w/o ml_dtypes
        self._cat = cat
        self.is_floating_point = cat == _FLOAT
        self.is_complex = False
        self.is_signed = signed
        self.itemsize = size

    def __repr__(self) -> str:
        return f"torch.{self.name}"  # torch's spelling: user code prints and compares it

    def __reduce__(self) -> str:
        return self.name  # pickles as the module-level singleton

    def to_real(self) -> dtype:
        return self

    def to_complex(self) -> dtype:
        raise NotImplementedError("complex dtypes are not supported by ember")


float16 = dtype("float16", np.float16, _FLOAT, True, 2)
float32 = dtype("float32", np.float32, _FLOAT, True, 4)
float64 = dtype("float64", np.float64, _FLOAT, True, 8)
int8 = dtype("int8", np.int8, _INT, True, 1)
int16 = dtype("int16", np.int16, _INT, True, 2)
int32 = dtype("int32", np.int32, _INT, True, 4)
int64 = dtype("int64", np.int64, _INT, True, 8)
uint8 = dtype("uint8", np.uint8, _INT, False, 1)
bool = dtype("bool", np.bool_, _BOOL, False, 1)
try:  # bfloat16 arrays need ml_dtypes (optional); without it the dtype exists but can't be used
    import ml_dtypes

    _bf16_np: Any = ml_dtypes.bfloat16
except ImportError:  # pragma: no cover - depends on the environment
    _bf16_np = None
bfloat16 = dtype("bfloat16", _bf16_np, _FLOAT, True, 2)

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

_ALL = [float16, float32, float64, bfloat16, int8, int16, int32, int64, uint8, bool]
_USABLE = [d for d in _ALL if d.np is not None]
_FROM_NP: dict[Any, dtype] = {d.np: d for d in _USABLE}
_FROM_NP.update({d.np.type: d for d in _USABLE})
_FROM_NAME = {d.name: d for d in _ALL}
_ALIAS = {"half": float16, "float": float32, "double": float64, "short": int16, "int": int32,
          "long": int64}  # fmt: skip

_default = float32


def _no_bf16() -> TypeError:
    return TypeError("ember.bfloat16 needs the ml_dtypes package: pip install ml_dtypes")


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
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{nd.type.__name__}. The only supported types are: "
        f"{', '.join(d.name for d in _USABLE)}."
    )


def as_dtype(d: Any) -> dtype:
    """Accept an ember dtype, a NumPy dtype, a Python type or a name; return an ember dtype."""
    if d.__class__ is dtype:
        if d.np is None:
            raise _no_bf16()
        return d
    if d is _pyfloat:
        return float64  # torch: dtype=float means float64, whatever the default dtype
    if d is _pyint:
        return int64
    if d is _pybool:
        return bool
    if isinstance(d, str):
        name = d.replace("torch.", "").replace("ember.", "")
        r = _FROM_NAME.get(name) or _ALIAS.get(name)
        if r is not None:
            return as_dtype(r)
    return from_np(d)


def get_default_dtype() -> dtype:
    """The dtype of floating tensors created from Python floats (float32 unless changed)."""
    return _default


_caches: list[dict] = []  # promotion caches that depend on the default dtype (cleared below)


def set_default_dtype(d: Any) -> None:
    """Set the default floating dtype (float16/bfloat16/float32/float64 as in torch)."""
    global _default
    if d.__class__ is not dtype:
        raise TypeError(
            "invalid dtype object: only floating-point types are supported as the default type"
        )
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    d = as_dtype(d)
    _default = d
    for c in _caches:
        c.clear()


def _promote_same_cat(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a._cat == _FLOAT:
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return float32
        return a if a.itemsize >= b.itemsize else b
    if a._cat == _BOOL:
        return a
    if a is uint8 or b is uint8:  # uint8 with a signed int: the next wider signed int
        other = b if a is uint8 else a
        return int16 if other.itemsize == 1 else other
    return a if a.itemsize >= b.itemsize else b


_PROMO: dict[tuple[dtype, dtype], dtype] = {}


def promote_types(type1: Any, type2: Any) -> dtype:
    """torch.promote_types: the smallest dtype both operands can be cast to."""
    r = _PROMO.get((type1, type2))
    if r is None:
        a, b = _resolve(type1), _resolve(type2)
        if a._cat != b._cat:
            r = a if a._cat > b._cat else b
        else:
            r = _promote_same_cat(a, b)
        if type1.__class__ is dtype and type2.__class__ is dtype:
            _PROMO[(a, b)] = r
    return r


def scalar_category(x: Any) -> builtins.int:
    """The promotion category of a Python or NumPy scalar (``np.bool_`` is a float, as in torch)."""
    c = x.__class__
    if c is _pyfloat:
        return _FLOAT
    if c is _pyint:
        return _INT
    if c is _pybool:
        return _BOOL
    if isinstance(x, np.bool_ | np.floating | _pyfloat):
        return _FLOAT
    if isinstance(x, _pybool):
        return _BOOL
    if isinstance(x, _pyint | np.integer):
        return _INT
    if isinstance(x, complex | np.complexfloating):
        raise TypeError("complex scalars are not supported by ember")
    raise TypeError(f"unsupported operand of type {type(x).__name__}")


_scalar_cat = scalar_category  # backwards-compatible private name


def scalar_dtype(cat: builtins.int) -> dtype:
    """The dtype a weak scalar of category `cat` promotes to (torch's defaults)."""
    return _default if cat == _FLOAT else int64 if cat == _INT else bool


def result_type(*operands: Any) -> dtype:
    """torch.result_type over tensors and Python scalars (three tiers: dim>0, 0-dim, scalars)."""
    dims: dtype | None = None
    zero: dtype | None = None
    scal = -1
    for x in operands:
        d = getattr(x, "dtype", None)
        if d.__class__ is dtype and not isinstance(x, np.generic):
            if x.ndim:
                dims = d if dims is None else promote_types(dims, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            scal = max(scal, scalar_category(x))
    res = dims
    if zero is not None and (res is None or zero._cat > res._cat):
        res = zero
    if scal >= 0 and (res is None or scal > res._cat):
        res = scalar_dtype(scal)
    if res is None:
        raise TypeError("result_type() needs at least one operand")
    return res


def can_cast(from_: Any, to: Any) -> builtins.bool:
    """torch.can_cast: casting to a lower category is not allowed."""
    return _resolve(from_)._cat <= _resolve(to)._cat


def _resolve(d: Any) -> dtype:
    """as_dtype, but a dtype without NumPy support (bfloat16 sans ml_dtypes) is fine here."""
    return d if d.__class__ is dtype else as_dtype(d)


class finfo:
    """Machine limits of a floating dtype (torch.finfo)."""

    def __init__(self, type: Any = None) -> None:
        d = _default if type is None else as_dtype(type)
        if not d.is_floating_point:
            raise TypeError(
                "ember.finfo() requires a floating point input type. Use ember.iinfo to handle "
                "'ember.finfo'"
            )
        fi = np.finfo(d.np)
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.eps = _pyfloat(fi.eps)
        self.max = _pyfloat(fi.max)
        self.min = _pyfloat(fi.min)
        self.tiny = self.smallest_normal = _pyfloat(fi.tiny)
        self.resolution = 10.0 ** -_pyint(fi.precision)  # exact decimal, as torch (NumPy rounds it)

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:
    """Machine limits of an integer dtype (torch.iinfo)."""

    def __init__(self, type: Any) -> None:
        d = as_dtype(type)
        if d.is_floating_point or d is bool:
            raise TypeError(f"{d} is not supported by ember.iinfo")
        ii = np.iinfo(d.np)
        self.dtype, self.bits = d.name, d.itemsize * 8
        self.max, self.min = _pyint(ii.max), _pyint(ii.min)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
