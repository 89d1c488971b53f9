"""Reductions, scans and sorting: sum, prod, max/min, var/std, norms, cumsum, sort, topk, ...

``dim`` is an int, a tuple or None (all dims); ``keepdim`` as torch. Backward rules put the
reduced dims back (size 1) and broadcast the gradient to the input's shape.

Value-selecting ops (max/min with dim, sort, topk, kthvalue, median, mode, cummax) return torch's
named tuples; only ``values`` is differentiable, and its gradient goes back to the selected
positions with ``F.scatter_along``. Full-reduction max/min/amax/median split the gradient evenly
among ties, as torch. Three array helpers are registered on both backward namespaces so that
every rule here stays differentiable under ``create_graph``: ``gather_along``, ``scatter_along``
(adjoints of each other) and ``flip_along``; ``prod`` and ``cumprod`` are added to tensor_np.
"""

from __future__ import annotations

import builtins
import math
import sys
import warnings
from collections import namedtuple
from types import ModuleType
from typing import Any

import numpy as np

from ember import dtypes
from ember.autograd import engine, tensor_np
from ember.backends import xp_of
from ember.ops._core import (
    Node,
    Tensor,
    _make,
    _tname,
    check_inplace,
    commit_inplace,
    gm,
    record,
    wrap,
)  # fmt: skip
from ember.ops.elementwise import _out, _snapshot, maximum, minimum
from ember.tensor import tensor_method

__all__ = [
    "sum", "mean", "nansum", "nanmean", "prod", "max", "min", "amax", "amin", "argmax", "argmin",
    "aminmax", "var", "std", "var_mean", "std_mean", "norm", "logsumexp", "cumsum", "cumprod",
    "cummax", "cummin", "all", "any", "count_nonzero", "sort", "argsort", "msort", "topk",
    "kthvalue", "median", "nanmedian", "mode", "unique", "unique_consecutive", "diff",
    "norm_dims", "expand_reduced", "return_types",
]  # fmt: skip

_bmax = builtins.max
_I64 = np.int64


# --------------------------------------------------------------------------- named tuples
def _structseq(name: str, fields: tuple[str, ...] = ("values", "indices")) -> type:
    """A named tuple printed like torch's ``torch.return_types.<name>`` structseq."""
    cls = namedtuple(name, fields)  # type: ignore[misc]
    cls.__module__ = "ember.return_types"

    def __repr__(self: Any) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self, strict=True))
        return f"torch.return_types.{name}(\n{body})"

    cls.__repr__ = __repr__
    return cls


_VI = ("max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin")
# `ember.return_types` (torch.return_types): reached as an attribute through the star imports of
# ember.ops, and importable as a module
return_types = ModuleType("ember.return_types", "Named tuples returned by ops (torch's).")
for _n in _VI:
    setattr(return_types, _n, _structseq(_n))
return_types.aminmax = _structseq("aminmax", ("min", "max"))  # type: ignore[attr-defined]
sys.modules.setdefault("ember.return_types", return_types)
rt = return_types


