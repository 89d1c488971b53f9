"""Indexing: ``t[i]`` / ``t[i] = v``, gather/scatter, the index_* family, masked ops, take/put.

``t[index]`` follows torch's rules, which are NumPy's with one difference: ints, slices and None
are applied first (a view), and the index tensors then address the dims of that view. Basic
indexing returns a view with one node (SelectBackward0, SliceBackward0, ...); advanced indexing
copies (IndexBackward0). Gradients of reads are scatter-adds into zeros (repeated indices add up),
written against ``F.index_accumulate`` / ``F.index_embed`` / ``F.index_zero``, helpers registered
here for both backward namespaces (NumPy arrays, and differentiable Tensors for create_graph).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ember import dtypes
from ember.autograd import engine, tensor_np
from ember.autograd.node import site
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
from ember.ops.views import make_view, refresh_view
from ember.tensor import _wrap_dim, tensor_method

__all__ = [
    "getitem", "setitem", "gather", "scatter", "scatter_add", "scatter_reduce", "index_select",
    "index_add", "index_copy", "index_fill", "index_put", "index_put_", "masked_fill",
    "masked_scatter", "masked_select", "take", "take_along_dim", "nonzero", "argwhere", "put",
]  # fmt: skip

_FULL = slice(None)
_nd = np.ndarray
_INTS = (int, np.integer)


# =========================================================================== array kernels
def _xp(a: Any) -> Any:
    if a.__class__ is _nd or isinstance(a, np.generic):
        return np
    from ember.backends import xp_of

    return xp_of(a)


def _accumulate(out: Any, index: Any, values: Any) -> None:
    """``out[index] += values`` where repeated positions add up (NumPy semantics of `index`).

    `index`: slices and int/bool arrays (ints count as 0-d arrays). Floats take one of two
    vectorised paths (``np.add.at`` is several times slower): a dense ``bincount`` when the
    indexed rows are few compared with the updates, else a stable sort and ``add.reduceat``.
    """
    if not isinstance(index, tuple):
        index = (index,)
    xp = _xp(out)
    pre: list[Any] = []
    arrs: list[Any] = []
    pos: list[int] = []
    n_used = sum(x.ndim if _is_mask(x) else 0 if x is Ellipsis else 1 for x in index)
    for it in index:
        if isinstance(it, slice):
            pre.append(it)
        elif it is Ellipsis:
            pre.extend([_FULL] * (out.ndim - n_used))
        elif isinstance(it, _INTS):
            pos.append(len(pre))
            arrs.append(xp.asarray(it))
            pre.append(_FULL)
        elif _is_mask(it):
            for z in it.nonzero():
                pos.append(len(pre))
                arrs.append(z)
                pre.append(_FULL)
        else:
            pos.append(len(pre))
            arrs.append(it)
            pre.append(_FULL)
    if not arrs:
        out[index] += values
        return
    view = out[tuple(pre)] if any(p != _FULL for p in pre) else out
    bshape = np.broadcast_shapes(*(x.shape for x in arrs))
    nb, p0 = len(bshape), pos[0]
    adjacent = pos == list(range(p0, p0 + len(pos)))
    rest = tuple(s for i, s in enumerate(view.shape) if i not in pos)
    if adjacent:
        full = view.shape[:p0] + bshape + view.shape[pos[-1] + 1 :]
        values = xp.broadcast_to(values, full)
        if p0:
            values = xp.moveaxis(values, list(range(p0, p0 + nb)), list(range(nb)))
    else:
        values = xp.broadcast_to(values, bshape + rest)
    # the indexed dims to the front: target is (indexed dims..., rest...), values (bshape..., rest...)
    target = xp.moveaxis(view, pos, list(range(len(pos))))
    pshape = target.shape[: len(pos)]
    k, r, m = math.prod(bshape), math.prod(rest), math.prod(pshape)
    if k == 0 or r == 0:
        return
    if out.dtype.kind != "f" or xp is not np:
        xp.add.at(target, tuple(xp.broadcast_to(x, bshape) for x in arrs), values)
        return
    lin = np.ravel_multi_index(tuple(arrs), pshape, mode="wrap").reshape(-1)
    v2 = values.reshape(k, r)
    if m <= 4 * k:  # dense: one bincount over (row, column) pairs
        flat = lin if r == 1 else (lin[:, None] * r + np.arange(r)).reshape(-1)
        acc = np.bincount(flat, weights=v2.reshape(-1), minlength=m * r)
        target += acc.reshape(pshape + rest)
        return
    order = np.argsort(lin, kind="stable")
    ls = lin[order]
    starts = np.flatnonzero(np.concatenate(([True], ls[1:] != ls[:-1])))
    sums = np.add.reduceat(v2[order], starts, axis=0)
    target[np.unravel_index(ls[starts], pshape)] += sums.reshape((len(starts),) + rest)


def _is_mask(x: Any) -> bool:
    return (
        getattr(x, "dtype", None) is not None
        and not isinstance(x, np.generic)
        and x.dtype.kind == "b"
    )


def _np_index_embed(values: Any, shape: tuple, index: Any) -> Any:
    """zeros(shape) with ``[index] = values`` (positions are distinct)."""
    z = _xp(values).zeros(shape, values.dtype)
    z[index] = values
    return z


def _np_index_accumulate(values: Any, shape: tuple, index: Any) -> Any:
    """zeros(shape) with ``[index] += values`` (repeated positions add up)."""
    z = _xp(values).zeros(shape, values.dtype)
    _accumulate(z, index, values)
    return z


def _np_index_zero(g: Any, index: Any) -> Any:
    """A copy of g with the indexed positions set to zero."""
    c = g.copy()
    c[index] = 0
    return c


class IndexEmbedBackward(Node):
    """Backward of index_embed (only built under create_graph): read the region back."""

    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (g[self.args],)


def _t_index_embed(values: Tensor, shape: tuple, index: Any) -> Tensor:
    r = _make(_np_index_embed(values._data, shape, index))
    if gm.enabled and values._rg:
        record(IndexEmbedBackward, r, (values,), args=index)
    return r


def _t_index_accumulate(values: Tensor, shape: tuple, index: Any) -> Tensor:
    z = _make(_xp(values._data).zeros(shape, values._data.dtype))
    return _index_put_np(z, index, values, True)


def _t_index_zero(g: Tensor, index: Any) -> Tensor:
    return _index_put_np(g, index, 0, False)


for _n, _a, _t in (
    ("index_embed", _np_index_embed, _t_index_embed),
    ("index_accumulate", _np_index_accumulate, _t_index_accumulate),
    ("index_zero", _np_index_zero, _t_index_zero),
):
    engine.register_array_fn(_n, _a)
    tensor_np.register(_n, _t)


# =========================================================================== small helpers
def _grad(*ts: Any) -> bool:
    if not gm.enabled:
        return False
    for t in ts:  # noqa: SIM110  (a plain loop: this runs on every op call)
        if isinstance(t, Tensor) and t._rg:
            return True
    return False


def _wdim(dim: Any, ndim: int) -> int:
    """Wrap `dim` the way the indexing ops do: a 0-d tensor counts as 1-d."""
    return _wrap_dim(dim, max(ndim, 1))


def _bump(t: Tensor, name: str) -> None:
    vc = t._vc
    vc[0] += 1
    vc[1] = (name, site(2))


def _dname(a: Any) -> str:
    try:
        return _tname(dtypes.from_np(a.dtype))
    except (KeyError, TypeError):
        return str(a.dtype)


_CTYPE = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
    "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
    "uint8": "unsigned char", "bool": "bool",
}  # fmt: skip


def _bshape(a: tuple, b: tuple) -> tuple:
    """Broadcast shape with torch's error text."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        n = max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        for i in range(n - 1, -1, -1):
            if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
                raise RuntimeError(
                    f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                    f"non-singleton dimension {i}"
                ) from None
        raise


