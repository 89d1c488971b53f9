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
    "record", "wrap", "to_tensor", "check_inplace",
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
    """Tensors pass through; scalars, lists and arrays become tensors (on `like`'s device)."""
    if isinstance(x, Tensor):
        return x
    from ember.ops.creation import tensor

    if like is not None:
        if isinstance(x, _SCALARS):
            d = dtypes.result_type(like, x)
            return tensor(x, dtype=d, device=like.device)
        return tensor(x, device=like.device)
    return tensor(x)


def _device_error(a: Any, b: Any) -> RuntimeError:
    from ember.backends import device_of

    return RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{device_of(a)} and {device_of(b)}!"
    )


def as_array_operands(x: Any, y: Any, true_div: bool = False) -> tuple[Any, Any]:
    """Arrays (or a weak Python scalar) for ``x op y`` after torch's type promotion."""
    if isinstance(x, Tensor):
        xa = x._data
        if isinstance(y, Tensor):
            ya = y._data
            if xa.dtype is not ya.dtype or true_div:
                if xa.__class__ is not ya.__class__ and ya.ndim and xa.ndim:
                    raise _device_error(xa, ya)
                d = dtypes.result_type(x, y)
                if true_div and not d.is_floating_point:
                    d = dtypes.get_default_dtype()
                dn = d.np
                if xa.dtype != dn:
                    xa = xa.astype(dn)
                if ya.dtype != dn:
                    ya = ya.astype(dn)
            elif xa.__class__ is not ya.__class__ and ya.ndim and xa.ndim:
                raise _device_error(xa, ya)
            return xa, ya
        return _with_scalar(x, xa, y, true_div), y
    # x is a scalar and y a tensor (reflected ops)
    ya = y._data
    return x, _with_scalar(y, ya, x, true_div)


def _with_scalar(t: Tensor, a: Any, s: Any, true_div: bool) -> Any:
    k = a.dtype.kind
    if k == "f" and not true_div:
        return a
    if s.__class__ is float or isinstance(s, float | np.floating):
        if k != "f":
            return a.astype(dtypes.get_default_dtype().np)
        return a
    if isinstance(s, Tensor | _nd) or not isinstance(s, _SCALARS):
        raise TypeError(f"unsupported operand type: {type(s).__name__}")
    if true_div and k != "f":
        return a.astype(dtypes.get_default_dtype().np)
    if k == "b" and not isinstance(s, bool | np.bool_):
        return a.astype(np.int64)
    return a


def float_array(a: Any) -> Any:
    """Integer/bool inputs of float-valued ops (exp, sin, ...) compute in the default dtype."""
    k = a.dtype.kind
    return a if k == "f" or a.dtype.name == "bfloat16" else a.astype(dtypes.get_default_dtype().np)


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
