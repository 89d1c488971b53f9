"""View ops: results share storage *and* version counter with their base, as in torch.

reshape/view, permute/transpose, expand, squeeze/unsqueeze, flatten; their backward is the
inverse movement of the gradient (no copies in the fast path beyond what NumPy needs).
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np

from ember.ops._core import Node, Tensor, _make, gm, record
from ember.tensor import _wrap_dim, tensor_method

__all__ = [
    "view", "reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "expand",
    "expand_as", "broadcast_to", "squeeze", "unsqueeze", "flatten", "unflatten", "view_as",
    "reshape_as", "make_view", "rebase_view", "refresh_view", "movedim", "moveaxis", "adjoint",
]  # fmt: skip


def make_view(base: Tensor, arr: Any) -> Tensor:
    """Wrap `arr` (a view of base's array) as a view tensor of `base`."""
    t = _make(arr)
    t._vc = base._vc
    root = getattr(base, "_base", None)
    if root is None:
        root = base
    t._base = root
    if root.grad_fn is not None:
        _track(root, t)
    return t


# Live views of each base that is part of a graph (id(base) -> weak refs), so that an in-place
# op through one view can re-derive the history of the others that overlap it (torch does this
# lazily on access; Tensor's fixed slots leave no room for a per-view version stamp).
_VIEWS: dict[int, list[weakref.ref]] = {}
_tracked = [0]


def _track(root: Tensor, t: Tensor) -> None:
    lst = _VIEWS.get(id(root))
    if lst is None:
        lst = _VIEWS[id(root)] = []
    lst.append(weakref.ref(t))
    _tracked[0] += 1
    if _tracked[0] >= 4096:  # amortised sweep of dead entries
        _tracked[0] = 0
        for k in list(_VIEWS):
            alive = [r for r in _VIEWS[k] if r() is not None]
            if alive:
                _VIEWS[k] = alive
            else:
                del _VIEWS[k]


def _ptr(a: Any) -> int:
    return int(a.__array_interface__["data"][0]) if a.__class__ is np.ndarray else int(a.data.ptr)


def _offsets(xp: Any, shape: tuple, strides: tuple, start: int, unit: int) -> Any:
    """start + sum_k i_k * strides_k / unit over every position (C order), as an int64 grid."""
    m = xp.asarray(start // unit, dtype=np.int64)
    for n, s in zip(shape, strides):
        m = m[..., None] + xp.arange(n, dtype=np.int64) * (s // unit)
    return m


def _view_map(va: Any, ra: Any) -> Any:
    """For each element of view array `va` (C order), its flat C-order position in root `ra`
    (an int array, or a slice when the view is one contiguous chunk of a contiguous root)."""
    if va.size == 0:
        return slice(0, 0)
    xp = np if va.__class__ is np.ndarray else _xp_of(va)
    off = _ptr(va) - _ptr(ra)
    isz = ra.itemsize
    if ra.flags.c_contiguous and off % isz == 0 and va.flags.c_contiguous:
        start = off // isz  # a contiguous chunk (rows, x.view(-1), ...): a slice, no index array
        if start >= 0 and start + va.size <= ra.size:
            return slice(start, start + va.size)
    if ra.flags.c_contiguous and off % isz == 0 and all(s % isz == 0 for s in va.strides):
        m = _offsets(xp, va.shape, va.strides, off, isz).reshape(-1)
    else:  # any root layout: match byte addresses
        raddr = _offsets(xp, ra.shape, ra.strides, 0, 1).reshape(-1)
        vaddr = _offsets(xp, va.shape, va.strides, off, 1).reshape(-1)
        order = xp.argsort(raddr, kind="stable")
        pos = xp.clip(xp.searchsorted(raddr[order], vaddr), 0, max(raddr.size - 1, 0))
        if raddr.size == 0 or bool((raddr[order][pos] != vaddr).any()):
            raise RuntimeError("in-place update of a view whose memory is not inside its base")
        return order[pos]
    if m.size and (int(m.min()) < 0 or int(m.max()) >= ra.size):
        raise RuntimeError("in-place update of a view whose memory is not inside its base")
    return m


def _xp_of(a: Any) -> Any:
    from ember.backends import xp_of

    return xp_of(a)


class CopySlices(Node):
    """The base after an in-place op on one of its views: outside the view's region the gradient
    flows to the old base; inside, to the op's result (which itself leads to the old view)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, m, vshape = self.args
        gf = F.reshape(g, (-1,))
        gb = F.reshape(F.index_zero(gf, m), shape) if self.edges[0] is not None else None
        return gb, F.reshape(gf[m], vshape)


class AsStridedBackward0(Node):
    """A view re-derived from its (updated) base: the gradient goes back to the view's region."""

    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, m, _ = self.args
        n = math.prod(shape)
        return (F.reshape(F.index_embed(F.reshape(g, (-1,)), (n,), m), shape),)


def _derive(view_t: Tensor, root: Tensor, m: Any) -> None:
    record(AsStridedBackward0, view_t, (root,), args=(root._data.shape, m, view_t._data.shape))
    view_t._out_nr = 0


def rebase_view(view_t: Tensor, r: Tensor) -> None:
    """An in-place op on a view whose base is part of a graph (torch's CopySlices).

    The base's history becomes "old base with this view's region replaced by r", and the view's
    own history is re-derived from the new base (so are the other live views overlapping it).
    """
    base = view_t._base
    va, ra = view_t._data, base._data
    if va.dtype != ra.dtype:
        raise NotImplementedError(
            "in-place operation with autograd on a view with another dtype than its base "
            f"({va.dtype} vs {ra.dtype}) is not supported; clone() the view first."
        )
    m = _view_map(va, ra)
    record(CopySlices, base, (base, r), args=(ra.shape, m, va.shape))
    base._out_nr = 0
    _derive(view_t, base, m)
    lst = _VIEWS.get(id(base))
    if not lst:
        return
    lo, hi = _span(va)
    for ref in lst:
        s = ref()
        if s is None or s is view_t or getattr(s, "_base", None) is not base:
            continue
        sa = s._data
        if sa.dtype == ra.dtype and sa.size:
            slo, shi = _span(sa)
            if slo < hi and lo < shi:
                _derive(s, base, _view_map(sa, ra))


def refresh_view(view_t: Tensor) -> None:
    """Re-derive a view's history from its base after its memory was written some other way."""
    base = getattr(view_t, "_base", None)
    if base is None or not base._rg or view_t._data.dtype != base._data.dtype:
        return
    _derive(view_t, base, _view_map(view_t._data, base._data))


def _span(a: Any) -> tuple[int, int]:
    """[lo, hi) byte range that array `a` touches."""
    p = _ptr(a)
    lo = hi = p
    for n, s in zip(a.shape, a.strides):
        if n == 0:
            return p, p
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + a.itemsize


def _tname(a: Any) -> str:
    from ember import dtypes
    from ember.ops._core import _tname as tn

    try:
        return tn(dtypes.from_np(a.dtype))
    except (KeyError, TypeError):
        return "Float"


def _shape_arg(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], list | tuple):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _infer(shape: tuple, numel: int) -> tuple:
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[: neg[0]] + (numel // known,) + shape[neg[0] + 1 :]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.reshape(g, self.args),)


class UnsafeViewBackward0(ViewBackward0):
    __slots__ = ()


@tensor_method
def view(input: Tensor, *shape: Any) -> Tensor:
    """Same data, new shape, without copying; raises where strides make that impossible."""
    if len(shape) == 1 and not isinstance(shape[0], int | list | tuple):
        from ember import dtypes

        try:
            d = dtypes.as_dtype(shape[0])
        except TypeError:
            d = None
        if d is not None:
            return make_view(input, input._data.view(d.np))
    a = input._data
    new = _infer(_shape_arg(shape), a.size)
    try:
        if a.__class__ is np.ndarray:
            arr = a.reshape(new, copy=False)  # raises instead of copying when strides forbid a view
        elif a.flags.c_contiguous or a.size <= 1:  # CuPy: contiguous data always reshapes in place
            arr = a.reshape(new)
        else:
            raise AttributeError
    except (AttributeError, ValueError):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    r = make_view(input, arr)
    if gm.enabled and input._rg:
        record(ViewBackward0, r, (input,), args=a.shape)
    return r


@tensor_method
def reshape(input: Tensor, *shape: Any) -> Tensor:
    """New shape; a view when possible, else a copy."""
    a = input._data
    new = _infer(_shape_arg(shape), a.size)
    arr = a.reshape(new)
    if arr.base is not None and (arr.base is a or arr.base is a.base):
        r = make_view(input, arr)
        node = ViewBackward0
    else:
        r = _make(arr)
        node = UnsafeViewBackward0
    if gm.enabled and input._rg:
        record(node, r, (input,), args=a.shape)
    return r


@tensor_method
def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other._data.shape)


@tensor_method
def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._data.shape)


class PermuteBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.transpose(g, self.args),)