# --------------------------------------------------------------------------- dims and shapes
def norm_dims(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """Normalise `dim` (int, sequence, or None) to a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, int | np.integer):
        dim = (int(dim),)
    n = _bmax(ndim, 1)
    out = []
    for d in dim:
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        d = d % n
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    return tuple(sorted(out)) if ndim else ()


def _wrap(dim: Any, ndim: int) -> int:
    """One dim in [-n, n) with n = max(ndim, 1): a 0-d tensor accepts dim 0 and -1, as torch."""
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"dim must be an int, not {type(dim).__name__}")
    return norm_dims(int(dim), ndim)[0] if ndim else norm_dims(int(dim), 1)[0]


def _axes(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """Reduced axes, or None for all of them (dim None, ``()``, or a 0-d input)."""
    if dim is None:
        return None
    return norm_dims(dim, ndim) or None


def expand_reduced(F: Any, g: Any, shape: tuple, axes: tuple | None, keepdim: bool) -> Any:
    """Broadcast a reduced gradient back to `shape` (re-inserting the reduced axes first)."""
    return F.broadcast_to(_keep(F, g, shape, axes, keepdim), shape)


def _keep(F: Any, g: Any, shape: tuple, axes: tuple | None, keepdim: bool) -> Any:
    """`g` with the reduced axes present (size 1), ready to broadcast against the input."""
    if keepdim:
        return g
    return F.reshape(g, _kd_shape(shape, axes))


def _kd_shape(shape: tuple, axes: tuple | None) -> tuple:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _reduced_shape(shape: tuple, axes: tuple | None, keepdim: bool) -> tuple:
    if axes is None:
        axes = tuple(range(len(shape)))
    if keepdim:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _numel(shape: tuple, axes: tuple | None) -> int:
    return math.prod(shape if axes is None else [shape[i] for i in axes])


def _xp(a: Any) -> Any:
    return np if a.__class__ is np.ndarray or isinstance(a, np.generic) else xp_of(a)


def _is_float(a: Any) -> bool:
    return a.dtype.kind == "f" or a.dtype.name == "bfloat16"


def _dname(d: Any) -> str:
    return _tname(dtypes.from_np(d))


def _k(like: Any, arr: Any) -> Any:
    """A constant array in the backward's kind: a Tensor under create_graph, else the array."""
    return _make(arr) if isinstance(like, Tensor) else arr


def _xp_of_any(x: Any) -> Any:
    return x.xp if isinstance(x, Tensor) else _xp(x)


def _ret(r: Tensor, out: Any) -> Tensor:
    return r if out is None else _out(out, r)


def _empty_check(name: str, a: Any, axes: tuple | None, exc: type = RuntimeError) -> None:
    """torch refuses to reduce an empty extent for ops without an identity (max, argmax...)."""
    if axes is None:
        if a.size == 0:
            tail = (
                "" if exc is IndexError else " Specify the reduction dim with the 'dim' argument."
            )
            raise exc(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0.{tail}"
            )
        return
    for d in axes:
        if a.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _as1d(a: Any) -> Any:
    """Scans and sorts of a 0-d tensor work on its 1-element view."""
    return a.reshape(1) if a.ndim == 0 else a


def _along(n: int, axis: int, ndim: int, xp: Any = np) -> Any:
    """arange(n) shaped to broadcast along `axis` of an `ndim`-d array."""
    shp = [1] * ndim
    shp[axis] = n
    return xp.arange(n).reshape(shp)


def _take(a: Any, start: int, stop: int | None, axis: int) -> Any:
    sl = [slice(None)] * a.ndim
    sl[axis] = slice(start, stop)
    return a[tuple(sl)]


# --------------------------------------------------------------------------- along-axis helpers
def _index_along(xp: Any, idx: Any, axis: int, shape: tuple) -> tuple:
    nd = len(shape)
    return tuple(
        idx if d == axis else xp.arange(shape[d]).reshape((-1,) + (1,) * (nd - d - 1))
        for d in range(nd)
    )


def gather_array(x: Any, idx: Any, axis: int, unique: bool = False) -> Any:
    """out[..i..] = x[..idx[..i..]..] along `axis` (NumPy's take_along_axis; idx may broadcast)."""
    return x[_index_along(_xp(x), idx, axis, x.shape)]


def scatter_array(g: Any, idx: Any, axis: int, n: int, unique: bool = False) -> Any:
    """The adjoint of gather: zeros of size `n` along `axis` with g added at positions `idx`."""
    xp = _xp(g)
    shape = list(g.shape)
    shape[axis] = n
    out = xp.zeros(tuple(shape), g.dtype)
    ix = _index_along(xp, idx, axis, shape)
    if unique:  # a permutation or distinct picks: plain assignment is faster than add.at
        out[ix] = g
    elif xp is np:
        np.add.at(out, ix, g)
    else:
        from ember.autograd.array_ns import namespace

        namespace(out).add_at(out, ix, g)
    return out


class GatherBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        idx, axis, n, unique = self.args
        return (F.scatter_along(g, idx, axis, n, unique),)


class ScatterBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        idx, axis = self.args
        return (F.gather_along(g, idx, axis),)


def _gather_t(x: Tensor, idx: Any, axis: int, unique: bool = False) -> Tensor:
    r = wrap(gather_array(x._data, idx, axis))
    if gm.enabled and x._rg:
        record(GatherBackward0, r, (x,), args=(idx, axis, x._data.shape[axis], unique))
    return r


def _scatter_t(g: Tensor, idx: Any, axis: int, n: int, unique: bool = False) -> Tensor:
    r = wrap(scatter_array(g._data, idx, axis, n, unique))
    if gm.enabled and g._rg:
        record(ScatterBackward0, r, (g,), args=(idx, axis))
    return r


def _flip_t(x: Tensor, axis: int) -> Tensor:
    n = x._data.shape[axis]
    return _gather_t(x, n - 1 - _along(n, axis, x._data.ndim, x.xp), axis, True)


def _flip_array(x: Any, axis: int) -> Any:
    return _xp(x).flip(x, axis)


def _rcumsum(F: Any, v: Any, axis: int) -> Any:
    """Reversed cumulative sum: out_i = sum_{j >= i} v_j (exact, no cancellation)."""
    return F.flip_along(F.cumsum(F.flip_along(v, axis), axis), axis)


# --------------------------------------------------------------------------- sum / mean
class SumBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, axes, keepdim = self.args
        return (expand_reduced(F, g, shape, axes, keepdim),)


def _acc_dtype(a: Any, dtype: Any) -> Any:
    if dtype is not None:
        return dtypes.as_dtype(dtype).np
    if a.dtype.kind in "bui":
        return np.int64  # torch: integer sums accumulate (and return) in int64
    return None


@tensor_method
def sum(
    input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, out: Any = None
) -> Tensor:
    """Sum over `dim` (all dims if None): sum_i x_i."""
    a = input._data
    axes = _axes(dim, a.ndim)
    r = wrap(a.sum(axis=axes, dtype=_acc_dtype(a, dtype), keepdims=keepdim))
    if gm.enabled and input._rg:
        record(SumBackward0, r, (input,), args=(a.shape, axes, keepdim))
    return _ret(r, out)


class NansumBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any) -> tuple:
        shape, axes, keepdim = self.args
        return (F.where(F.isnan(x), 0.0, expand_reduced(F, g, shape, axes, keepdim)),)


@tensor_method
def nansum(
    input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, out: Any = None
) -> Tensor:
    """Sum treating NaN as zero: sum_i where(isnan(x_i), 0, x_i)."""
    a = input._data
    axes = _axes(dim, a.ndim)
    r = wrap(_xp(a).nansum(a, axis=axes, dtype=_acc_dtype(a, dtype), keepdims=keepdim))
    if gm.enabled and input._rg:
        record(NansumBackward0, r, (input,), saved=(input,), args=(a.shape, axes, keepdim))
    return _ret(r, out)


class MeanBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, axes, keepdim, n = self.args
        return (expand_reduced(F, g / n, shape, axes, keepdim),)


@tensor_method
def mean(
    input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, out: Any = None
) -> Tensor:
    """Arithmetic mean over `dim`: sum_i x_i / N (floating dtypes only, as torch)."""
    a = input._data
    if dtype is not None:
        a = a.astype(dtypes.as_dtype(dtype).np)
    elif not _is_float(a):
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_dname(a.dtype)}"
        )
    axes = _axes(dim, a.ndim)
    n = _numel(a.shape, axes)
    if a.size:
        r = a.mean(axis=axes, keepdims=keepdim)
    else:  # NumPy warns on empty means; torch quietly gives NaN
        r = _xp(a).full(_reduced_shape(a.shape, axes, keepdim), np.nan, a.dtype)
    r = wrap(r)
    if r._data.dtype != a.dtype:
        r._data = r._data.astype(a.dtype)
    if gm.enabled and input._rg:
        record(MeanBackward0, r, (input,), args=(a.shape, axes, keepdim, _bmax(n, 1)))
    return _ret(r, out)


@tensor_method
def nanmean(
    input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, out: Any = None
) -> Tensor:
    """Mean of the non-NaN elements: nansum(x) / #{i : x_i not NaN}."""
    a = input._data
    if dtype is None and not _is_float(a):
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{_dname(a.dtype)}"
        )
    x = input if dtype is None else input.to(dtypes.as_dtype(dtype))
    axes = _axes(dim, a.ndim)
    cnt = (~_xp(a).isnan(x._data)).sum(axis=axes, keepdims=keepdim).astype(x._data.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):  # all-NaN slices give NaN, as torch
        r = nansum(x, axes, keepdim) / wrap(cnt)
    return _ret(r, out)