def _arr(x: Any, like: Any) -> Any:
    """The array of a Tensor / list / array index, on `like`'s device."""
    if isinstance(x, Tensor):
        a = x._data
    elif isinstance(x, list | tuple):
        a = np.asarray(x)
        if a.size == 0:
            a = a.astype(np.int64)
    else:
        a = x
    if a.__class__ is not like.__class__ and like.__class__ is not _nd:
        a = _xp(like).asarray(a)
    return a


def _int_index(x: Any, like: Any, msg: str, allowed: str = "int32/int64") -> Any:
    a = _arr(x, like)
    ok = (np.int64,) if allowed == "int64" else (np.int64, np.int32)
    if getattr(a, "dtype", None) is None or a.dtype.type not in ok:
        raise RuntimeError(msg)
    return a


def _first_bad(a: Any, lo: int, hi: int) -> int:
    flat = a.reshape(-1)
    return int(flat[int(((flat < lo) | (flat >= hi)).nonzero()[0][0])])


def _check_range(a: Any, n: int, negative: bool, fmt: Any, cls: type = RuntimeError) -> Any:
    """Raise `cls(fmt(bad))` if an index is outside [0, n) (or [-n, n)); returns it non-negative."""
    if a.size == 0:
        return a
    lo_ok = -n if negative else 0
    lo, hi = int(a.min()), int(a.max())
    if lo < lo_ok or hi >= n:
        raise cls(fmt(_first_bad(a, lo_ok, n)))
    if lo < 0:
        a = _xp(a).where(a < 0, a + n, a)
    return a


def _as1d(a: Any) -> Any:
    return a.reshape(1) if a.ndim == 0 else a


def _dim_index(idx: Any, dim: int) -> tuple:
    """Index tuple reading ``a[i0, .., idx[i0, .., ik], .., ik]`` at every position of idx."""
    xp = _xp(idx)
    nd = idx.ndim
    out = []
    for d in range(nd):
        if d == dim:
            out.append(idx)
        else:
            shape = [1] * nd
            shape[d] = idx.shape[d]
            out.append(xp.arange(idx.shape[d]).reshape(shape))
    return tuple(out)


def _crop(a: Any, shape: tuple) -> Any:
    if a.shape == tuple(shape):
        return a
    return a[tuple(slice(0, s) for s in shape)]


def _inplace(name: str, fn: Any, fast: Any) -> Any:
    """Tensor method `name` (e.g. 'index_add_'): writes in place without a graph when none is
    needed, else computes the out-of-place result and commits it (rebasing views)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if not _grad(self, *args, *kwargs.values()):
            fast(self, *args, **kwargs)
            _bump(self, name)
            return self
        check_inplace(self, name)
        return commit_inplace(self, fn(self, *args, **kwargs), name)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place {name[:-1]}."
    setattr(Tensor, name, method)
    return method


def _value_array(value: Any, a: Any) -> Any:
    """A Python number / 0-d tensor as a 0-d array of a's dtype (torch casts fill values)."""
    if isinstance(value, Tensor):
        v = value._data
    elif isinstance(value, bool | int | float | np.number | np.bool_):
        v = value
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a torch.{_dname(a)}Tensor")
    return _xp(a).asarray(v).astype(a.dtype)


# =========================================================================== t[index]: parsing
_SEQ_WARN = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
    "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted "
    "as tensor index, x[torch.tensor(seq)], which will result either in an error or a different "
    "result"
)
_U8_WARN = (
    "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead."
)


def _seq_as_tuple(index: list) -> bool:
    """torch's (NumPy's legacy) rule: a short list holding slices/None/.../sequences is a tuple."""
    if len(index) >= 32:
        return False
    for x in index:
        if isinstance(x, Tensor | list | tuple | slice | _nd | str) or x is None or x is Ellipsis:
            return True
    return False


def _item_kind(x: Any, a: Any) -> tuple[str, Any]:
    """Classify one index item: ('int', i) / ('slice', s) / ('none', _) / ('ellipsis', _) /
    ('bool', b) / ('mask', arr) / ('array', arr)."""
    if isinstance(x, bool | np.bool_):
        return "bool", bool(x)
    if isinstance(x, _INTS):
        return "int", int(x)
    if x.__class__ is slice:
        return "slice", x
    if x is None:
        return "none", None
    if x is Ellipsis:
        return "ellipsis", None
    if isinstance(x, Tensor | list | tuple | _nd):
        arr = _arr(x, a)
        k = arr.dtype.kind
        if arr.dtype == np.uint8 and not isinstance(x, list | tuple):
            warnings.warn(_U8_WARN, UserWarning, stacklevel=4)
            arr = arr.astype(bool)
            k = "b"
        if k == "b":
            return ("bool", bool(arr)) if arr.ndim == 0 else ("mask", arr)
        if k in "iu":
            return ("int", int(arr)) if arr.ndim == 0 else ("array", arr)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(x, str):
        raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
        f"indices (got {type(x).__name__})"
    )


def _slice(s: slice, n: int) -> tuple[slice, bool]:
    """A slice with plain ints (torch rejects steps <= 0); and whether it is the full range."""
    start, stop, step = s.start, s.stop, s.step
    if step is not None:
        step = int(step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step < 0:
            raise ValueError("step must be greater than zero")
    s = slice(None if start is None else int(start), None if stop is None else int(stop), step)
    return s, s.indices(n) == (0, n, 1)


def _parse_basic(a: Any, index: tuple) -> tuple[tuple, str, list] | None:
    """Fast path of _parse for tuples of plain ints and slices (None: take the general path)."""
    shape = a.shape
    if len(index) > len(shape):
        return None
    last = "alias"
    for d, x in enumerate(index):
        c = x.__class__
        if c is int:
            n = shape[d]
            if not -n <= x < n:
                raise IndexError(f"index {x} is out of bounds for dimension {d} with size {n}")
            last = "select"
        elif c is slice:
            if x.step is not None and x.step.__class__ is not int:
                return None
            if (x.start is not None and x.start.__class__ is not int) or (
                x.stop is not None and x.stop.__class__ is not int
            ):
                return None
            if x.step is not None and x.step <= 0:
                _slice(x, shape[d])  # raises torch's error
            if x.indices(shape[d]) != (0, shape[d], 1):
                last = "slice"
        else:
            return None
    return (*index, Ellipsis), last, []


def _parse(a: Any, index: Any) -> tuple[tuple, str, list]:
    """torch's index -> (basic NumPy index giving a view, its last view op, advanced entries).

    The advanced entries are (dim in that view, int array or bool mask), in dim order.
    """
    c = index.__class__
    if c is tuple or c is int:
        r = _parse_basic(a, index if c is tuple else (index,))
        if r is not None:
            return r
    if c is not tuple:
        if index.__class__ is list and _seq_as_tuple(index):
            warnings.warn(_SEQ_WARN, UserWarning, stacklevel=4)
            index = tuple(index)
        elif c is slice and a.ndim:  # a lone slice is recorded even if full
            return (_slice(index, a.shape[0])[0], Ellipsis), "slice", []
        else:
            index = (index,)
    items = [_item_kind(x, a) for x in index]
    shape, nd = a.shape, a.ndim
    used = 0
    for kind, v in items:
        if kind in ("int", "slice", "array"):
            used += 1
        elif kind == "mask":
            used += v.ndim
    if used > nd:
        if nd == 0 and items[0][0] in ("int", "slice"):
            if items[0][0] == "slice":
                raise IndexError("slice() cannot be applied to a 0-dim tensor.")
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
            )
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    basic: list[Any] = []
    adv: list[tuple[int, Any]] = []
    last = "alias"
    d = vd = 0  # current dim in the input / in the basic view
    ell = False
    for kind, v in items:
        if kind == "int":
            n = shape[d]
            if not -n <= v < n:
                raise IndexError(f"index {v} is out of bounds for dimension {d} with size {n}")
            basic.append(v)
            d += 1
            last = "select"
        elif kind == "slice":
            if nd == 0:
                raise IndexError("slice() cannot be applied to a 0-dim tensor.")
            s, full = _slice(v, shape[d])
            basic.append(s)
            if not full:
                last = "slice"
            d += 1
            vd += 1
        elif kind == "none":
            basic.append(None)
            vd += 1
            last = "unsqueeze"
        elif kind == "ellipsis":
            k = 0 if ell else nd - used
            ell = True
            basic.extend([_FULL] * k)
            d += k
            vd += k
        elif kind == "bool":  # unsqueeze, then index the new dim with [0] (True) or [] (False)
            basic.append(None)
            adv.append((vd, np.zeros(1 if v else 0, np.int64)))
            vd += 1
        elif kind == "mask":
            k = v.ndim
            basic.extend([_FULL] * k)
            adv.append((vd, v))
            d += k
            vd += k
        else:
            basic.append(_FULL)
            adv.append((vd, v))
            d += 1
            vd += 1
    basic.append(Ellipsis)
    return tuple(basic), last, adv


