"""Shared machinery of the op library: operand promotion, result wrapping, in-place commits.

Every op follows one pattern: compute on arrays (``x._data``) through the array's own module,
wrap the result with ``_make``, and, when grad mode is on and an input requires grad, ``record`` a
backward node next to it. Nothing here knows about a specific op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import dtypes
from ember.autograd.grad_mode import state as gm
from ember.autograd.node import Node, record, site
from ember.tensor import Tensor, _make

__all__ = [
    "Node", "Tensor", "_make", "as_array_operands", "commit_inplace", "float_array", "gm",
    "record", "wrap", "to_tensor", "check_inplace", "cast_array", "broadcast_error",
]  # fmt: skip

_nd = np.ndarray
_generic = np.generic
_SCALARS = (int, float, bool, np.number, np.bool_)


def wrap(r: Any) -> Tensor:
    """Wrap an op's array result (NumPy turns 0-d results into scalars: undo that)."""
    if r.__class__ is not _nd and isinstance(r, _generic):
        r = np.asarray(r)
    return _make(r)


def to_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """Tensors pass through; scalars, lists and arrays become tensors (on `like`'s device).

    A scalar next to `like` becomes a 0-d tensor that promotes as torch's weak scalar would: with
    a dimensioned `like` it keeps its exact value in its category's default dtype (so
    ``1000 / int8_vec`` divides 1000, not a wrapped int8); next to a 0-d `like` it takes the
    result dtype (integers wrap as in torch).
    """
    if isinstance(x, Tensor):
        return x
    from ember.ops.creation import tensor

    if like is None:
        return tensor(x)
    la = like._data
    if isinstance(x, _SCALARS):
        x = _py_scalar(x)
        if la.ndim:
            d = dtypes.scalar_dtype(dtypes.scalar_category(x))
            if d is dtypes.int64:
                x = _fit_int(x, _I64)
        else:
            d = dtypes.result_type(like, x)
            if x.__class__ is int and d.np.kind in "iu":
                x = _fit_int(x, d.np)
        arr = np.asarray(x, d.np)
        if la.__class__ is not _nd and not isinstance(la, _generic):
            arr = like.xp.asarray(arr)
        return _make(arr)
    return tensor(x, device=like.device)


def broadcast_error(sa: tuple, sb: tuple) -> RuntimeError:
    """torch's error for shapes that don't broadcast (ops: raise it instead of NumPy's
    ValueError); the reported dim is the right-most mismatch, numbered in the output."""
    n = max(len(sa), len(sb))
    a = (1,) * (n - len(sa)) + tuple(sa)
    b = (1,) * (n - len(sb)) + tuple(sb)
    for i in range(n - 1, -1, -1):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            return RuntimeError(
                f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                f"non-singleton dimension {i}"
            )
    return RuntimeError(f"shapes {list(sa)} and {list(sb)} are not broadcastable")


def _device_error(a: Any, b: Any) -> RuntimeError:
    from ember.backends import device_of

    return RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{device_of(a)} and {device_of(b)}!"
    )


# (x dtype, y dtype, x is 0-d, y is 0-d, true_div) -> NumPy dtype of the computation
_BIN: dict[tuple, Any] = {}
dtypes._caches.append(_BIN)  # true division's result depends on the default dtype


def _binary_dtype(x: Tensor, y: Tensor, xa: Any, ya: Any, true_div: bool) -> Any:
    key = (xa.dtype, ya.dtype, not xa.ndim, not ya.ndim, true_div)
    dn = _BIN.get(key)
    if dn is None:
        d = dtypes.result_type(x, y)
        if true_div and not d.is_floating_point:
            d = dtypes.get_default_dtype()
        dn = _BIN[key] = d.np
    return dn


def as_array_operands(x: Any, y: Any, true_div: bool = False) -> tuple[Any, Any]:
    """Arrays (or a weak Python scalar) for ``x op y`` after torch's type promotion.

    A scalar operand comes back as a Python scalar that NumPy treats as weak (NumPy scalars are
    converted, out-of-range integers wrap to the array's dtype as torch's casts do).
    """
    if isinstance(x, Tensor):
        xa = x._data
        if isinstance(y, Tensor):
            ya = y._data
            if xa.__class__ is not ya.__class__ and ya.ndim and xa.ndim:
                raise _device_error(xa, ya)
            if xa.dtype is not ya.dtype or true_div:
                dn = _binary_dtype(x, y, xa, ya, true_div)
                if xa.dtype != dn:
                    xa = _cast(xa, dn)
                if ya.dtype != dn:
                    ya = _cast(ya, dn)
            return xa, ya
        return _with_scalar(xa, y, true_div)
    # x is a scalar and y a tensor (reflected ops)
    ya, x = _with_scalar(y._data, x, true_div)
    return x, ya