# --------------------------------------------------------------------------- prod
def _prod_others(F: Any, x: Any, axis: int) -> Any:
    """prod_{j != i} x_j along `axis`, exact with zeros and differentiable again.

    torch's prod_safe_zeros_backward: exclusive cumulative products from both ends,
    L_i = prod_{j<i} x_j and R_i = prod_{j>i} x_j, so the result is L * R.
    """
    n = x.shape[axis]
    xp = _xp_of_any(x)
    pos = _along(n, axis, x.ndim, xp)
    prev = F.where(pos == 0, 1.0, F.gather_along(x, xp.maximum(pos - 1, 0), axis))
    nxt = F.where(pos == n - 1, 1.0, F.gather_along(x, xp.minimum(pos + 1, n - 1), axis))
    left = F.cumprod(prev, axis)
    right = F.flip_along(F.cumprod(F.flip_along(nxt, axis), axis), axis)
    return left * right


class ProdBackward0(Node):
    """prod over all elements: d/dx_i = prod_{j != i} x_j (= out / x_i without zeros)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, out: Any) -> tuple:
        shape, zeros = self.args
        if not zeros:
            return (g * out / x,)
        return (F.reshape(g * _prod_others(F, F.reshape(x, (-1,)), 0), shape),)


class ProdBackward1(Node):
    """prod along one dim."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, out: Any) -> tuple:
        axis, keepdim, zeros = self.args
        if not keepdim:
            g, out = F.expand_dims(g, axis), F.expand_dims(out, axis)
        if not zeros:
            return (g * out / x,)
        return (g * _prod_others(F, x, axis),)


@tensor_method
def prod(
    input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, out: Any = None
) -> Tensor:
    """Product of the elements, over one dim or all of them: prod_i x_i (ints give int64)."""
    a = input._data
    if dim is not None and (not isinstance(dim, int | np.integer) or isinstance(dim, bool)):
        raise TypeError(
            f"prod() received an invalid combination of arguments - got ({type(dim).__name__}), "
            "but expected one of:\n * (*, torch.dtype dtype = None)\n"
            " * (int dim, bool keepdim = False, *, torch.dtype dtype = None)\n"
        )
    axis = None if dim is None else _wrap(dim, a.ndim)
    if a.ndim == 0:
        axis = None  # one element: a full reduction, whatever the dim
    acc = _acc_dtype(a, dtype)
    r = wrap(_xp(a).prod(a, axis=axis, dtype=acc, keepdims=keepdim and axis is not None))
    if gm.enabled and input._rg:
        zeros = bool((a == 0).any())
        if axis is None:
            record(ProdBackward0, r, (input,), saved=(input, r), args=(a.shape, zeros))
        else:
            record(ProdBackward1, r, (input,), saved=(input, r), args=(axis, keepdim, zeros))
    return _ret(r, out)


# --------------------------------------------------------------------------- max / min family
def _node_class(name: str, backward: Any) -> type:
    """A Node subclass named as torch names it, sharing `backward` with its siblings."""
    return type(name, (Node,), {"__slots__": (), "backward": backward, "__module__": __name__})


def _even_backward(self: Node, F: Any, g: Any) -> tuple:
    """Gradient split evenly among the elements equal to the result (amax, max(), median())."""
    shape, axes, keepdim, mask, count = self.args
    gk = _keep(F, g, shape, axes, keepdim) / _k(g, count)
    return (F.where(mask, gk, 0.0),)


_EVEN = "AmaxBackward0 AminBackward0 MaxBackward1 MinBackward1 MedianBackward0 NanmedianBackward0"
AmaxBackward0, AminBackward0, MaxBackward1, MinBackward1, MedianBackward0, NanmedianBackward0 = (
    _node_class(n, _even_backward) for n in _EVEN.split()
)


def _record_even(cls: type, r: Tensor, input: Tensor, axes: tuple | None, keepdim: bool) -> None:
    a = input._data
    xp = _xp(a)
    rk = r._data if keepdim else r._data.reshape(_kd_shape(a.shape, axes))
    mask = a == rk
    if _is_float(a):  # a NaN result selects the NaN inputs (torch's evenly_distribute_backward)
        mask |= xp.isnan(a) & xp.isnan(rk)
    count = xp.maximum(mask.sum(axis=axes, keepdims=True), 1).astype(a.dtype)
    record(cls, r, (input,), args=(a.shape, axes, keepdim, mask, count))


def _extreme(name: str, cls: type, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    a = input._data
    axes = _axes(dim, a.ndim)
    _empty_check(name, a, axes)
    xp = _xp(a)
    fn = xp.max if name in ("max", "amax") else xp.min
    r = wrap(fn(a, axis=axes, keepdims=keepdim))
    if gm.enabled and input._rg:
        _record_even(cls, r, input, axes, keepdim)
    return r


def _select_backward(self: Node, F: Any, g: Any) -> tuple:
    """Values picked at `idx` along `axis`: the gradient goes back to those positions."""
    idx, axis, n, shape, unique = self.args
    if tuple(g.shape) != idx.shape:
        g = F.reshape(g, idx.shape)
    gx = F.scatter_along(g, idx, axis, n, unique)
    return (gx if tuple(gx.shape) == shape else F.reshape(gx, shape),)


_SELECT = (
    "MaxBackward0 MinBackward0 SortBackward0 TopkBackward0 KthvalueBackward0 MedianBackward1 "
    "NanmedianBackward1 ModeBackward0 CummaxBackward0 CumminBackward0"
)
(
    MaxBackward0, MinBackward0, SortBackward0, TopkBackward0, KthvalueBackward0, MedianBackward1,
    NanmedianBackward1, ModeBackward0, CummaxBackward0, CumminBackward0,
) = (
    _node_class(n, _select_backward) for n in _SELECT.split()
)  # fmt: skip


def _pack(
    input: Tensor,
    a1: Any,
    idx: Any,
    axis: int,
    squeeze: bool,
    cls: type,
    rtype: type,
    unique: bool = True,
) -> Any:
    """(values, indices) for positions `idx` (keepdim-shaped) of `a1` along `axis`."""
    vals = gather_array(a1, idx, axis)
    oidx = idx
    if squeeze:
        vals, oidx = vals.squeeze(axis), idx.squeeze(axis)
    if input._data.ndim == 0:
        vals, oidx = vals.reshape(()), oidx.reshape(())
    r = wrap(vals)
    if gm.enabled and input._rg:
        record(cls, r, (input,), args=(idx, axis, a1.shape[axis], input._data.shape, unique))
    return rtype(r, wrap(oidx.astype(_I64, copy=False)))


def _dim_int(name: str, dim: Any) -> int:
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got "
            f"(dim={type(dim).__name__}), but expected one of:\n * ()\n * (Tensor other)\n"
            " * (int dim, bool keepdim = False)\n"
        )
    return int(dim)