def _adv_tuple(v: Any, adv: list) -> tuple[tuple, bool]:
    """NumPy index over the basic view `v` for the advanced entries (full slices elsewhere), and
    whether the positions it reads are known to be distinct (a single mask)."""
    out: list[Any] = []
    j = 0
    for vd, arr in adv:
        out.extend([_FULL] * (vd - j))
        if _is_mask(arr):
            for i in range(arr.ndim):
                if arr.shape[i] != v.shape[vd + i]:
                    raise IndexError(
                        f"The shape of the mask {list(arr.shape)} at index {i} does not match the "
                        f"shape of the indexed tensor {list(v.shape)} at index {vd + i}"
                    )
            j = vd + arr.ndim
        else:
            j = vd + 1
        out.append(arr)
    uniq = len(adv) == 1 and (_is_mask(adv[0][1]) or adv[0][1].size <= 1)
    return tuple(out), uniq


def _adv_error(v: Any, adv: list) -> Exception | None:
    """torch's message for an advanced index NumPy rejected (bounds, broadcasting)."""
    k = 0
    shapes = []
    for vd, arr in adv:
        if _is_mask(arr):
            k += arr.ndim
            shapes.append((int(arr.sum()),))
            continue
        n = v.shape[vd]
        if arr.size and (int(arr.min()) < -n or int(arr.max()) >= n):
            bad = _first_bad(arr, -n, n)
            return IndexError(f"index {bad} is out of bounds for dimension {k} with size {n}")
        shapes.append(arr.shape)
        k += 1
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return IndexError(
            "shape mismatch: indexing tensors could not be broadcast together with shapes "
            + ", ".join(str(list(s)) for s in shapes)
        )
    return None


def _indexed_shape(shape: tuple, index: tuple) -> tuple:
    """Shape of ``a[index]`` for a NumPy index of slices and arrays, without touching data."""
    pos: list[int] = []
    shapes: list[tuple] = []
    dims: list[int] = []
    d = 0
    for it in index:
        if isinstance(it, slice):
            dims.append(len(range(*it.indices(shape[d]))))
            d += 1
        elif _is_mask(it):
            pos.append(len(dims))
            shapes.append((int(it.sum()),))
            d += it.ndim
        else:
            pos.append(len(dims))
            shapes.append(np.shape(it))
            d += 1
    tail = tuple(shape[d:])
    if not pos:
        return tuple(dims) + tail
    b = np.broadcast_shapes(*shapes)
    if pos == list(range(pos[0], pos[0] + len(pos))):
        return tuple(dims[: pos[0]]) + b + tuple(dims[pos[0] :]) + tail
    return b + tuple(dims) + tail


# =========================================================================== t[index]
class _BasicIndexRule:
    """Backward of a basic-index view: the gradient placed into zeros of the input's shape.

    A mixin, not a Node: the concrete nodes carry torch's names (SelectBackward0, ...).
    """

    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, basic = self.args  # type: ignore[attr-defined]
        return (F.index_embed(g, shape, basic),)


SelectBackward0 = type("SelectBackward0", (_BasicIndexRule, Node), {"__slots__": ()})
SliceBackward0 = type("SliceBackward0", (_BasicIndexRule, Node), {"__slots__": ()})
UnsqueezeBackward0 = type("UnsqueezeBackward0", (_BasicIndexRule, Node), {"__slots__": ()})


class AliasBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (g,)


_BASIC = {
    "select": SelectBackward0, "slice": SliceBackward0, "unsqueeze": UnsqueezeBackward0,
    "alias": AliasBackward0,
}  # fmt: skip


class IndexBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, basic, vshape, advt, uniq = self.args
        gv = F.index_embed(g, vshape, advt) if uniq else F.index_accumulate(g, vshape, advt)
        if basic is not None:
            gv = F.index_embed(gv, shape, basic)
        return (gv,)


def _basic_view(t: Tensor, a: Any, basic: tuple, last: str) -> Tensor:
    r = make_view(t, a[basic])
    if gm.enabled and t._rg:
        record(_BASIC[last], r, (t,), args=(a.shape, basic))
    return r


def getitem(t: Tensor, index: Any) -> Tensor:
    """``t[index]`` with torch's semantics (views for basic indexing, copies for advanced)."""
    a = t._data
    if index.__class__ is int and a.ndim:  # the most common case, kept short
        n = a.shape[0]
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {n}")
        return _basic_view(t, a, (index, Ellipsis), "select")
    basic, last, adv = _parse(a, index)
    if not adv:
        return _basic_view(t, a, basic, last)
    trivial = all(b == _FULL for b in basic[:-1])
    v = a if trivial else a[basic]
    advt, uniq = _adv_tuple(v, adv)
    try:
        out = v[advt]
    except (IndexError, ValueError) as e:
        raise (_adv_error(v, adv) or e) from None
    r = wrap(out)
    if gm.enabled and t._rg:
        record(
            IndexBackward0, r, (t,), args=(a.shape, None if trivial else basic, v.shape, advt, uniq)
        )
    return r


def _strip_ones(src: Tensor, ndim: int) -> Tensor:
    """torch drops leading size-1 dims of a value with more dims than the written region."""
    s = src._data.shape
    k = 0
    while len(s) - k > ndim and s[k] == 1:
        k += 1
    return src.reshape(s[k:]) if k else src


def _copy_shape_error(src: tuple, dst: tuple, a: Any) -> RuntimeError | None:
    """torch's expand error when `src` does not broadcast to `dst` (copy_ into a basic view)."""
    if len(src) > len(dst):
        return RuntimeError(
            f"expand(torch.{_dname(a)}Tensor{{{list(src)}}}, size={list(dst)}): the number of sizes "
            f"provided ({len(dst)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({len(src)})"
        )
    lead = len(dst) - len(src)
    for i, s in enumerate(src):
        if s != 1 and s != dst[lead + i]:
            return RuntimeError(
                f"The expanded size of the tensor ({dst[lead + i]}) must match the existing size "
                f"({s}) at non-singleton dimension {lead + i}.  Target sizes: {list(dst)}.  "
                f"Tensor sizes: {list(src)}"
            )
    return None


def _put_shape_error(src: tuple, dst: tuple) -> RuntimeError:
    return RuntimeError(
        f"shape mismatch: value tensor of shape {list(src)} cannot be broadcast to indexing result "
        f"of shape {list(dst)}"
    )