_FMAX = {np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32)}


def _cast(a: Any, dn: Any) -> Any:
    """``a.astype(dn)``; a narrowing float cast overflows to inf quietly, as in torch."""
    fmax = _FMAX.get(dn)
    if fmax is not None and a.dtype.itemsize >= dn.itemsize:
        if a.ndim == 0 and a.__class__ is _nd:  # the common 0-d case: check instead of errstate
            v = a.item()
            if -fmax <= v <= fmax or v != v:
                return a.astype(dn)
        with np.errstate(over="ignore"):
            return a.astype(dn)
    return a.astype(dn)


def cast_array(a: Any, dn: Any) -> Any:
    """``a.astype(dn)`` with torch's cast semantics and no NumPy warnings: float -> int
    truncates (NaN and overflow give what C gives, 8/16-bit ints through int64, so they wrap),
    narrowing float casts overflow to inf."""
    dn = np.dtype(dn)
    k = a.dtype.kind
    if dn.kind in "iu" and (k == "f" or k == "V"):  # float (or bfloat16) -> int
        with np.errstate(invalid="ignore", over="ignore"):
            if dn.itemsize < 4:
                return a.astype(np.int64).astype(dn)
            return a.astype(dn)
    if dn.itemsize == 2 and dn.kind in "fV" and a.dtype.itemsize == 8 and k == "f":
        with np.errstate(over="ignore", invalid="ignore"):  # C++'s Half(double) goes via float
            return a.astype(np.float32).astype(dn)
    if dn.kind == "f" and dn.itemsize < 8:
        with np.errstate(over="ignore", invalid="ignore"):
            return a.astype(dn)
    return a.astype(dn)


_I64 = np.dtype(np.int64)
_INT_RANGE = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max)) for t in
              (np.int8, np.int16, np.int32, np.int64, np.uint8)}  # fmt: skip


def _fit_int(s: int, dt: Any) -> int:
    """A Python int cast to integer dtype `dt` the way torch casts scalars: wrapping modulo 2**n."""
    lo, hi = _INT_RANGE.get(dt, (None, None))
    if lo is not None and lo <= s <= hi:
        return s
    if s >= 1 << 64:
        raise OverflowError("int too big to convert")
    if s < -(1 << 63):
        raise OverflowError("can't convert negative int to unsigned")
    bits = dt.itemsize * 8
    s &= (1 << bits) - 1
    if dt.kind == "i" and s >> (bits - 1):
        s -= 1 << bits
    return s


def _float_scalar(a: Any, s: float) -> Any:
    """A float scalar beyond a float array's range: its IEEE cast (inf), quietly as torch."""
    if a.dtype.kind == "f" and s == s and abs(s) > float(np.finfo(a.dtype).max):
        return a.dtype.type(np.inf if s > 0 else -np.inf)
    return s


def _py_scalar(s: Any) -> Any:
    """NumPy scalars and number subclasses as plain Python scalars (torch's view of them)."""
    if isinstance(s, np.bool_):
        return float(s)  # torch reads a NumPy bool as a float scalar
    if isinstance(s, bool):
        return bool(s)
    if isinstance(s, int | np.integer):
        return int(s)
    if isinstance(s, float | np.floating):
        return float(s)
    raise TypeError(f"unsupported operand type: {type(s).__name__}")