def _minmax_dim(name: str, input: Tensor, dim: Any, keepdim: bool) -> Any:
    a = input._data
    axis = _wrap(_dim_int(name, dim), a.ndim)
    a1 = _as1d(a)
    if a1.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    xp = _xp(a)
    # argmax/argmin return the first extreme, NaN counting as the extreme (as torch)
    idx = xp.expand_dims((xp.argmax if name == "max" else xp.argmin)(a1, axis=axis), axis)
    cls = MaxBackward0 if name == "max" else MinBackward0
    return _pack(input, a1, idx, axis, not keepdim, cls, getattr(rt, name))


@tensor_method
def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:
    """max(x): the largest element; max(x, dim): (values, indices); max(x, other): maximum."""
    if isinstance(dim, Tensor):
        return maximum(input, dim, out=out)
    if dim is None:
        return _ret(_extreme("max", MaxBackward1, input, None, False), out)
    return _minmax_dim("max", input, dim, keepdim)


@tensor_method
def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:
    """min(x): the smallest element; min(x, dim): (values, indices); min(x, other): minimum."""
    if isinstance(dim, Tensor):
        return minimum(input, dim, out=out)
    if dim is None:
        return _ret(_extreme("min", MinBackward1, input, None, False), out)
    return _minmax_dim("min", input, dim, keepdim)


@tensor_method
def amax(input: Tensor, dim: Any = (), keepdim: bool = False, *, out: Any = None) -> Tensor:
    """Largest value over `dim` (all if ``()``); ties share the gradient evenly."""
    return _ret(_extreme("amax", AmaxBackward0, input, dim, keepdim), out)


@tensor_method
def amin(input: Tensor, dim: Any = (), keepdim: bool = False, *, out: Any = None) -> Tensor:
    """Smallest value over `dim` (all if ``()``); ties share the gradient evenly."""
    return _ret(_extreme("amin", AminBackward0, input, dim, keepdim), out)


def _arg(name: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    a = input._data
    xp = _xp(a)
    fn = xp.argmax if name == "argmax" else xp.argmin
    if dim is None:
        _empty_check(name, a, None, IndexError)
        shape = (1,) * a.ndim if keepdim else ()
        return wrap(xp.asarray(fn(a), dtype=_I64).reshape(shape))
    axis = _wrap(dim, a.ndim)
    a1 = _as1d(a)
    _empty_check(name, a1, (axis,), IndexError)
    r = fn(a1, axis=axis)
    if keepdim and a.ndim:
        r = xp.expand_dims(r, axis)
    return wrap(xp.asarray(r, dtype=_I64).reshape(r.shape if a.ndim else ()))


@tensor_method
def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum along `dim` (of the flattened input if None); int64."""
    return _arg("argmax", input, dim, keepdim)


@tensor_method
def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum along `dim` (of the flattened input if None); int64."""
    return _arg("argmin", input, dim, keepdim)


@tensor_method
def aminmax(input: Tensor, *, dim: Any = None, keepdim: bool = False) -> Any:
    """(min, max) over `dim` (all if None) in one call."""
    a = input._data
    axes = _axes(dim, a.ndim)
    if a.size == 0:
        if dim is None:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                "no identity."
            )
        for d in axes or (0,):
            if a.shape[d] == 0:
                raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    d = () if dim is None else dim
    return rt.aminmax(amin(input, d, keepdim), amax(input, d, keepdim))


# --------------------------------------------------------------------------- var / std
def _correction(name: str, dim: Any, unbiased: Any, correction: Any) -> tuple[Any, float]:
    if dim.__class__ is bool:  # legacy var(x, unbiased)
        if unbiased is not None:
            raise TypeError(f"{name}(): unbiased given twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got both unbiased and "
            "correction; pass only one of them"
        )
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _moments(
    name: str, input: Tensor, dim: Any, c: float, keepdim: bool
) -> tuple[Any, Any, tuple, int]:
    """(variance array, keepdim mean array, axes, N) with Bessel-style correction c."""
    a = input._data
    if not _is_float(a):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = _axes(dim, a.ndim)
    n = _numel(a.shape, axes)
    dof = n - c
    if dof <= 0:
        warnings.warn(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=3,
        )
    # two-pass, shifted by each slice's first element: constant slices give exactly 0 (so std's
    # gradient there is torch's 0, not a ratio of rounding errors)
    sl = tuple(slice(0, 1) if axes is None or i in axes else slice(None) for i in range(a.ndim))
    k = a[sl] if a.size else a.dtype.type(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = k + (a - k).sum(axis=axes, keepdims=True) / a.dtype.type(n if n else np.nan)
        d = a - m
        v = (d * d).sum(axis=axes, keepdims=keepdim) / a.dtype.type(_bmax(dof, 0))
    return v, m, axes, n


class VarBackward0(Node):
    """d var / dx_i = 2 (x_i - mean) / (N - c)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any) -> tuple:
        shape, axes, keepdim, n, c = self.args
        return (_var_grad(F, g, x, shape, axes, keepdim, n, c),)


def _var_grad(
    F: Any, g: Any, x: Any, shape: tuple, axes: Any, keepdim: bool, n: int, c: float
) -> Any:
    scale = 2.0 / (n - c) if n - c > 0 else math.nan
    m = F.sum(x, axis=axes, keepdims=True) / _bmax(n, 1)
    return _keep(F, g, shape, axes, keepdim) * scale * (x - m)


class StdBackward0(Node):
    """d std / dx = d var / dx / (2 std), 0 where std == 0 (as torch)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, out: Any) -> tuple:
        shape, axes, keepdim, n, c = self.args
        z = out == 0
        gs = F.where(z, 0.0, g / (2 * F.where(z, 1.0, out)))
        return (_var_grad(F, gs, x, shape, axes, keepdim, n, c),)


def _var_std(
    name: str, input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any
) -> Tensor:
    dim, c = _correction(name, dim, unbiased, correction)
    v, _, axes, n = _moments(name, input, dim, c, keepdim)
    if name.startswith("std"):
        r = wrap(_xp(v).sqrt(v))
        if gm.enabled and input._rg:
            args = (input._data.shape, axes, keepdim, n, c)
            record(StdBackward0, r, (input,), saved=(input, r), args=args)
        return r
    r = wrap(v)
    if gm.enabled and input._rg:
        record(
            VarBackward0, r, (input,), saved=(input,), args=(input._data.shape, axes, keepdim, n, c)
        )
    return r