def _put_dtype_error(dst: Any, src: Any) -> RuntimeError:
    return RuntimeError(
        "Index put requires the source and destination dtypes match, got "
        f"{_dname(dst)} for the destination and {_dname(src)} for the source."
    )


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``: an in-place copy (basic index) or index_put_ (advanced), as torch."""
    a = t._data
    basic, last, adv = _parse(a, index)
    vc = value.__class__
    if not adv and (vc is float or vc is int) and not (gm.enabled and t._rg):
        k = a.dtype.kind
        if k == "f" or (k == "i" and vc is int and a.dtype.itemsize == 8):  # NumPy casts alike
            a[basic] = value
            _bump(t, "copy_")
            return
    if isinstance(value, list | tuple):
        from ember.ops.creation import tensor

        value = tensor(value, dtype=t.dtype)
    vt = value if isinstance(value, Tensor) else None
    sv = _value_array(value, a) if vt is None else None  # torch: "can't assign a str to a ..."
    trivial = all(b == _FULL for b in basic[:-1])
    if adv:
        v = a if trivial else a[basic]
        advt, _ = _adv_tuple(v, adv)
        if vt is not None and vt._data.dtype != a.dtype:
            single_mask = len(adv) == 1 and _is_mask(adv[0][1]) and vt._data.size == 1
            if not single_mask:  # torch's masked_fill_ path casts; index_put_ does not
                raise _put_dtype_error(a, vt._data)
            vt = vt.to(t.dtype) if _grad(vt) else _make(vt._data.astype(a.dtype))
        if vt is not None:
            vt = _strip_ones(vt, len(_indexed_shape(v.shape, advt)))
        if not _grad(t, vt):
            src = vt._data if vt is not None else sv
            try:
                v[advt] = src
            except (IndexError, ValueError) as e:
                err = _adv_error(v, adv)
                if err is None and isinstance(e, ValueError):
                    err = _put_shape_error(src.shape, _indexed_shape(v.shape, advt))
                raise (err or e) from None
            _bump(t, "index_put_")
            return
        check_inplace(t, "index_put_")
        err = _adv_error(v, adv)
        if err is not None:
            raise err
        if vt is not None:
            ishape = _indexed_shape(v.shape, advt)
            if _copy_shape_error(vt._data.shape, ishape, a) is not None:
                raise _put_shape_error(vt._data.shape, ishape)
        target = t if trivial else _basic_view(t, a, basic, last)
        r = _index_put_np(target, advt, vt if vt is not None else value, False)
        commit_inplace(target, r, "index_put_")
        if trivial:
            return
    else:
        v = a[basic]
        if vt is not None:
            vt = _strip_ones(vt, v.ndim)
            err = _copy_shape_error(vt._data.shape, v.shape, a)
            if err is not None:
                raise err
        if not _grad(t, vt):
            v[...] = vt._data if vt is not None else sv
            _bump(t, "copy_")
            return
        if vt is None:
            from ember.ops.creation import tensor

            vt = tensor(value, dtype=t.dtype)
        _basic_view(t, a, basic, last).copy_(vt)
    # t's region was written through a view of t's storage: if t is itself a view, its history
    # is now "view of the updated base"
    if getattr(t, "_base", None) is not None:
        refresh_view(t)


# =========================================================================== index_put
class IndexPutBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        index, accumulate, vshape = self.args
        gs = g if accumulate else F.index_zero(g, index)
        gv = None
        if self.edges[1] is not None:
            gv = g[index]
            if gv.ndim < len(vshape):
                gv = F.reshape(gv, vshape)
        return gs, gv


def _index_put_np(t: Tensor, index: Any, values: Any, accumulate: bool) -> Tensor:
    """Out-of-place index_put with a NumPy index (validated by the caller)."""
    a = t._data
    out = a.copy()
    vt = values if isinstance(values, Tensor) else None
    src = vt._data if vt is not None else values
    if accumulate:
        _accumulate(out, index, src)
    else:
        out[index] = src
    r = wrap(out)
    if _grad(t, vt):
        vshape = vt._data.shape if vt is not None else ()
        record(IndexPutBackward0, r, (t, vt), args=(index, accumulate, vshape))
    return r


def _put_index(a: Any, indices: Any) -> tuple:
    """index_put's tuple of index tensors -> a validated NumPy index (negatives allowed)."""
    if isinstance(indices, Tensor):
        indices = (indices,)
    out: list[Any] = []
    used = 0
    items = []
    for x in indices:
        if x is None:
            items.append(("full", _FULL))
        elif isinstance(x, slice) or x is Ellipsis or isinstance(x, _INTS):
            items.append(("raw", x))  # NumPy-style entries from backward rules (F.add_at)
        else:
            arr = _arr(x, a)
            if arr.dtype == np.uint8:
                warnings.warn(_U8_WARN, UserWarning, stacklevel=3)
                arr = arr.astype(bool)
            if arr.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            items.append(("arr", arr))
    for kind, x in items:
        used += x.ndim if kind == "arr" and _is_mask(x) else 0 if x is Ellipsis else 1
    if used > a.ndim:
        raise IndexError(f"too many indices for tensor of dimension {a.ndim} (got {used})")
    d = k = 0
    shapes = []
    for kind, x in items:
        if kind != "arr":
            out.append(x)
            d += a.ndim - used + 1 if x is Ellipsis else 1
            continue
        if _is_mask(x):
            for i in range(x.ndim):
                if x.shape[i] != a.shape[d + i]:
                    raise IndexError(
                        f"The shape of the mask {list(x.shape)} at index {i} does not match the "
                        f"shape of the indexed tensor {list(a.shape)} at index {d + i}"
                    )
            shapes.append((int(x.sum()),))
            d += x.ndim
            k += x.ndim
        else:
            n = a.shape[d]
            x = _check_range(
                x,
                n,
                True,
                lambda b, k=k, n=n: f"index {b} is out of bounds for dimension {k} with size {n}",
                IndexError,
            )
            shapes.append(x.shape)
            d += 1
            k += 1
        out.append(x)
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError(
            "shape mismatch: indexing tensors could not be broadcast together with shapes "
            + ", ".join(str(list(s)) for s in shapes)
        ) from None
    return tuple(out)


def _index_put_args(input: Tensor, indices: Any, values: Any) -> tuple[tuple, Any]:
    a = input._data
    idx = _put_index(a, indices)
    if isinstance(values, Tensor):
        if values._data.dtype != a.dtype:
            raise _put_dtype_error(a, values._data)
        ishape = _indexed_shape(a.shape, idx)
        if _copy_shape_error(values._data.shape, ishape, a) is not None:
            raise _put_shape_error(values._data.shape, ishape)
    return idx, values


@tensor_method
def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """Copy of input with ``[indices] = values`` (``+=`` with accumulate); indices: tensors."""
    idx, values = _index_put_args(input, indices, values)
    return _index_put_np(input, idx, values, accumulate)


def _index_put_fast(self: Tensor, indices: Any, values: Any, accumulate: bool = False) -> None:
    idx, values = _index_put_args(self, indices, values)
    src = values._data if isinstance(values, Tensor) else values
    if accumulate:
        _accumulate(self._data, idx, src)
    else:
        self._data[idx] = src


index_put_ = _inplace("index_put_", index_put, _index_put_fast)


# =========================================================================== gather / scatter
class GatherBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, shape1, tup, ishape1 = self.args
        g1 = F.reshape(g, ishape1) if g.shape != ishape1 else g
        r = F.index_accumulate(g1, shape1, tup)
        return (F.reshape(r, shape) if shape != shape1 else r,)