@tensor_method
def permute(input: Tensor, *dims: Any) -> Tensor:
    """Reorder dimensions (a view)."""
    a = input._data
    dims = _shape_arg(dims)
    if len(dims) != a.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {a.ndim} is not "
            f"equal to len(dims) = {len(dims)}"
        )
    perm = tuple(_wrap_dim(d, a.ndim) for d in dims)
    if len(set(perm)) != len(perm):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    r = make_view(input, a.transpose(perm))
    if gm.enabled and input._rg:
        record(PermuteBackward0, r, (input,), args=tuple(np.argsort(perm)))
    return r


class TransposeBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        d0, d1 = self.args
        return (F.swapaxes(g, d0, d1),)


@tensor_method
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    a = input._data
    d0, d1 = _wrap_dim(dim0, a.ndim), _wrap_dim(dim1, a.ndim)
    r = make_view(input, a.swapaxes(d0, d1) if a.ndim else a.view())
    if gm.enabled and input._rg:
        record(TransposeBackward0, r, (input,), args=(d0, d1) if a.ndim else (0, 0))
    return r


swapaxes = swapdims = transpose
Tensor.swapaxes = Tensor.swapdims = transpose  # type: ignore[attr-defined]


@tensor_method
def t(input: Tensor) -> Tensor:
    """Transpose a matrix (0-d and 1-d tensors are returned as is)."""
    if input._data.ndim > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D"
        )
    if input._data.ndim < 2:
        return view(input, input._data.shape)
    return transpose(input, 0, 1)