@tensor_method
def var(
    input: Tensor,
    dim: Any = None,
    unbiased: Any = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
    out: Any = None,
) -> Tensor:
    """Variance: sum_i (x_i - mean)^2 / (N - correction); correction=1 (unbiased) by default."""
    return _ret(_var_std("var", input, dim, unbiased, keepdim, correction), out)


@tensor_method
def std(
    input: Tensor,
    dim: Any = None,
    unbiased: Any = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
    out: Any = None,
) -> Tensor:
    """Standard deviation: sqrt(var(x))."""
    return _ret(_var_std("std", input, dim, unbiased, keepdim, correction), out)


def _with_mean(
    name: str, input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any
) -> tuple:
    if dim.__class__ is bool:
        dim, unbiased = None, dim
    v = _var_std(name, input, dim, unbiased, keepdim, correction)
    axes = _axes(dim, input._data.ndim)
    md = tuple(range(input._data.ndim)) if axes is None else axes
    return v, mean(input, md, keepdim) if md else mean(input)


def var_mean(
    input: Tensor,
    dim: Any = None,
    unbiased: Any = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> tuple:
    """(var(x), mean(x)) over the same dims."""
    return _with_mean("var_mean", input, dim, unbiased, keepdim, correction)


def std_mean(
    input: Tensor,
    dim: Any = None,
    unbiased: Any = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> tuple:
    """(std(x), mean(x)) over the same dims."""
    return _with_mean("std_mean", input, dim, unbiased, keepdim, correction)


# --------------------------------------------------------------------------- norms
class LinalgVectorNormBackward0(Node):
    """Gradient of (sum_i |x_i|^p)^(1/p), written with torch's masks for zeros and ties."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, out: Any) -> tuple:
        p, shape, axes, keepdim = self.args
        gk, nk = _keep(F, g, shape, axes, keepdim), _keep(F, out, shape, axes, keepdim)
        if p == 0:
            return (F.zeros_like(x),)
        if p == 1:
            return (F.sign(x) * gk,)
        nz = nk == 0
        if p == 2:
            return (x * F.where(nz, 0.0, gk / F.where(nz, 1.0, nk)),)
        a = F.abs(x)
        if math.isinf(p):  # derivative of amax(|x|): split among the ties (NaN counts)
            mask = (a == nk) | F.isnan(a)
            cnt = F.sum(F.where(mask, 1.0, 0.0), axis=axes, keepdims=True)
            return (F.sign(x) * F.where(mask, gk / cnt, 0.0),)
        if p < 1:
            xz = x == 0
            scaled = F.sign(x) * F.where(xz, 0.0, F.where(xz, 1.0, a) ** (p - 1))
            return (scaled * gk * nk ** (1 - p),)
        scale = F.where(nz, 0.0, gk / F.where(nz, 1.0, nk) ** (p - 1))
        if p < 2:
            return (F.sign(x) * a ** (p - 1) * scale,)
        return (x * a ** (p - 2) * scale,)


def vector_norm(
    x: Tensor,
    ord: Any = 2,
    dim: Any = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out: Any = None,
) -> Tensor:
    """Vector p-norm over `dim` (all if None): (sum_i |x_i|^ord)^(1/ord); ord 0, +-inf too."""
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' must be Number, not str")
    a = x._data
    if not _is_float(a):
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{_dname(a.dtype)}"
        )
    if dtype is not None:
        a = a.astype(dtypes.as_dtype(dtype).np)
    axes = _axes(dim, a.ndim)
    p = float(ord)
    xp = _xp(a)
    if math.isinf(p) and a.size == 0:
        if axes is None:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the "
                "operation does not have an identity"
            )
        for d in axes:
            if a.shape[d] == 0:  # (torch's text lacks the space after the dim)
                raise RuntimeError(
                    f"linalg.vector_norm cannot compute the {p} norm on the dimension {d}because "
                    "this dimension is empty and the operation does not have an identity"
                )
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if p == 2:
            r = xp.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        elif p == 1:
            r = xp.abs(a).sum(axis=axes, keepdims=keepdim)
        elif p == math.inf:
            r = xp.abs(a).max(axis=axes, keepdims=keepdim)
        elif p == -math.inf:
            r = xp.abs(a).min(axis=axes, keepdims=keepdim)
        elif p == 0:
            r = (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        else:
            r = (xp.abs(a) ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
    r = wrap(xp.asarray(r, dtype=a.dtype))
    if gm.enabled and x._rg:
        record(LinalgVectorNormBackward0, r, (x,), saved=(x, r), args=(p, a.shape, axes, keepdim))
    return _ret(r, out)


@tensor_method
def norm(
    input: Tensor,
    p: Any = "fro",
    dim: Any = None,
    keepdim: bool = False,
    out: Any = None,
    dtype: Any = None,
) -> Tensor:
    """torch.norm: 'fro' (and numbers) are vector norms over `dim`; 'nuc' is a matrix norm."""
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype, out=out)
        from ember.linalg import matrix_norm

        d = tuple(range(input.ndim)) if dim is None else dim
        return _ret(matrix_norm(input, p, d, keepdim, dtype=dtype), out)
    return vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype, out=out)


# --------------------------------------------------------------------------- logsumexp
class LogsumexpBackward0(Node):
    """d/dx_i log sum_j exp(x_j) = exp(x_i - out)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, out: Any) -> tuple:
        shape, axes, keepdim = self.args
        gk, ok = _keep(F, g, shape, axes, keepdim), _keep(F, out, shape, axes, keepdim)
        return (gk * F.exp(x - ok),)


@tensor_method
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False, *, out: Any = None) -> Tensor:
    """log sum_i exp(x_i) over `dim`, computed as m + log sum exp(x - m) with m = max x."""
    a = input._data
    if not _is_float(a):
        a = a.astype(dtypes.get_default_dtype().np)
    axes = _axes(dim, a.ndim)
    xp = _xp(a)
    if _numel(a.shape, axes) == 0:  # an empty sum: log 0
        r = xp.full(_reduced_shape(a.shape, axes, keepdim), -np.inf, a.dtype)
    else:
        m = a.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or an inf) slices: no shift
        with np.errstate(divide="ignore"):
            s = xp.log(xp.exp(a - m).sum(axis=axes, keepdims=True)) + m
        r = s if keepdim else s.reshape(_reduced_shape(a.shape, axes, False))
    r = wrap(xp.asarray(r, dtype=a.dtype))
    if gm.enabled and input._rg:
        record(LogsumexpBackward0, r, (input,), saved=(input, r), args=(a.shape, axes, keepdim))
    return _ret(r, out)