def _gs_prep(name: str, a: Any, dim: int, index: Any, who: str) -> tuple[int, Any, Any]:
    """Checks shared by gather/scatter: dim, index dtype and rank; returns (dim, idx, 1-d a)."""
    d = _wdim(dim, a.ndim)
    ia = _int_index(index, a, f"{name}(): Expected dtype int32/int64 for index")
    if max(a.ndim, 1) != max(ia.ndim, 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {who} tensor")
    return d, ia, _as1d(a)


@tensor_method
def gather(
    input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False, out: Any = None
) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` (dim 0); index may be smaller than input."""
    a = input._data
    d, ia, a1 = _gs_prep("gather", a, dim, index, "input")
    i1 = _as1d(ia)
    for k in range(a1.ndim):
        if k != d and i1.shape[k] > a1.shape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(ia.shape)} to be no "
                f"larger than self {list(a.shape)} apart from dimension {d}"
            )
    n = a1.shape[d]
    _check_range(
        i1, n, False, lambda b: f"index {b} is out of bounds for dimension {d} with size {n}"
    )
    tup = _dim_index(i1, d)
    r = wrap(a1[tup].reshape(ia.shape))
    if gm.enabled and input._rg:
        record(GatherBackward0, r, (input,), args=(a.shape, a1.shape, tup, i1.shape))
    if out is not None:
        return _out(out, r)
    return r


def _out(out: Tensor, r: Tensor) -> Tensor:
    if out._data.shape != r._data.shape:
        out._data = r._data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = r._data
    _bump(out, "out=")
    return out


class _ScatterPrep:
    """Validated scatter arguments: flat 1-d views of self/index when 0-d, the index tuple, and
    src cropped to the index's shape (an array) or the fill value."""

    __slots__ = ("a", "d", "ia", "tup", "src", "srct", "shape1")

    def __init__(self, name: str, input: Tensor, dim: int, index: Any, src: Any) -> None:
        a = input._data
        d, ia, a1 = _gs_prep(name, a, dim, index, "self")
        i1 = _as1d(ia)
        srct = src if isinstance(src, Tensor) else None  # a 0-d tensor is a src, not a value
        if srct is not None:
            sa = srct._data
            if max(sa.ndim, 1) != max(ia.ndim, 1):
                raise RuntimeError(
                    "Index tensor must have the same number of dimensions as src tensor"
                )
            sa1 = _as1d(sa)
            if any(
                (k != d and i1.shape[k] > a1.shape[k]) or i1.shape[k] > sa1.shape[k]
                for k in range(i1.ndim)
            ):
                raise RuntimeError(
                    f"Expected index {list(ia.shape)} to be no larger than self {list(a.shape)} "
                    f"apart from dimension {d} and to be no larger size than src {list(sa.shape)}"
                )
            if sa.dtype != a.dtype:
                raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
            self.src = _crop(sa1, i1.shape)
        else:
            if any(k != d and i1.shape[k] > a1.shape[k] for k in range(i1.ndim)):
                raise RuntimeError(
                    f"Expected index {list(ia.shape)} to be no larger than self {list(a.shape)} "
                    f"apart from dimension {d}"
                )
            self.src = _value_array(src, a)
        n = a1.shape[d]
        _check_range(
            i1, n, False, lambda b: f"index {b} is out of bounds for dimension {d} with size {n}"
        )
        self.a, self.d, self.ia, self.srct, self.shape1 = a, d, ia, srct, a1.shape
        self.tup = _dim_index(i1, d)

    def apply(self, out: Any, op: str) -> None:
        o = out.reshape(self.shape1) if out.ndim == 0 else out
        if op == "set":
            o[self.tup] = self.src
        elif op == "add":
            _accumulate(o, self.tup, self.src)
        else:  # 'multiply'
            _reduce_sorted(o, self.tup, self.src, np.multiply, True)


class ScatterBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, shape1, tup, sshape = self.args
        g1 = F.reshape(g, shape1) if shape != shape1 else g
        gs = F.index_zero(g1, tup) if self.edges[0] is not None else None
        if gs is not None and shape != shape1:
            gs = F.reshape(gs, shape)
        gsrc = None
        if len(self.edges) > 1 and self.edges[1] is not None:
            gsrc = _src_grad(F, g1[tup], sshape)
        return (gs, gsrc) if len(self.edges) > 1 else (gs,)


ScatterBackward1 = type("ScatterBackward1", (ScatterBackward0,), {"__slots__": ()})


def _src_grad(F: Any, gi: Any, sshape: tuple) -> Any:
    """The gathered gradient of a src larger than the index: zeros outside the index's box."""
    if gi.shape == tuple(sshape):
        return gi
    if len(sshape) == 0:
        return F.reshape(gi, ())
    return F.index_embed(gi, sshape, tuple(slice(0, s) for s in gi.shape))


def _no_derivative(self: Node, F: Any, g: Any) -> tuple:
    raise RuntimeError("derivative for aten::scatter is not implemented")


# torch's node for scatter(..., reduce=...): it has no derivative
_NotImplementedNode = type("NotImplemented", (Node,), {"__slots__": (), "backward": _no_derivative})

_SCATTER_REDUCE_WARN = (
    "The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
    "future PyTorch release. Use torch.scatter_reduce instead for more reduction options."
)


def _scatter_args(src: Any, value: Any, reduce: Any) -> tuple[Any, str]:
    if src is None:
        src = value
    if reduce is None:
        return src, "set"
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if isinstance(src, Tensor) and src._data.ndim:
        warnings.warn(_SCATTER_REDUCE_WARN, UserWarning, stacklevel=3)
    return src, reduce


@tensor_method
def scatter(
    input: Tensor,
    dim: int,
    index: Tensor,
    src: Any = None,
    *,
    value: Any = None,
    reduce: str | None = None,
    out: Any = None,
) -> Tensor:
    """Copy of input with values of src (or `value`) written at index along dim."""
    src, op = _scatter_args(src, value, reduce)
    p = _ScatterPrep("scatter", input, dim, index, src)
    o = p.a.copy()
    p.apply(o, op)
    r = wrap(o)
    st = p.srct
    if _grad(input, st):
        if op != "set":
            record(_NotImplementedNode, r, (input, st))
        elif st is not None:
            record(
                ScatterBackward0, r, (input, st), args=(p.a.shape, p.shape1, p.tup, st._data.shape)
            )
        else:
            record(ScatterBackward1, r, (input,), args=(p.a.shape, p.shape1, p.tup, ()))
    return _out(out, r) if out is not None else r


def _scatter_fast(
    self: Tensor,
    dim: int,
    index: Tensor,
    src: Any = None,
    *,
    value: Any = None,
    reduce: str | None = None,
) -> None:
    src, op = _scatter_args(src, value, reduce)
    _ScatterPrep("scatter", self, dim, index, src).apply(self._data, op)


_inplace("scatter_", scatter, _scatter_fast)


class ScatterAddBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, shape1, tup, sshape = self.args
        gsrc = None
        if self.edges[1] is not None:
            g1 = F.reshape(g, shape1) if shape != shape1 else g
            gsrc = _src_grad(F, g1[tup], sshape)
        return g, gsrc


@tensor_method
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Copy of input with src added at index along dim (repeated indices add up)."""
    p = _ScatterPrep("scatter", input, dim, index, src)
    o = p.a.copy()
    p.apply(o, "add")
    r = wrap(o)
    if _grad(input, src):
        record(
            ScatterAddBackward0, r, (input, src), args=(p.a.shape, p.shape1, p.tup, src._data.shape)
        )
    return r


def _scatter_add_fast(self: Tensor, dim: int, index: Tensor, src: Tensor) -> None:
    _ScatterPrep("scatter", self, dim, index, src).apply(self._data, "add")


_inplace("scatter_add_", scatter_add, _scatter_add_fast)


def _reduce_sorted(out: Any, index: Any, vals: Any, ufunc: Any, include_self: bool) -> None:
    """``out[index] = ufunc.reduce(out[index] (if include_self), all vals aimed there)``."""
    xp = _xp(out)
    if not isinstance(index, tuple):
        index = (index,)
    lin = xp.ravel_multi_index(index, out.shape).reshape(-1) if out.ndim else xp.zeros(0, np.int64)
    v = xp.broadcast_to(vals, np.broadcast_shapes(*(x.shape for x in index))).reshape(-1)
    if lin.size == 0:
        return
    order = xp.argsort(lin, kind="stable")
    ls = lin[order]
    starts = xp.flatnonzero(xp.concatenate((xp.ones(1, bool), ls[1:] != ls[:-1])))
    red = ufunc.reduceat(v[order], starts)
    flat = out.reshape(-1)
    u = ls[starts]
    flat[u] = ufunc(flat[u], red) if include_self else red


_REDUCES = ("sum", "prod", "mean", "amax", "amin", "max", "min")  # max/min: torch's aliases


def _scatter_reduce_array(
    p: _ScatterPrep, base: Any, src: Any, reduce: str, include_self: bool
) -> tuple[Any, Any]:
    """The scatter_reduce result on arrays (and, for 'mean', the count per position)."""
    o = base.copy().reshape(p.shape1)
    cnt = None
    if reduce in ("sum", "mean"):
        if not include_self:
            o[p.tup] = 0
        _accumulate(o, p.tup, src)
        if reduce == "mean":
            xp = _xp(o)
            lin = xp.ravel_multi_index(p.tup, p.shape1).reshape(-1)
            cnt = xp.bincount(lin, minlength=o.size).reshape(p.shape1) + (1 if include_self else 0)
            touched = cnt > 0
            c = xp.where(touched, cnt, 1).astype(o.dtype)
            o = xp.where(touched, o / c if o.dtype.kind == "f" else o // c, o).astype(o.dtype)
            cnt = xp.where(cnt == 0, 1, cnt)
    else:
        uf = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
        _reduce_sorted(o, p.tup, src, uf, include_self)
    return o.reshape(p.a.shape), cnt


class ScatterReduceBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, *c: Any) -> tuple:
        shape, shape1, tup, sshape, reduce, include_self = self.args
        g1 = F.reshape(g, shape1) if shape != shape1 else g
        if reduce == "sum":
            gs, gi = g1, g1[tup]
        elif reduce == "mean":  # c: count per position
            gs = g1 / c[0]
            gi = g1[tup] / c[0][tup]
        elif reduce in ("amax", "amin"):  # c: self == result, src == value, 1 / N
            gd = g1 * c[2]
            gs = F.where(c[0], gd, F.zeros_like(gd))
            gt = gd[tup]
            gi = F.where(c[1], gt, F.zeros_like(gt))
        else:  # prod (torch's formula); c: d result/d self, masked_src_result, result, masked
            gs = g1 * c[0]  # src, single-zero mask
            gi = F.where(c[4], (g1 * c[1])[tup], (g1 * c[2])[tup] / c[3])
        if not include_self:
            gs = F.index_zero(gs, tup)
        if shape != shape1:
            gs = F.reshape(gs, shape)
        return gs, _src_grad(F, gi, sshape)


@tensor_method
def scatter_reduce(
    input: Tensor,
    dim: int,
    index: Tensor,
    src: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
    out: Any = None,
) -> Tensor:
    """Reduce src into input at index along dim: 'sum', 'prod', 'mean', 'amax' or 'amin'."""
    if reduce not in _REDUCES:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    p = _ScatterPrep("scatter_reduce", input, dim, index, src)
    res, cnt = _scatter_reduce_array(p, p.a, p.src, reduce, include_self)
    r = wrap(res)
    if _grad(input, src):
        consts: tuple = ()
        xp = _xp(res)
        r1 = res.reshape(p.shape1)
        s1 = _as1d(p.a)
        if reduce == "mean":
            consts = (_make(cnt.astype(res.dtype)),)
        elif reduce in ("amax", "amin"):
            self_is = s1 == r1
            src_is = p.src == r1[p.tup]
            n = xp.zeros(p.shape1, res.dtype)
            n[...] = self_is
            _accumulate(n, p.tup, src_is.astype(res.dtype))
            with np.errstate(divide="ignore", invalid="ignore"):
                inv = 1 / n
            consts = (_make(self_is), _make(src_is), _make(inv))
        elif reduce == "prod":
            with np.errstate(divide="ignore", invalid="ignore"):
                ms = xp.where(s1 == 0, 1, s1).astype(res.dtype)
                msr, _ = _scatter_reduce_array(p, ms, p.src, "prod", include_self)
                d_self = msr.reshape(p.shape1) / ms
                src_zero = p.src == 0
                nz = xp.zeros(p.shape1, res.dtype)
                _accumulate(nz, p.tup, src_zero.astype(res.dtype))
                single = src_zero & (nz[p.tup] == 1)
                msrc = xp.where(single | src_zero, 1, p.src).astype(res.dtype)
                m_src = xp.where(single, 1, p.src).astype(res.dtype)
                msrcr, _ = _scatter_reduce_array(p, p.a, m_src, "prod", include_self)
            consts = (
                _make(d_self), _make(msrcr.reshape(p.shape1)), _make(r1.copy()), _make(msrc),
                _make(single),
            )  # fmt: skip
        args = (p.a.shape, p.shape1, p.tup, src._data.shape, reduce, include_self)
        record(ScatterReduceBackward0, r, (input, src), saved=consts, args=args)
    return _out(out, r) if out is not None else r


def _scatter_reduce_fast(
    self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> None:
    r = scatter_reduce(self, dim, index, src, reduce, include_self=include_self)
    self._data[...] = r._data


_inplace("scatter_reduce_", scatter_reduce, _scatter_reduce_fast)


# =========================================================================== index_* family
def _vec_index(index: Any, a: Any, dim: int) -> tuple[int, Any, Any]:
    d = _wdim(dim, a.ndim)
    ia = _arr(index, a)
    return d, ia, _as1d(a)


class IndexSelectBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, shape1, tup = self.args
        g1 = F.reshape(g, _indexed_shape(shape1, tup)) if shape != shape1 else g
        r = F.index_accumulate(g1, shape1, tup)
        return (F.reshape(r, shape) if shape != shape1 else r,)


@tensor_method
def index_select(input: Tensor, dim: int, index: Tensor, *, out: Any = None) -> Tensor:
    """The entries of input at `index` (a vector) along dim."""
    a = input._data
    d, ia, a1 = _vec_index(index, a, dim)
    if getattr(ia, "dtype", None) is None or ia.dtype.type not in (np.int64, np.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if ia.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    i1 = _as1d(ia)
    n = a1.shape[d]
    _check_range(
        i1, n, False, lambda b: f"INDICES element is out of DATA bounds, id={b} axis_dim={n}"
    )
    res = a1.take(i1, axis=d)
    r = wrap(res.reshape(()) if a.ndim == 0 else res)
    if gm.enabled and input._rg:
        record(IndexSelectBackward0, r, (input,), args=(a.shape, a1.shape, (_FULL,) * d + (i1,)))
    return _out(out, r) if out is not None else r


def _index_src(name: str, input: Tensor, dim: int, index: Any, source: Tensor) -> tuple:
    """Shared checks of index_add / index_copy; returns (a, 1-d a, dim, index tuple, source)."""
    a = input._data
    d, ia, a1 = _vec_index(index, a, dim)
    sa = source._data if isinstance(source, Tensor) else np.asarray(source)
    if name == "index_add_":
        if ia.ndim > 1:
            raise IndexError(
                f"index_add_(): Index is supposed to be a vector, but got dim: {ia.ndim} with "
                f"type: {_dname(ia)} and size: {list(ia.shape)}"
            )
        if ia.dtype.type not in (np.int64, np.int32):
            raise RuntimeError("index_add_(): Expected dtype int32/int64 for index")
        if sa.dtype != a.dtype:
            raise RuntimeError(
                f"index_add_(): self ({_dname(a)}) and source ({_dname(sa)}) must have the same "
                "scalar type"
            )
    else:
        if ia.ndim > 1:
            raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {ia.ndim})")
        if ia.dtype.type is not np.int64:
            raise IndexError(
                f"index_copy_(): Expected a long tensor for index, but got {_dname(ia)}"
            )
        if sa.dtype != a.dtype:
            raise RuntimeError(
                "index_copy_(): self and source expected to have the same dtype, but got (self) "
                f"{_dname(a)} and (source) {_dname(sa)}"
            )
    i1 = _as1d(ia)
    s1 = _as1d(sa)
    ns = s1.shape[d] if s1.ndim > d else 1
    if name == "index_add_":
        if s1.ndim == a1.ndim and ns != i1.size:
            raise RuntimeError(
                f"index_add_(): Number of indices ({i1.size}) should be equal to source.size(dim): "
                f"({ns}), for dim: {d}"
            )
        if s1.ndim != a1.ndim or any(s1.shape[k] != a1.shape[k] for k in range(a1.ndim) if k != d):
            raise RuntimeError(
                "source tensor shape must match self tensor shape, excluding the specified "
                f"dimension. Got self.shape = {list(a.shape)} source.shape = {list(sa.shape)}"
            )
        n = a1.shape[d]
        _check_range(
            i1, n, False, lambda b: f"index {b} is out of bounds for dimension {d} with size {n}"
        )
    else:
        if ns != i1.size:
            raise IndexError(
                f"index_copy_(): Number of indices ({i1.size}) should be equal to source.size(dim) "
                f"({ns})"
            )
        if s1.ndim != a1.ndim or any(s1.shape[k] != a1.shape[k] for k in range(a1.ndim) if k != d):
            k = next(
                (k for k in range(min(s1.ndim, a1.ndim)) if k != d and s1.shape[k] != a1.shape[k]),
                0,
            )
            raise RuntimeError(
                "index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                f"slice shape: {a1.shape[k] if k < a1.ndim else 1} at dimension {k} and source slice "
                f"shape: {s1.shape[k] if k < s1.ndim else 1} at dimension 0."
            )
        n = a1.shape[d]
        _check_range(
            i1,
            n,
            False,
            lambda b: f"index_copy_(): index {b} is out of bounds for dimension {d} with size {n}",
            IndexError,
        )
    return a, a1, d, (_FULL,) * d + (i1,), s1


class IndexAddBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape1, tup, alpha = self.args
        gsrc = None
        if self.edges[1] is not None:
            g1 = F.reshape(g, shape1) if g.shape != shape1 else g
            gsrc = g1[tup]
            if alpha != 1:
                gsrc = gsrc * alpha
        return g, gsrc


@tensor_method
def index_add(
    input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1, out: Any = None
) -> Tensor:
    """Copy of input with ``alpha * source`` added at `index` along dim (repeats add up)."""
    a, a1, _, tup, s1 = _index_src("index_add_", input, dim, index, source)
    o = a1.copy()
    _accumulate(o, tup, s1 if alpha == 1 else s1 * alpha)
    r = wrap(o.reshape(a.shape))
    if _grad(input, source):
        record(IndexAddBackward0, r, (input, source), args=(a1.shape, tup, alpha))
    return _out(out, r) if out is not None else r


def _index_add_fast(
    self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1
) -> None:
    _, a1, _, tup, s1 = _index_src("index_add_", self, dim, index, source)
    _accumulate(a1, tup, s1 if alpha == 1 else s1 * alpha)


_inplace("index_add_", index_add, _index_add_fast)


class IndexCopyBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape1, tup = self.args
        g1 = F.reshape(g, shape1) if g.shape != shape1 else g
        gs = F.reshape(F.index_zero(g1, tup), g.shape) if self.edges[0] is not None else None
        gsrc = g1[tup] if self.edges[1] is not None else None
        return gs, gsrc


@tensor_method
def index_copy(
    input: Tensor, dim: int, index: Tensor, source: Tensor, *, out: Any = None
) -> Tensor:
    """Copy of input with the slices at `index` along dim replaced by source's."""
    a, a1, _, tup, s1 = _index_src("index_copy_", input, dim, index, source)
    o = a1.copy()
    o[tup] = s1
    r = wrap(o.reshape(a.shape))
    if _grad(input, source):
        record(IndexCopyBackward0, r, (input, source), args=(a1.shape, tup))
    return _out(out, r) if out is not None else r


def _index_copy_fast(self: Tensor, dim: int, index: Tensor, source: Tensor) -> None:
    _, a1, _, tup, s1 = _index_src("index_copy_", self, dim, index, source)
    a1[tup] = s1


_inplace("index_copy_", index_copy, _index_copy_fast)


class IndexFillBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape1, tup = self.args
        g1 = F.reshape(g, shape1) if g.shape != shape1 else g
        gs = F.reshape(F.index_zero(g1, tup), g.shape) if self.edges[0] is not None else None
        if len(self.edges) == 1:
            return (gs,)
        return gs, (F.sum(g1[tup]) if self.edges[1] is not None else None)


IndexFillBackward1 = type("IndexFillBackward1", (IndexFillBackward0,), {"__slots__": ()})


def _fill_prep(input: Tensor, dim: int, index: Any, value: Any) -> tuple:
    a = input._data
    d, ia, a1 = _vec_index(index, a, dim)
    if ia.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if ia.dtype.type is not np.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value._data.ndim} dimension(s)."
        )
    n = a1.shape[d]
    i1 = _check_range(
        _as1d(ia),
        n,
        True,
        lambda b: f"index {b} is out of bounds for dimension {d} with size {n}",
        IndexError,
    )
    return a, a1, (_FULL,) * d + (i1,), _value_array(value, a)


@tensor_method
def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """Copy of input with the slices at `index` along dim set to `value`."""
    a, a1, tup, v = _fill_prep(input, dim, index, value)
    o = a1.copy()
    o[tup] = v
    r = wrap(o.reshape(a.shape))
    vt = value if isinstance(value, Tensor) else None
    if _grad(input, vt):
        if vt is None:
            record(IndexFillBackward0, r, (input,), args=(a1.shape, tup))
        else:
            record(IndexFillBackward1, r, (input, vt), args=(a1.shape, tup))
    return r


def _index_fill_fast(self: Tensor, dim: int, index: Tensor, value: Any) -> None:
    _, a1, tup, v = _fill_prep(self, dim, index, value)
    a1[tup] = v


_inplace("index_fill_", index_fill, _index_fill_fast)


# =========================================================================== masked ops
def _mask(name: str, mask: Any, like: Any, style: str) -> Any:
    m = _arr(mask, like)
    if m.dtype.kind != "b":
        dn = _CTYPE.get(m.dtype.name, str(m.dtype)) if style == "c" else _dname(m)
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype {dn}")
    return m


class MaskedFillBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        m = self.args
        z = F.zeros_like(g)
        gs = F.where(m, z, g) if self.edges[0] is not None else None
        if len(self.edges) == 1:
            return (gs,)
        return gs, (F.sum(F.where(m, g, z)) if self.edges[1] is not None else None)


MaskedFillBackward1 = type("MaskedFillBackward1", (MaskedFillBackward0,), {"__slots__": ()})


def _fill_value(value: Any, a: Any) -> Any:
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value._data.ndim} dimension(s)."
        )
    return _value_array(value, a)


@tensor_method
def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """input with `value` where mask is True (mask and input broadcast together)."""
    a = input._data
    m = _mask("masked_fill_", mask, a, "c")
    v = _fill_value(value, a)
    _bshape(a.shape, m.shape)
    r = wrap(_xp(a).where(m, v, a))
    vt = value if isinstance(value, Tensor) else None
    if _grad(input, vt):
        if vt is None:
            record(MaskedFillBackward0, r, (input,), args=m)
        else:
            record(MaskedFillBackward1, r, (input, vt), args=m)
    return r


def _masked_fill_fast(self: Tensor, mask: Tensor, value: Any) -> None:
    a = self._data
    m = _mask("masked_fill_", mask, a, "c")
    v = _fill_value(value, a)
    bs = _bshape(a.shape, m.shape)
    if bs != a.shape:
        raise RuntimeError(
            f"output with shape {list(a.shape)} doesn't match the broadcast shape {list(bs)}"
        )
    _xp(a).copyto(a, v, where=m)


_inplace("masked_fill_", masked_fill, _masked_fill_fast)


class MaskedScatterBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        m, sshape, count = self.args
        gs = F.where(m, F.zeros_like(g), g) if self.edges[0] is not None else None
        gsrc = None
        if self.edges[1] is not None:
            n = math.prod(sshape)
            gsrc = F.reshape(F.index_embed(g[m], (n,), slice(0, count)), sshape)
        return gs, gsrc


def _mscatter_prep(input: Tensor, mask: Any, source: Tensor) -> tuple:
    a = input._data
    m = _mask("masked_scatter_", mask, a, "torch")
    sa = source._data
    if sa.dtype != a.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{_dname(a)} and {_dname(sa)}"
        )
    bs = _bshape(a.shape, m.shape)
    mb = _xp(m).broadcast_to(m, bs)
    count = int(mb.sum())
    if sa.size < count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return a, mb, bs, sa.reshape(-1)[:count], count


@tensor_method
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """input with the first mask.sum() elements of source written where mask is True."""
    a, mb, bs, src, count = _mscatter_prep(input, mask, source)
    o = _xp(a).broadcast_to(a, bs).copy()
    o[mb] = src
    r = wrap(o)
    if _grad(input, source):
        record(MaskedScatterBackward0, r, (input, source), args=(mb, source._data.shape, count))
    return r


def _masked_scatter_fast(self: Tensor, mask: Tensor, source: Tensor) -> None:
    a, mb, bs, src, _ = _mscatter_prep(self, mask, source)
    if bs != a.shape:
        raise RuntimeError(
            f"output with shape {list(a.shape)} doesn't match the broadcast shape {list(bs)}"
        )
    a[mb] = src


_inplace("masked_scatter_", masked_scatter, _masked_scatter_fast)


class MaskedSelectBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        mb = self.args
        return (F.index_embed(g, mb.shape, mb),)


@tensor_method
def masked_select(input: Tensor, mask: Tensor, *, out: Any = None) -> Tensor:
    """The elements of input where mask is True, as a 1-D tensor (the two broadcast)."""
    a = input._data
    m = _arr(mask, a)
    if m.dtype.kind != "b":
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    bs = _bshape(a.shape, m.shape)
    xp = _xp(a)
    mb = xp.broadcast_to(m, bs)
    r = wrap(xp.broadcast_to(a, bs)[mb])
    if gm.enabled and input._rg:
        record(MaskedSelectBackward0, r, (input,), args=mb)
    return _out(out, r) if out is not None else r


# =========================================================================== take / put
class TakeBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, i1 = self.args
        r = F.index_accumulate(g, (math.prod(shape),), i1)
        return (F.reshape(r, shape),)


def _flat_index(name: str, index: Any, a: Any) -> Any:
    ia = _arr(index, a)
    if ia.dtype.type is not np.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got {_dname(ia)}")
    n = a.size
    return _check_range(
        ia,
        n,
        True,
        lambda b: f"out of range: tried to access index {b} on a tensor of {n} elements.",
        IndexError,
    )


@tensor_method
def take(input: Tensor, index: Tensor) -> Tensor:
    """input treated as 1-D, read at `index` (result has index's shape)."""
    a = input._data
    ia = _flat_index("take", index, a)
    r = wrap(a.reshape(-1)[ia])
    if gm.enabled and input._rg:
        record(TakeBackward0, r, (input,), args=(a.shape, ia))
    return r


@tensor_method
def take_along_dim(
    input: Tensor, indices: Tensor, dim: int | None = None, *, out: Any = None
) -> Tensor:
    """gather with input and indices broadcast against each other (except along dim)."""
    ia = _arr(indices, input._data)
    if ia.dtype.type is not np.int64:
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be Long but got {_dname(ia)}"
        )
    it = indices if isinstance(indices, Tensor) else _make(ia)
    if dim is None:
        r = gather(input.reshape(-1), 0, it.reshape(-1))
        return _out(out, r) if out is not None else r
    a = input._data
    if a.ndim != ia.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, "
            f"but got {a.ndim} dimensions for input, and {ia.ndim} dimensions for indices"
        )
    d = _wdim(dim, a.ndim)
    ss = list(a.shape)
    ss[d] = ia.shape[d]
    bs = list(_bshape(tuple(ss), ia.shape))
    if tuple(bs) != ia.shape:
        it = it.expand(bs)
    bs[d] = a.shape[d]
    src = input.expand(bs) if tuple(bs) != a.shape else input
    r = gather(src, d, it)
    return _out(out, r) if out is not None else r


class PutBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        ia, accumulate, sshape = self.args
        gf = F.reshape(g, (-1,))
        gs = None
        if self.edges[0] is not None:
            gs = g if accumulate else F.reshape(F.index_zero(gf, ia), g.shape)
        gsrc = F.reshape(gf[ia], sshape) if self.edges[1] is not None else None
        return gs, gsrc


def _put_prep(input: Tensor, index: Tensor, source: Tensor) -> tuple:
    a = input._data
    sa = source._data
    if sa.dtype != a.dtype:
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{_dname(a)} and source.dtype = {_dname(sa)}"
        )
    ia = _arr(index, a)
    if ia.size != sa.size:
        raise IndexError(
            "put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {sa.size}, index.numel() = {ia.size}"
        )
    return _flat_index("put_", ia, a).reshape(-1), sa.reshape(-1)


@tensor_method
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Copy of input (seen as 1-D) with source written (or added) at index."""
    ia, sa = _put_prep(input, index, source)
    a = input._data
    o = a.copy()
    flat = o.reshape(-1)
    if accumulate:
        _accumulate(flat, ia, sa)
    else:
        flat[ia] = sa
    r = wrap(o)
    if _grad(input, source):
        record(PutBackward0, r, (input, source), args=(ia, accumulate, source._data.shape))
    return r


def _put_fast(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> None:
    ia, sa = _put_prep(self, index, source)
    a = self._data
    if not a.flags.c_contiguous:  # reshape(-1) would copy: write through a copy, then back
        o = a.copy().reshape(-1)
        if accumulate:
            _accumulate(o, ia, sa)
        else:
            o[ia] = sa
        a[...] = o.reshape(a.shape)
        return
    flat = a.reshape(-1)
    if accumulate:
        _accumulate(flat, ia, sa)
    else:
        flat[ia] = sa


_inplace("put_", put, _put_fast)


# =========================================================================== nonzero
@tensor_method
def nonzero(input: Tensor, *, out: Any = None, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
    a = input._data
    xp = _xp(a)
    if as_tuple:
        return tuple(_make(z.astype(np.int64)) for z in _as1d(a).nonzero())
    r = _make(xp.argwhere(a).astype(np.int64))
    return _out(out, r) if out is not None else r


@tensor_method
def argwhere(input: Tensor) -> Tensor:
    """Indices of the non-zero elements, (n, ndim) int64."""
    return nonzero(input)