def _with_scalar(a: Any, s: Any, true_div: bool) -> tuple[Any, Any]:
    """(array, scalar) for ``array op scalar`` under torch's weak-scalar promotion."""
    c = s.__class__
    if c is float:
        k = a.dtype.kind
        if k != "f":
            if k == "V":  # bfloat16 (ml_dtypes): a bfloat16 scalar keeps the result bfloat16
                return a, a.dtype.type(s)
            a = a.astype(dtypes.get_default_dtype().np)
        if not -65504.0 <= s <= 65504.0:  # may overflow float16/float32: NumPy would warn
            s = _float_scalar(a, s)
        return a, s
    if c is int:
        k = a.dtype.kind
        if k == "i":
            if true_div:
                return a.astype(dtypes.get_default_dtype().np), s
            if not -128 <= s <= 127:
                s = _fit_int(s, a.dtype)
        elif k == "f":
            if not -65504 <= s <= 65504:
                if not -(1 << 63) <= s < 1 << 64:
                    _fit_int(s, _I64)  # raises torch's OverflowError
                s = _float_scalar(a, float(s))
        elif k == "u":
            if true_div:
                return a.astype(dtypes.get_default_dtype().np), s
            if not 0 <= s <= 255:
                s = _fit_int(s, a.dtype)
        elif k == "V":  # bfloat16
            if not -(1 << 63) <= s < 1 << 64:
                _fit_int(s, _I64)  # raises torch's OverflowError
            s = a.dtype.type(float(s))
        elif k == "b":
            if true_div:
                return a.astype(dtypes.get_default_dtype().np), s
            if s >= 1 << 63:
                raise RuntimeError(
                    "Promotion for uint16, uint32, uint64 types is not supported, attempted to "
                    "promote Bool and UInt64"
                )
            a = a.astype(np.int64)
            s = _fit_int(s, _I64)
        return a, s
    if c is bool:
        if true_div and a.dtype.kind not in "fV":
            a = a.astype(dtypes.get_default_dtype().np)
        return a, s
    if isinstance(s, Tensor | _nd) or not isinstance(s, _SCALARS):
        raise TypeError(f"unsupported operand type: {type(s).__name__}")
    return _with_scalar(a, _py_scalar(s), true_div)


def float_array(a: Any) -> Any:
    """Integer/bool inputs of float-valued ops (exp, sin, ...) compute in the default dtype."""
    k = a.dtype.kind
    return a if k == "f" or k == "V" else a.astype(dtypes._default.np)  # "V": bfloat16


def check_inplace(t: Tensor, name: str) -> None:
    """torch's rule: no in-place op on a leaf that requires grad while grad mode is on."""
    if t._rg and t.grad_fn is None and gm.enabled:
        from ember.autograd.naming import param_name

        who = param_name(t)
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation "
            f"({name}{' on ' + who if who else ''}). Wrap the update in `with ember.no_grad():` "
            "(e.g. for manual SGD: `with ember.no_grad(): p -= lr * p.grad`)."
        )
    base = getattr(t, "_base", None)
    if base is not None and base._rg and base.grad_fn is None and gm.enabled:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )


def commit_inplace(t: Tensor, r: Tensor, name: str) -> Tensor:
    """Write result `r` into `t`'s storage, bump the version, and take over r's graph node."""
    ra = r._data
    ta = t._data
    if ra.dtype != ta.dtype:
        rd, td = dtypes.from_np(ra.dtype), dtypes.from_np(ta.dtype)
        if not dtypes.can_cast(rd, td):
            raise RuntimeError(
                f"result type {_tname(rd)} can't be cast to the desired output type {_tname(td)}"
            )
    if ra.shape != ta.shape:
        try:
            bs = np.broadcast_shapes(ra.shape, ta.shape)
        except ValueError:
            bs = ra.shape
        if bs != ta.shape:
            raise RuntimeError(
                f"output with shape {list(ta.shape)} doesn't match the broadcast shape {list(bs)}"
            )
    if ta.ndim:
        ta[...] = ra
    else:
        ta[()] = ra
    vc = t._vc
    vc[0] += 1
    vc[1] = (name, site(3))
    if r.grad_fn is not None:
        _rebase(t, r)
    return t


def _rebase(t: Tensor, r: Tensor) -> None:
    base = getattr(t, "_base", None)
    if base is not None and (base._rg or r._rg):
        from ember.ops.views import rebase_view

        rebase_view(t, r)
        return
    t.grad_fn = r.grad_fn
    t._out_nr = r._out_nr
    t._rg = True


def _tname(d: dtypes.dtype) -> str:
    return {
        "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
        "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
        "bool": "Bool",
    }[d.name]  # fmt: skip