# --------------------------------------------------------------------------- scans
def _scan_axis(input: Tensor, dim: Any) -> tuple[Any, int]:
    a = input._data
    return _as1d(a), _wrap(dim, a.ndim)


class CumsumBackward0(Node):
    """d/dx_i sum_{j<=k} x_j: the reversed cumulative sum of the gradient."""

    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        axis, shape = self.args
        if not shape:
            return (g,)
        return (_rcumsum(F, g, axis),)


@tensor_method
def cumsum(input: Tensor, dim: Any, *, dtype: Any = None, out: Any = None) -> Tensor:
    """Cumulative sum along `dim`: out_k = sum_{j<=k} x_j (ints give int64)."""
    a1, axis = _scan_axis(input, dim)
    a = input._data
    r = wrap(_xp(a).cumsum(a1, axis=axis, dtype=_acc_dtype(a, dtype)).reshape(a.shape))
    if gm.enabled and input._rg:
        record(CumsumBackward0, r, (input,), args=(axis, a.shape))
    return _ret(r, out)


class CumprodBackward0(Node):
    """d/dx_k prod_{j<=i} x_j, summed against g: sum_{i>=k} g_i prod_{j<=i, j!=k} x_j."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, out: Any) -> tuple:
        axis, shape, zeros = self.args
        if not shape:
            g, x, out = F.reshape(g, (1,)), F.reshape(x, (1,)), F.reshape(out, (1,))
        if not zeros:
            gx = _rcumsum(F, g * out, axis) / x
        elif isinstance(g, Tensor):
            gx = _cumprod_grad_exact(F, g, x, axis)
        else:
            gx = _cumprod_grad_zeros(F, g, x, out, axis)
        return (gx if shape else F.reshape(gx, shape),)


def _cumprod_grad_zeros(F: Any, g: Any, x: Any, out: Any, axis: int) -> Any:
    """O(n) first derivative with zeros (arrays only), z = first zero of each slice.

    k < z: rcumsum(g * out)_k / x_k; k == z: prod_{j<z} x_j * sum_{i>=z} g_i prod_{z<j<=i} x_j;
    k > z: 0 (every product through k also holds x_z = 0).
    """
    iszero = x == 0
    seen = F.cumsum(iszero, axis)
    before = seen == 0
    at = iszero & (seen == 1)
    gb = _rcumsum(F, g * out, axis) / F.where(before, x, 1.0)  # out_j = 0 for j >= z
    pz = F.prod(F.where(before, x, 1.0), axis=axis, keepdims=True)
    cp = F.cumprod(F.where(before | at, 1.0, x), axis)
    s = F.sum(F.where(before, 0.0, g * cp), axis=axis, keepdims=True)
    return F.where(before, gb, F.where(at, pz * s, 0.0))


def _cumprod_grad_exact(F: Any, g: Any, x: Any, axis: int) -> Any:
    """The same gradient as differentiable ops, O(n^2) like torch's double-backward path.

    m[..., k, j] = x_j with 1 on the diagonal; p = cumprod(m, -1) holds prod_{j<=i, j!=k} x_j.
    """
    xs, gs = F.swapaxes(x, axis, -1), F.swapaxes(g, axis, -1)
    n = xs.shape[-1]
    xp = _xp_of_any(x)
    pos = xp.arange(n)
    m = F.where(pos[:, None] == pos[None, :], 1.0, F.expand_dims(xs, -2))
    p = F.cumprod(m, -1)
    gx = F.sum(F.where(pos[None, :] >= pos[:, None], F.expand_dims(gs, -2) * p, 0.0), axis=-1)
    return F.swapaxes(gx, axis, -1)


@tensor_method
def cumprod(input: Tensor, dim: Any, *, dtype: Any = None, out: Any = None) -> Tensor:
    """Cumulative product along `dim`: out_k = prod_{j<=k} x_j (ints give int64)."""
    a1, axis = _scan_axis(input, dim)
    a = input._data
    r = wrap(_xp(a).cumprod(a1, axis=axis, dtype=_acc_dtype(a, dtype)).reshape(a.shape))
    if gm.enabled and input._rg:
        zeros = bool((a == 0).any())
        record(CumprodBackward0, r, (input,), saved=(input, r), args=(axis, a.shape, zeros))
    return _ret(r, out)


def _scan_inplace(name: str, op: Any, saves_input: bool) -> None:
    def inplace(self: Tensor, dim: Any, *, dtype: Any = None) -> Tensor:
        check_inplace(self, name)
        # cumprod's backward reads the original input: keep a copy, as torch does
        src = _snapshot(self) if saves_input and gm.enabled and self._rg else self
        d = self.dtype if dtype is None else dtype  # in place: accumulate in self's dtype
        return commit_inplace(self, op(src, dim, dtype=d), name)

    inplace.__name__ = name
    inplace.__doc__ = f"In-place {name[:-1]} along `dim`."
    setattr(Tensor, name, inplace)


_scan_inplace("cumsum_", cumsum, False)
_scan_inplace("cumprod_", cumprod, True)


def _accumulate(xp: Any, fn: Any, a: Any, axis: int) -> Any:
    """fn.accumulate along `axis`; CuPy lacks it for maximum/minimum: a log-step scan there."""
    if xp is np:
        return fn.accumulate(a, axis=axis)
    out = xp.moveaxis(a, axis, -1).copy()
    s = 1
    while s < out.shape[-1]:  # Hillis-Steele: after the pass for s, out_i covers (i - 2s, i]
        out[..., s:] = fn(out[..., s:], out[..., :-s])
        s *= 2
    return xp.moveaxis(out, -1, axis)


def _cum_extreme(name: str, input: Tensor, dim: Any) -> Any:
    a1, axis = _scan_axis(input, dim)
    xp = _xp(a1)
    vals = _accumulate(xp, xp.maximum if name == "cummax" else xp.minimum, a1, axis)
    # the index follows the latest element equal to the running extreme (ties move it, as
    # torch's `>=`); once the extreme is NaN only later NaNs move it
    upd = a1 == vals
    if _is_float(a1):
        upd |= xp.isnan(a1)
    pos = _along(a1.shape[axis], axis, a1.ndim, xp)
    idx = _accumulate(xp, xp.maximum, xp.where(upd, pos, 0), axis)
    cls = CummaxBackward0 if name == "cummax" else CumminBackward0
    return _pack(input, a1, idx, axis, False, cls, getattr(rt, name), unique=False)


@tensor_method
def cummax(input: Tensor, dim: Any) -> Any:
    """Running maximum along `dim` and the index where it was attained: (values, indices)."""
    return _cum_extreme("cummax", input, dim)


@tensor_method
def cummin(input: Tensor, dim: Any) -> Any:
    """Running minimum along `dim` and the index where it was attained: (values, indices)."""
    return _cum_extreme("cummin", input, dim)


# --------------------------------------------------------------------------- logical
def _logical(name: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    a = input._data
    axes = _axes(dim, a.ndim)
    r = a.all(axis=axes, keepdims=keepdim) if name == "all" else a.any(axis=axes, keepdims=keepdim)
    if a.dtype == np.uint8:  # torch keeps uint8 for uint8 inputs
        r = r.astype(np.uint8)
    return wrap(r)


@tensor_method
def all(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Tensor:
    """True where every element over `dim` is nonzero (bool; uint8 for uint8 input)."""
    return _ret(_logical("all", input, dim, keepdim), out)


@tensor_method
def any(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Tensor:
    """True where some element over `dim` is nonzero (bool; uint8 for uint8 input)."""
    return _ret(_logical("any", input, dim, keepdim), out)


@tensor_method
def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """Number of nonzero elements over `dim` (all if None), int64."""
    a = input._data
    xp = _xp(a)
    return wrap(xp.asarray(xp.count_nonzero(a, axis=_axes(dim, a.ndim)), dtype=_I64))


# --------------------------------------------------------------------------- sorting
def _argsort(a: Any, axis: int, descending: bool) -> Any:
    """Stable argsort; NaN sorts as the largest value (last ascending, first descending)."""
    xp = _xp(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    # reversing the input, sorting stably and reversing back keeps ties in input order
    n = a.shape[axis]
    return (n - 1) - xp.flip(xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)


@tensor_method
def sort(
    input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False, *, out: Any = None
) -> Any:
    """Sorted values along `dim` and their source indices: (values, indices). Always stable."""
    a1, axis = _scan_axis(input, dim)
    return _pack(input, a1, _argsort(a1, axis, descending), axis, False, SortBackward0, rt.sort)


@tensor_method
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort `input` along `dim` (int64)."""
    a1, axis = _scan_axis(input, dim)
    return wrap(_argsort(a1, axis, descending).reshape(input._data.shape).astype(_I64, copy=False))