def _T(self: Tensor) -> Tensor:
    n = self._data.ndim
    if n <= 2:
        return t(self)
    return permute(self, tuple(range(n - 1, -1, -1)))


def _mT(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError(
            "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."
        )
    return transpose(self, -2, -1)


Tensor.T = property(_T)  # type: ignore[attr-defined]
Tensor.mT = property(_mT)  # type: ignore[attr-defined]
Tensor.H = property(_T)  # type: ignore[attr-defined]
Tensor.mH = property(_mT)  # type: ignore[attr-defined]


@tensor_method
def adjoint(input: Tensor) -> Tensor:
    return transpose(input, -2, -1)


class ExpandBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (g,)  # the engine sums the broadcast dims back to the input's shape


@tensor_method
def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to `sizes` without copying (-1 keeps a dimension)."""
    a = input._data
    sizes = _shape_arg(sizes)
    if len(sizes) < a.ndim:
        raise RuntimeError(
            f"expand(torch.{_tname(a)}Tensor{{{list(a.shape)}}}, size={list(sizes)}): the number "
            f"of sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({a.ndim})"
        )
    lead = len(sizes) - a.ndim
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s == -1:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            target.append(s)
        else:
            cur = a.shape[i - lead]
            if s == -1:
                s = cur
            elif cur != 1 and cur != s:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) must match the existing size ({cur}) "
                    f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor "
                    f"sizes: {list(a.shape)}"
                )
            target.append(s)
    r = make_view(
        input,
        np.broadcast_to(a, tuple(target))
        if a.__class__ is np.ndarray
        else input.xp.broadcast_to(a, tuple(target)),
    )
    if gm.enabled and input._rg:
        record(ExpandBackward0, r, (input,))
    return r


@tensor_method
def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


@tensor_method
def broadcast_to(input: Tensor, size: Any) -> Tensor:
    return expand(input, tuple(size))


class SqueezeBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.reshape(g, self.args),)


UnsqueezeBackward0 = type("UnsqueezeBackward0", (SqueezeBackward0,), {"__slots__": ()})


@tensor_method
def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Remove size-1 dimensions (all, or those in `dim`)."""
    a = input._data
    if dim is None:
        new = tuple(s for s in a.shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        ds = {_wrap_dim(d, a.ndim) for d in dims} if a.ndim else set()
        new = tuple(s for i, s in enumerate(a.shape) if not (i in ds and s == 1))
    r = make_view(input, a.reshape(new))
    if gm.enabled and input._rg:
        record(SqueezeBackward0, r, (input,), args=a.shape)
    return r


@tensor_method
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at `dim`."""
    a = input._data
    d = _wrap_dim(dim, a.ndim + 1)
    new = a.shape[:d] + (1,) + a.shape[d:]
    r = make_view(input, a.reshape(new))
    if gm.enabled and input._rg:
        record(UnsqueezeBackward0, r, (input,), args=a.shape)
    return r


@tensor_method
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    a = input._data
    if a.ndim == 0:
        return reshape(input, (1,))
    s, e = _wrap_dim(start_dim, a.ndim), _wrap_dim(end_dim, a.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    return reshape(input, a.shape[:s] + (-1,) + a.shape[e + 1 :])


@tensor_method
def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:
    """Split dimension `dim` into `sizes` (one entry may be -1)."""
    a = input._data
    d = _wrap_dim(dim, a.ndim)
    sizes = tuple(sizes)
    inner = _infer(sizes, a.shape[d]) if -1 in sizes else sizes
    if math.prod(inner) != a.shape[d]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({a.shape[d]}) in the input tensor"
        )
    return (
        view(input, a.shape[:d] + tuple(inner) + a.shape[d + 1 :])
        if a.flags.c_contiguous
        else reshape(input, a.shape[:d] + tuple(inner) + a.shape[d + 1 :])
    )


@tensor_method
def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims from `source` to `destination` positions (a view)."""
    n = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    src = tuple(_wrap_dim(s, n) for s in src)
    dst = tuple(_wrap_dim(d, n) for d in dst)
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim
Tensor.moveaxis = movedim  # type: ignore[attr-defined]