@tensor_method
def msort(input: Tensor) -> Tensor:
    """Sort along the first dim: sort(x, dim=0).values."""
    return sort(input, 0).values


@tensor_method
def topk(
    input: Tensor,
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,
    *,
    out: Any = None,
) -> Any:
    """The k largest (or smallest) values along `dim` and their indices."""
    a1, axis = _scan_axis(input, dim)
    n = a1.shape[axis]
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    xp = _xp(a1)
    if k == 0:
        idx = xp.zeros(_take(a1, 0, 0, axis).shape, _I64)
    elif 4 * k >= n:  # a full sort is as cheap
        idx = _take(_argsort(a1, axis, largest), 0, k, axis)
    else:  # partition, then order only the k picks
        kth = n - k if largest else k - 1
        part = xp.argpartition(a1, kth, axis=axis)
        idx = _take(part, n - k, None, axis) if largest else _take(part, 0, k, axis)
        if sorted:
            idx = gather_array(idx, _argsort(gather_array(a1, idx, axis), axis, largest), axis)
    return _pack(input, a1, idx, axis, False, TopkBackward0, rt.topk)


@tensor_method
def kthvalue(
    input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, out: Any = None
) -> Any:
    """The k-th smallest value (1-based) along `dim` and its index."""
    a1, axis = _scan_axis(input, dim)
    n = a1.shape[axis]
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {axis} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    idx = _take(_xp(a1).argpartition(a1, k - 1, axis=axis), k - 1, k, axis)
    return _pack(input, a1, idx, axis, not keepdim, KthvalueBackward0, rt.kthvalue)


def _first_nan(a1: Any, idx: Any, axis: int) -> Any:
    """Slices holding a NaN select their first NaN (torch's median propagates NaN)."""
    if not _is_float(a1):
        return idx
    xp = _xp(a1)
    nan = xp.isnan(a1)
    has = nan.any(axis=axis, keepdims=True)
    if not bool(has.any()):
        return idx
    return xp.where(has, xp.expand_dims(xp.argmax(nan, axis=axis), axis), idx)


def _median_all(name: str, input: Tensor, ignore_nan: bool) -> Tensor:
    a = input._data
    xp = _xp(a)
    flat = a.reshape(-1)
    if ignore_nan and _is_float(a):
        flat = flat[~xp.isnan(flat)]
    if flat.size == 0 or (_is_float(a) and bool(xp.isnan(flat).any())):
        v = xp.asarray(np.nan, a.dtype)
    else:
        k = (flat.size - 1) // 2  # the lower median, as torch
        v = xp.partition(flat, k)[k]
    r = wrap(xp.asarray(v, dtype=a.dtype).reshape(()))
    if gm.enabled and input._rg:
        cls = NanmedianBackward0 if ignore_nan else MedianBackward0
        _record_even(cls, r, input, None, False)
    return r


def _check_median(name: str, a: Any) -> None:
    if a.dtype == np.bool_:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")


@tensor_method
def median(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:
    """Lower median: of all elements (a 0-d tensor), or along `dim` as (values, indices)."""
    _check_median("median", input._data)
    if dim is None:
        return _ret(_median_all("median", input, False), out)
    a1, axis = _scan_axis(input, dim)
    n = a1.shape[axis]
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size.")
    k = (n - 1) // 2
    idx = _first_nan(a1, _take(_xp(a1).argpartition(a1, k, axis=axis), k, k + 1, axis), axis)
    return _pack(input, a1, idx, axis, not keepdim, MedianBackward1, rt.median)


@tensor_method
def nanmedian(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:
    """median ignoring NaN (NaN only where a whole slice is NaN)."""
    _check_median("nanmedian", input._data)
    if dim is None:
        return _ret(_median_all("nanmedian", input, True), out)
    a1, axis = _scan_axis(input, dim)
    n = a1.shape[axis]
    if n == 0:
        raise IndexError(f"nanmedian(): Expected reduction dim {axis} to have non-zero size.")
    xp = _xp(a1)
    order = _argsort(a1, axis, False)  # NaN last
    cnt = (~xp.isnan(a1)).sum(axis=axis, keepdims=True) if _is_float(a1) else n
    k = xp.maximum(xp.asarray(cnt) - 1, 0) // 2
    idx = gather_array(order, xp.broadcast_to(k, _take(a1, 0, 1, axis).shape), axis)
    return _pack(input, a1, idx, axis, not keepdim, NanmedianBackward1, rt.nanmedian)


@tensor_method
def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out: Any = None) -> Any:
    """Most frequent value along `dim` (the smallest of equally frequent ones), its last index."""
    a1, axis = _scan_axis(input, dim)
    n = a1.shape[axis]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size.")
    xp = _xp(a1)
    order = xp.moveaxis(_argsort(a1, axis, False), axis, -1)  # stable: equal values in order
    s = gather_array(xp.moveaxis(a1, axis, -1), order, a1.ndim - 1)
    pos = xp.arange(n)
    change = s[..., 1:] != s[..., :-1]
    edge = xp.ones(s.shape[:-1] + (1,), bool)
    start = _accumulate(xp, xp.maximum, xp.where(xp.concatenate([edge, change], -1), pos, 0), -1)
    end_mark = xp.where(xp.concatenate([change, edge], -1), pos, n)
    end = xp.flip(_accumulate(xp, xp.minimum, xp.flip(end_mark, -1), -1), -1)
    best = xp.argmax(end - start, axis=-1)[..., None]  # first longest run: the smallest value
    last = gather_array(end, best, a1.ndim - 1)
    idx = xp.moveaxis(gather_array(order, last, a1.ndim - 1), -1, axis)
    return _pack(input, a1, idx, axis, not keepdim, ModeBackward0, rt.mode)


# --------------------------------------------------------------------------- unique / diff
@tensor_method
def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: Any = None,
) -> Any:
    """Sorted distinct values (or slices along `dim`), optionally with inverse and counts."""
    a = input._data
    xp = _xp(a)
    src = a.reshape(-1) if dim is None else a
    kw = {} if dim is None else {"axis": _wrap(dim, a.ndim)}
    res = xp.unique(src, return_inverse=return_inverse, return_counts=return_counts, **kw)
    if not (return_inverse or return_counts):
        return wrap(res)
    vals, *rest = res
    outs = [wrap(vals)]
    if return_inverse:
        inv = rest.pop(0)
        outs.append(wrap(inv.reshape(a.shape if dim is None else (-1,)).astype(_I64, copy=False)))
    if return_counts:
        outs.append(wrap(rest.pop(0).astype(_I64, copy=False)))
    return tuple(outs)


@tensor_method
def unique_consecutive(
    input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim: Any = None
) -> Any:
    """Collapse runs of equal consecutive values (or slices along `dim`)."""
    a = input._data
    xp = _xp(a)
    if dim is None:
        src, axis = a.reshape(-1), 0
        change = src[1:] != src[:-1]
    else:
        axis = _wrap(dim, a.ndim)
        src = a
        diffs = _take(src, 1, None, axis) != _take(src, 0, -1, axis)
        other = tuple(d for d in range(a.ndim) if d != axis)
        change = diffs.any(axis=other) if other else diffs
    n = src.shape[axis]
    keep = xp.concatenate([xp.ones(1, bool), change]) if n else xp.zeros(0, bool)
    pos = xp.nonzero(keep)[0]
    outs = [wrap(xp.take(src, pos, axis=axis))]
    if return_inverse:
        inv = xp.cumsum(keep) - 1
        outs.append(wrap(inv.reshape(a.shape if dim is None else (-1,)).astype(_I64)))
    if return_counts:
        outs.append(wrap(xp.diff(xp.concatenate([pos, xp.asarray([n])])).astype(_I64)))
    return outs[0] if len(outs) == 1 else tuple(outs)


class DiffBackward0(Node):
    """Adjoint of y_i = x_{i+1} - x_i: gx_i = g_{i-1} [i >= 1] - g_i [i <= n-2]."""

    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        axis, shape = self.args
        n = shape[axis]
        if n <= 1:  # no differences: a zero gradient (a sum over the empty axis)
            return (F.broadcast_to(F.sum(g, axis=axis, keepdims=True), shape),)
        xp = _xp_of_any(g)
        pos = _along(n, axis, len(shape), xp)
        prev = F.where(pos == 0, 0.0, F.gather_along(g, xp.maximum(pos - 1, 0), axis))
        cur = F.where(pos == n - 1, 0.0, F.gather_along(g, xp.minimum(pos, n - 2), axis))
        return (prev - cur,)


def _diff1(x: Tensor, axis: int) -> Tensor:
    a = x._data
    r = wrap(_xp(a).diff(a, axis=axis))
    if gm.enabled and x._rg:
        record(DiffBackward0, r, (x,), args=(axis, a.shape))
    return r


class CatBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        axis, sizes = self.args
        xp = _xp_of_any(g)
        outs, off = [], 0
        for n in sizes:
            outs.append(F.gather_along(g, off + _along(n, axis, g.ndim, xp), axis))
            off += n
        return tuple(outs)


def _cat(ts: list[Tensor], axis: int) -> Tensor:
    arrs = [t._data for t in ts]
    r = wrap(_xp(arrs[0]).concatenate(arrs, axis=axis))
    if gm.enabled and builtins.any(t._rg for t in ts):
        record(CatBackward0, r, tuple(ts), args=(axis, [a.shape[axis] for a in arrs]))
    return r


@tensor_method
def diff(
    input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None
) -> Tensor:
    """n-th forward difference along `dim`: out_i = x_{i+1} - x_i, applied n times."""
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    axis = _wrap(dim, input._data.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    x = _cat(parts, axis) if len(parts) > 1 else input
    for _ in range(n):
        if x._data.shape[axis] == 0:
            break
        x = _diff1(x, axis)
    return x


# --------------------------------------------------------------------------- F registrations
engine.register_array_fn("gather_along", gather_array)
engine.register_array_fn("scatter_along", scatter_array)
engine.register_array_fn("flip_along", _flip_array)
tensor_np.register("gather_along", _gather_t)
tensor_np.register("scatter_along", _scatter_t)
tensor_np.register("flip_along", _flip_t)
tensor_np.register(
    "prod",
    lambda x, axis=None, keepdims=False: prod(x, axis, keepdims) if axis is not None else prod(x),
)
tensor_np.register("cumprod", lambda x, axis: cumprod(x, axis))
