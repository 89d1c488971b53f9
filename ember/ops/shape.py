"""Shape ops: joining (cat, stack), splitting (split, chunk, unbind), slicing views (narrow,
select, diagonal, unfold), reordering (flip, roll), triangles and diagonals, repetition,
broadcasting helpers, and the padding primitives used by ``nn.functional.pad``.

Views share storage and version counter with their base (``make_view``). Backward rules are
written against ``F``; the few array helpers NumPy lacks (torch-order constant padding, diagonal
scatter, gather/scatter along axes, unfold and its adjoint) are registered both as array
functions (``engine.register_array_fn``) and as differentiable ember ops
(``tensor_np.register``), each op's gradient being its adjoint, so every rule differentiates
twice.
"""

from __future__ import annotations

import itertools
import operator
import warnings
from typing import Any

import numpy as np

from ember import dtypes
from ember.autograd import engine, tensor_np
from ember.ops import _core
from ember.ops._core import Node, Tensor, _make, check_inplace, commit_inplace, gm, record, wrap
from ember.ops.reduce import norm_dims
from ember.ops.views import expand, make_view, reshape, unsqueeze
from ember.size import Size
from ember.tensor import _wrap_dim, tensor_method

__all__ = [
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack",
    "row_stack", "split", "tensor_split", "chunk", "unbind", "narrow", "select", "flip",
    "fliplr", "flipud", "roll", "tril", "triu", "diagonal", "diag", "diag_embed", "trace",
    "repeat_interleave", "tile", "meshgrid", "broadcast_tensors", "broadcast_shapes",
    "atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "cartesian_prod",
    "constant_pad", "constant_pad_nd", "reflect_pad", "replicate_pad", "hsplit", "vsplit",
    "dsplit",
]  # fmt: skip


# =========================================================================== array helpers
def _xp(a: Any) -> Any:
    from ember.backends import xp_of

    return xp_of(a)


def _on(a: Any, idx: np.ndarray) -> Any:
    """An index array on `a`'s device (index maps are computed on the host)."""
    return idx if a.__class__ is np.ndarray else _xp(a).asarray(idx)


def _ax(ax: int, ndim: int, s: Any) -> tuple:
    """An index tuple selecting `s` along axis `ax` (a trailing Ellipsis keeps 0-d results
    arrays, not NumPy scalars)."""
    return (slice(None),) * ax + (s, Ellipsis)


def _constant_pad_arr(a: Any, pad: Any, value: Any = 0) -> Any:
    """torch-order constant padding of an array (negative pads crop); always a new array."""
    nd = a.ndim
    shape = list(a.shape)
    src = [slice(None)] * nd
    dst = [slice(None)] * nd
    for i in range(len(pad) // 2):
        ax = nd - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        s = shape[ax]
        if s + min(lo, 0) + min(hi, 0) < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        n = s + min(lo, 0) + min(hi, 0)  # elements of the input kept along this axis
        src[ax] = slice(max(-lo, 0), max(-lo, 0) + n)
        dst[ax] = slice(max(lo, 0), max(lo, 0) + n)
        shape[ax] = s + lo + hi
    xp = _xp(a)
    out = xp.zeros(shape, a.dtype) if value == 0 else xp.full(shape, value, a.dtype)
    out[tuple(dst)] = a[tuple(src)]
    return out


def _diag_view(a: Any, offset: int, d1: int, d2: int) -> Any:
    """A writable view of the diagonal of dims d1, d2 (appended last, as torch)."""
    d = _xp(a).diagonal(a, offset, d1, d2)
    if d.__class__ is np.ndarray and a.flags.writeable and not d.flags.writeable:
        d.flags.writeable = True  # NumPy marks diagonal views read-only by policy only
    return d


def _diag_scatter_arr(g: Any, shape: tuple, offset: int, d1: int, d2: int) -> Any:
    """Zeros of `shape` with `g` written on the (offset, d1, d2) diagonal."""
    out = _xp(g).zeros(shape, g.dtype)
    _diag_view(out, offset, d1, d2)[...] = g
    return out


def _unfold_arr(a: Any, d: int, size: int, step: int) -> Any:
    """Sliding windows of `size` every `step` along `d` (window dim last): a strided view."""
    n = a.shape[d]
    nwin = (n - size) // step + 1
    shape = a.shape[:d] + (nwin,) + a.shape[d + 1 :] + (size,)
    st = a.strides
    strides = st[:d] + (st[d] * step,) + st[d + 1 :] + (st[d],)
    return _xp(a).lib.stride_tricks.as_strided(a, shape, strides)


def _unfold_backward_arr(g: Any, shape: tuple, d: int, size: int, step: int) -> Any:
    """Adjoint of unfold: sum every window back onto the positions it was taken from."""
    out = _xp(g).zeros(shape, g.dtype)
    nwin = g.shape[d]
    nd = len(shape)
    if size <= nwin:  # one strided add per window offset
        for k in range(size):
            out[_ax(d, nd, slice(k, k + (nwin - 1) * step + 1, step))] += g[..., k]
    else:  # fewer windows than window elements: one add per window
        gm_ = _xp(g).moveaxis(g, -1, d + 1)
        for w in range(nwin):
            out[_ax(d, nd, slice(w * step, w * step + size))] += gm_[_ax(d, g.ndim, w)]
    return out


def _gather_arr(a: Any, maps: tuple) -> Any:
    """``a`` indexed by ``idx`` along each ``(axis, idx)`` of `maps` (a copy)."""
    for ax, idx in maps:
        a = a.take(_on(a, idx), axis=ax)
    return a


def _segment_sum(g: Any, ax: int, idx: np.ndarray, n: int) -> Any:
    """out[..., k, ...] = sum of g[..., j, ...] over j with idx[j] == k (k < n): gather's adjoint.

    The longest run of consecutive indices (the interior of a pad, an identity map) is copied as
    one slice; the rest is grouped by a stable sort and summed with ``add.reduceat``.
    """
    xp = _xp(g)
    nd = g.ndim
    out = xp.zeros(g.shape[:ax] + (n,) + g.shape[ax + 1 :], g.dtype)
    m = idx.size
    if m == 0 or out.size == 0:
        return out
    brk = np.flatnonzero(np.diff(idx) != 1) + 1
    starts = np.concatenate(([0], brk))
    ends = np.concatenate((brk, [m]))
    k = int(np.argmax(ends - starts))
    s, e = int(starts[k]), int(ends[k])
    out[_ax(ax, nd, slice(int(idx[s]), int(idx[s]) + e - s))] = g[_ax(ax, nd, slice(s, e))]
    rest = np.concatenate((np.arange(0, s), np.arange(e, m)))
    if rest.size == 0:
        return out
    ri = idx[rest]
    if xp is not np:  # no reduceat on every backend: scatter-add with the namespace's add_at
        from ember.autograd.array_ns import namespace

        namespace(g).add_at(out, _ax(ax, nd, _on(g, ri)), g.take(_on(g, rest), axis=ax))
        return out
    order = np.argsort(ri, kind="stable")
    rs = ri[order]
    first = np.flatnonzero(np.concatenate(([True], rs[1:] != rs[:-1])))
    vals = g.take(rest[order], axis=ax)
    if first.size < rs.size:
        vals = np.add.reduceat(vals, first, axis=ax)
    out[_ax(ax, nd, rs[first])] += vals
    return out


def _scatter_arr(g: Any, maps: tuple, sizes: tuple) -> Any:
    """Adjoint of `_gather_arr`: segment sums along each axis, in reverse order."""
    for (ax, idx), n in zip(reversed(maps), reversed(sizes), strict=True):
        g = _segment_sum(g, ax, idx, n)
    return g


# =========================================================================== adjoint op pairs
# Differentiable versions of the helpers above (used by backward rules under create_graph).
class ConstantPadNdBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.constant_pad(g, [-p for p in self.args]),)


class _GatherRule:
    """Backward of a gather along axes (pads, repeat_interleave): sum back per source index.

    A mixin, not a Node: the concrete nodes carry torch's names (IndexSelectBackward0...).
    """

    __slots__ = ()
    args: Any

    def backward(self, F: Any, g: Any) -> tuple:
        maps, sizes = self.args
        return (F.scatter_axes(g, maps, sizes),)


class ScatterAxesBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.gather_axes(g, self.args[0]),)


class IndexSelectBackward0(_GatherRule, Node):
    __slots__ = ()


def _gather_t(x: Tensor, maps: tuple, cls: type[Node] = IndexSelectBackward0) -> Tensor:
    a = x._data
    sizes = tuple(a.shape[ax] for ax, _ in maps)
    r = _make(_gather_arr(a, maps))
    if gm.enabled and x._rg:
        record(cls, r, (x,), args=(maps, sizes))
    return r


def _scatter_t(g: Tensor, maps: tuple, sizes: tuple) -> Tensor:
    r = _make(_scatter_arr(g._data, maps, sizes))
    if gm.enabled and g._rg:
        record(ScatterAxesBackward0, r, (g,), args=(maps, sizes))
    return r


class DiagonalBackwardBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        offset, d1, d2 = self.args
        return (F.diagonal(g, offset, d1, d2),)


def _diag_scatter_t(g: Tensor, shape: tuple, offset: int, d1: int, d2: int) -> Tensor:
    r = _make(_diag_scatter_arr(g._data, tuple(shape), offset, d1, d2))
    if gm.enabled and g._rg:
        record(DiagonalBackwardBackward0, r, (g,), args=(offset, d1, d2))
    return r


class UnfoldBackwardBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        d, size, step = self.args
        return (F.unfold(g, d, size, step),)


def _unfold_backward_t(g: Tensor, shape: tuple, d: int, size: int, step: int) -> Tensor:
    r = _make(_unfold_backward_arr(g._data, tuple(shape), d, size, step))
    if gm.enabled and g._rg:
        record(UnfoldBackwardBackward0, r, (g,), args=(d, size, step))
    return r


def _split_t(x: Tensor, indices: Any, axis: int = 0) -> list[Tensor]:
    """np.split semantics (section count or boundary indices) with differentiable narrows."""
    n = x._data.shape[axis]
    if isinstance(indices, int):
        indices = list(range(n // indices, n, n // indices)) if indices > 1 else []
    bounds = [0, *indices, n]
    return [narrow(x, axis, b0, b1 - b0) for b0, b1 in itertools.pairwise(bounds)]


engine.register_array_fn("constant_pad", _constant_pad_arr)
engine.register_array_fn("gather_axes", _gather_arr)
engine.register_array_fn("scatter_axes", _scatter_arr)
engine.register_array_fn("diag_scatter", _diag_scatter_arr)
engine.register_array_fn("unfold", _unfold_arr)
engine.register_array_fn("unfold_backward", _unfold_backward_arr)
tensor_np.register("gather_axes", _gather_t)
tensor_np.register("scatter_axes", _scatter_t)
tensor_np.register("diag_scatter", _diag_scatter_t)
tensor_np.register("unfold_backward", _unfold_backward_t)
tensor_np.register("split", _split_t)
tensor_np.register("unfold", lambda x, d, size, step: x.unfold(d, size, step))
tensor_np.register("roll", lambda x, shift, axis=None: roll(x, shift, axis))
tensor_np.register("constant_pad", lambda x, pad, value=0: constant_pad(x, pad, value))


# =========================================================================== small helpers
def _wrap(dim: int, ndim: int) -> int:
    """torch's dim wrapping with wrap_scalar: a 0-d tensor accepts dims 0 and -1."""
    return _wrap_dim(dim, max(ndim, 1))


def _int(x: Any) -> int:
    return int(x.item()) if isinstance(x, Tensor) else operator.index(x)


def _ints(xs: Any) -> tuple[int, ...]:
    if isinstance(xs, int | np.integer) or (isinstance(xs, Tensor) and xs.ndim == 0):
        return (_int(xs),)
    return tuple(_int(x) for x in xs)


def _tensor_list(tensors: Any, fname: str) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        raise TypeError(
            f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"
        )
    ts = list(tensors)
    for i, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
    return ts


def _common(ts: list[Tensor]) -> tuple[Any, list[Any]]:
    """The promoted dtype of `ts` and their arrays cast to it (same device required)."""
    arrs = [t._data for t in ts]
    cls = arrs[0].__class__
    for a in arrs[1:]:
        if a.__class__ is not cls:
            raise _core._device_error(arrs[0], a)
    d = arrs[0].dtype
    if any(a.dtype != d for a in arrs[1:]):
        dt = ts[0].dtype
        for t in ts[1:]:
            dt = dtypes.promote_types(dt, t.dtype)
        d = dt.np
        arrs = [a if a.dtype == d else a.astype(d) for a in arrs]
    return d, arrs


def _write_out(out: Tensor, r: Tensor) -> Tensor:
    if out._data.shape != r._data.shape:
        out._data = r._data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = r._data
    out._vc[0] += 1
    return out


def _any_rg(ts: Any) -> bool:
    return gm.enabled and any(t._rg for t in ts)


class _MultiOut:
    """Mixin for nodes with one output per result (split, unbind): outputs are its views.

    With a single output the engine hands `g` over as is, not as a one-element list.
    """

    __slots__ = ()
    metadata: Any

    @property
    def nout(self) -> int:  # type: ignore[override]
        return len(self.metadata)


def _record_multi(cls: type[Node], outs: list[Tensor], x: Tensor, args: Any) -> None:
    node = record(cls, outs[0], (x,), args=args)
    node.metadata = [(o._data.shape, o._data.dtype) for o in outs]
    for i, o in enumerate(outs[1:], 1):
        o._rg = True
        o.grad_fn = node
        o._out_nr = i


# =========================================================================== joining
class CatBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        d, bounds, shapes = self.args
        pieces = F.split(g, bounds, axis=d)
        return tuple(
            p if p.shape == s else F.reshape(p, s) for p, s in zip(pieces, shapes, strict=True)
        )


def cat(tensors: Any, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Concatenate along `dim` with type promotion; empty 1-D tensors are skipped (legacy)."""
    ts = _tensor_list(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(ts):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    kept = [i for i, t in enumerate(ts) if t._data.shape != (0,)]
    _, arrs = _common(ts)
    if kept:
        ref = arrs[kept[0]]
        d = _wrap(_int(dim), ref.ndim)
        for i in kept[1:]:
            a = arrs[i]
            if a.ndim != ref.ndim:
                raise RuntimeError(
                    f"Tensors must have same number of dimensions: got {ref.ndim} and {a.ndim}"
                )
            for ax in range(ref.ndim):
                if ax != d and a.shape[ax] != ref.shape[ax]:
                    raise RuntimeError(
                        f"Sizes of tensors must match except in dimension {d}. Expected size "
                        f"{ref.shape[ax]} but got size {a.shape[ax]} for tensor number {i} in "
                        "the list."
                    )
        parts = [arrs[i] for i in kept]
    else:
        d, parts = 0, arrs
    r = _make(_xp(parts[0]).concatenate(parts, axis=d))
    if _any_rg(ts):
        sizes = [a.shape[d] if i in kept else 0 for i, a in enumerate(arrs)]
        bounds = list(np.cumsum(sizes[:-1]).tolist())
        record(CatBackward0, r, tuple(ts), args=(d, bounds, [a.shape for a in arrs]))
    return _write_out(out, r) if out is not None else r


concat = concatenate = cat


class StackBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        d, n, shape = self.args
        return tuple(F.reshape(p, shape) for p in F.split(g, list(range(1, n)), axis=d))


def stack(tensors: Any, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Join equally-shaped tensors along a new dimension `dim`."""
    ts = _tensor_list(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = ts[0]._data.shape
    for i, t in enumerate(ts[1:], 1):
        if t._data.shape != s0:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(s0)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}"
            )
    d = _wrap(_int(dim), len(s0) + 1)
    _, arrs = _common(ts)
    r = _make(_xp(arrs[0]).stack(arrs, axis=d))
    if _any_rg(ts):
        record(StackBackward0, r, tuple(ts), args=(d, len(ts), s0))
    return _write_out(out, r) if out is not None else r


def _nonempty(tensors: Any, fname: str) -> list[Tensor]:
    ts = _tensor_list(tensors, fname)
    if not ts:
        raise RuntimeError(f"{fname} expects a non-empty TensorList")
    return ts


def hstack(tensors: Any, *, out: Tensor | None = None) -> Tensor:
    """Concatenate horizontally: along dim 0 for 1-D inputs, dim 1 otherwise."""
    ts = atleast_1d(_nonempty(tensors, "hstack"))
    d = 0 if all(t._data.ndim == 1 for t in ts) else 1
    return cat(ts, d, out=out)


def vstack(tensors: Any, *, out: Tensor | None = None) -> Tensor:
    """Concatenate vertically (1-D inputs become rows)."""
    return cat(atleast_2d(_nonempty(tensors, "vstack")), 0, out=out)


row_stack = vstack


def dstack(tensors: Any, *, out: Tensor | None = None) -> Tensor:
    """Concatenate along the third dimension (inputs made at least 3-D)."""
    return cat(atleast_3d(_nonempty(tensors, "dstack")), 2, out=out)


def column_stack(tensors: Any, *, out: Tensor | None = None) -> Tensor:
    """Stack as columns: 0-D and 1-D inputs become (n, 1) columns, then concatenate on dim 1."""
    ts = _nonempty(tensors, "column_stack")
    ts = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in ts]
    return cat(ts, 1, out=out)


# =========================================================================== splitting
class SplitBackward0(_MultiOut, Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.concatenate(g if isinstance(g, list) else [g], axis=self.args),)


class SplitWithSizesBackward0(SplitBackward0):
    __slots__ = ()


def _split_views(x: Tensor, d: int, sizes: list[int], cls: type[Node]) -> tuple[Tensor, ...]:
    a = x._data
    outs = []
    o = 0
    for s in sizes:
        outs.append(make_view(x, a[_ax(d, a.ndim, slice(o, o + s))]))
        o += s
    if gm.enabled and x._rg and outs:
        _record_multi(cls, outs, x, d)
    return tuple(outs)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into chunks of `split_size_or_sections` (an int) or of the listed sizes (views)."""
    a = tensor._data
    kind = "split" if isinstance(split_size_or_sections, int | np.integer) else "split_with_sizes"
    if a.ndim == 0:
        raise RuntimeError(f"{kind} expects at least a 1-dimensional tensor")
    d = _wrap(_int(dim), a.ndim)
    n = a.shape[d]
    if kind == "split":
        s = int(split_size_or_sections)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0 and n != 0:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
            )
        k = max(-(-n // s), 1) if s else 1
        sizes = [s] * (k - 1) + [n - s * (k - 1)]
        return _split_views(tensor, d, sizes, SplitBackward0)
    sizes = list(_ints(split_size_or_sections))
    if any(s < 0 for s in sizes):
        raise RuntimeError(
            "split_with_sizes expects split_sizes have only non-negative entries, but got "
            f"split_sizes={sizes}"
        )
    if sum(sizes) != n:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
            f"at dimension {d}), but got split_sizes={sizes}"
        )
    return _split_views(tensor, d, sizes, SplitWithSizesBackward0)


def _split_method(self: Tensor, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
    return split(self, split_size, dim)


Tensor.split = _split_method  # type: ignore[attr-defined]


@tensor_method
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into `chunks` pieces of equal size ceil(n / chunks) (the last may be smaller)."""
    a = input._data
    if a.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = _int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _wrap(_int(dim), a.ndim)
    n = a.shape[d]
    if n == 0:
        return _split_views(input, d, [0] * chunks, SplitWithSizesBackward0)
    return split(input, -(-n // chunks), d)


class SliceBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.constant_pad(g, self.args),)


def _slice_pad(ndim: int, d: int, lo: int, hi: int) -> list[int]:
    """torch-order pads that put a slice [lo, n - hi) of dim d back in place."""
    pad = [0, 0] * (ndim - d)
    pad[-2:] = [lo, hi]
    return pad


def _slice(x: Tensor, d: int, start: int, stop: int) -> Tensor:
    a = x._data
    r = make_view(x, a[_ax(d, a.ndim, slice(start, stop))])
    if gm.enabled and x._rg:
        record(SliceBackward0, r, (x,), args=_slice_pad(a.ndim, d, start, a.shape[d] - stop))
    return r


@tensor_method
def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The view input[..., start:start + length, ...] along `dim`."""
    a = input._data
    if a.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    length = _int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    d = _wrap(_int(dim), a.ndim)
    n = a.shape[d]
    start = _int(start)
    if not -n <= start <= n:
        raise IndexError(
            f"start out of range (expected to be in range of [{-n}, {n}], but got {start})"
        )
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _slice(input, d, start, start + length)


@tensor_method
def tensor_split(
    input: Tensor,
    indices_or_sections: Any = None,
    dim: int = 0,
    *,
    sections: Any = None,
    indices: Any = None,
    tensor_indices_or_sections: Any = None,
) -> tuple[Tensor, ...]:
    """Split into `sections` near-equal parts, or at the given indices (views; numpy.array_split)."""
    arg = indices_or_sections
    for alt in (sections, indices, tensor_indices_or_sections):
        if alt is not None:
            arg = alt
    a = input._data
    if a.ndim == 0:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        )
    if isinstance(arg, Tensor):
        if arg._data.dtype != np.int64:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                f"{_core._tname(arg.dtype)}"
            )
        if arg._data.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                f"one-dimensional tensor, but got a tensor with {arg._data.ndim} dims"
            )
        arg = int(arg.item()) if arg._data.ndim == 0 else [int(v) for v in arg._data.tolist()]
    d = _wrap(_int(dim), a.ndim)
    n = a.shape[d]
    if isinstance(arg, int | np.integer):
        k = int(arg)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, rem = divmod(n, k)
        bounds = np.cumsum([0] + [q + 1] * rem + [q] * (k - rem)).tolist()
        return tuple(_slice(input, d, b0, b1) for b0, b1 in itertools.pairwise(bounds))
    outs = []
    prev = 0
    for i in [*_ints(arg), None]:
        lo, hi, _ = slice(prev, i).indices(n)  # Python slice clamping, as torch
        outs.append(_slice(input, d, lo, max(lo, hi)))
        prev = i
    return tuple(outs)


def _hvd_split(input: Tensor, ios: Any, d: int, name: str, need: int) -> tuple[Tensor, ...]:
    nd = input._data.ndim
    if nd < need:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {need} dimension, but got a tensor "
            f"with {nd} dimensions!"
        )
    if isinstance(ios, int | np.integer) and input._data.shape[d] % int(ios):
        raise RuntimeError(
            f"torch.{name} attempted to split along dimension {d}, but the size of the dimension "
            f"{input._data.shape[d]} is not divisible by the split_size {int(ios)}!"
        )
    return tensor_split(input, ios, d)


@tensor_method
def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 1 (dim 0 for 1-D), sections must divide evenly."""
    d = 0 if input._data.ndim == 1 else 1
    return _hvd_split(input, indices_or_sections, d, "hsplit", 1)


@tensor_method
def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 0, sections must divide evenly."""
    return _hvd_split(input, indices_or_sections, 0, "vsplit", 2)


@tensor_method
def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 2, sections must divide evenly."""
    return _hvd_split(input, indices_or_sections, 2, "dsplit", 3)


class UnbindBackward0(_MultiOut, Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.stack(g if isinstance(g, list) else [g], axis=self.args),)


@tensor_method
def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Remove dimension `dim`: a tuple of views, one per index along it."""
    a = input._data
    dim = _int(dim)
    if a.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _wrap(dim, a.ndim)
    m = a if d == 0 else _xp(a).moveaxis(a, d, 0)
    outs = [make_view(input, m[i, ...]) for i in range(m.shape[0])]
    if gm.enabled and input._rg and outs:
        _record_multi(UnbindBackward0, outs, input, d)
    return tuple(outs)


class SelectBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        d, pad = self.args
        return (F.constant_pad(F.expand_dims(g, d), pad),)


@tensor_method
def select(input: Tensor, dim: int, index: Any) -> Tensor:
    """The view input[..., index, ...] along `dim` (that dimension removed)."""
    a = input._data
    if a.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap(_int(dim), a.ndim)
    n = a.shape[d]
    i = _int(index)
    if not -n <= i < n:
        raise IndexError(
            f"select(): index {i} out of range for tensor of size {list(a.shape)} at dimension {d}"
        )
    i %= n
    r = make_view(input, a[_ax(d, a.ndim, i)])
    if gm.enabled and input._rg:
        record(SelectBackward0, r, (input,), args=(d, _slice_pad(a.ndim, d, i, n - i - 1)))
    return r


# =========================================================================== reordering
class FlipBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.flip(g, self.args) if self.args else g,)


@tensor_method
def flip(input: Tensor, *args: Any, dims: Any = None) -> Tensor:
    """Reverse the order of elements along `dims` (a copy, as torch)."""
    if dims is None:
        dims = args[0] if len(args) == 1 and not isinstance(args[0], int | np.integer) else args
    a = input._data
    axes = norm_dims(tuple(_ints(dims)), a.ndim) or ()
    if a.ndim == 0:
        axes = ()
    r = _make(_xp(a).flip(a, axes).copy() if axes else a.copy())
    if gm.enabled and input._rg:
        record(FlipBackward0, r, (input,), args=axes)
    return r


@tensor_method
def fliplr(input: Tensor) -> Tensor:
    """Flip dim 1 (left/right)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@tensor_method
def flipud(input: Tensor) -> Tensor:
    """Flip dim 0 (up/down)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class RollBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shifts, dims = self.args
        return (F.roll(g, tuple(-s for s in shifts), axis=dims),)


@tensor_method
def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Circularly shift along `dims` (the flattened tensor when dims is None)."""
    a = input._data
    sh = _ints(shifts)
    dm = () if dims is None else _ints(dims)
    if not sh:
        raise RuntimeError("`shifts` required")
    if not dm and len(sh) == 1:
        axes = None
        sh_arg: Any = sh[0]
    else:
        if len(sh) != len(dm):
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(dm)}"
            )
        if a.ndim == 0:
            raise IndexError(f"Dimension specified as {dm[0]} but tensor has no dimensions")
        axes = tuple(_wrap(x, a.ndim) for x in dm)
        sh_arg = sh
    r = _make(_xp(a).roll(a, sh_arg, axis=axes))
    if gm.enabled and input._rg:
        record(RollBackward0, r, (input,), args=(sh if axes is not None else sh[:1], axes))
    return r


# =========================================================================== triangles, diagonals
class TrilBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.tril(g, self.args),)


class TriuBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (F.triu(g, self.args),)


def _tri(input: Tensor, k: Any, name: str, out: Tensor | None) -> Tensor:
    a = input._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    k = _int(k)
    xp = _xp(a)
    r = _make(xp.tril(a, k) if name == "tril" else xp.triu(a, k))
    if gm.enabled and input._rg:
        record(TrilBackward0 if name == "tril" else TriuBackward0, r, (input,), args=k)
    return _write_out(out, r) if out is not None else r


@tensor_method
def tril(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The lower triangle of the last two dims (on and below `diagonal`), the rest zeroed."""
    return _tri(input, diagonal, "tril", out)


@tensor_method
def triu(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The upper triangle of the last two dims (on and above `diagonal`), the rest zeroed."""
    return _tri(input, diagonal, "triu", out)


def _tril_(self: Tensor, diagonal: int = 0) -> Tensor:
    check_inplace(self, "tril_")
    return commit_inplace(self, tril(self, diagonal), "tril_")


def _triu_(self: Tensor, diagonal: int = 0) -> Tensor:
    check_inplace(self, "triu_")
    return commit_inplace(self, triu(self, diagonal), "triu_")


Tensor.tril_ = _tril_  # type: ignore[attr-defined]
Tensor.triu_ = _triu_  # type: ignore[attr-defined]


class DiagonalBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, offset, d1, d2 = self.args
        return (F.diag_scatter(g, shape, offset, d1, d2),)


DiagonalBackward0_copy = type("DiagonalBackward0_copy", (DiagonalBackward0,), {"__slots__": ()})


def _diag_dims(a: Any, dim1: Any, dim2: Any) -> tuple[int, int]:
    d1, d2 = _wrap(_int(dim1), a.ndim), _wrap(_int(dim2), a.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


@tensor_method
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The view of the `offset` diagonal of dims dim1, dim2 (appended as the last dim)."""
    a = input._data
    d1, d2 = _diag_dims(a, dim1, dim2)
    offset = _int(offset)
    r = make_view(input, _diag_view(a, offset, d1, d2))
    if gm.enabled and input._rg:
        record(DiagonalBackward0, r, (input,), args=(a.shape, offset, d1, d2))
    return r


class DiagEmbedBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        offset, d1, d2 = self.args
        return (F.diagonal(g, offset, d1, d2),)


def _diag_embed(input: Tensor, offset: int, d1: int, d2: int) -> Tensor:
    """Place the last dim of `input` on the `offset` diagonal of new dims d1, d2 (wrapped)."""
    a = input._data
    m = a.shape[-1] + abs(offset)
    rest = iter(a.shape[:-1])
    shape = tuple(m if i in (d1, d2) else next(rest) for i in range(a.ndim + 1))
    r = _make(_diag_scatter_arr(a, shape, offset, d1, d2))
    if gm.enabled and input._rg:
        record(DiagEmbedBackward0, r, (input,), args=(offset, d1, d2))
    return r


@tensor_method
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Tensor whose (dim1, dim2) `offset` diagonals are filled by input's last dimension."""
    nd = input._data.ndim + 1
    d1, d2 = _wrap(_int(dim1), nd), _wrap(_int(dim2), nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _diag_embed(input, _int(offset), d1, d2)


@tensor_method
def diag(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """1-D input: a square matrix with it on the `diagonal`; 2-D input: that diagonal (copy)."""
    a = input._data
    k = _int(diagonal)
    if a.ndim == 1:
        r = _diag_embed(input, k, 0, 1)
    elif a.ndim == 2:
        r = _make(_diag_view(a, k, 0, 1).copy())
        if gm.enabled and input._rg:
            record(DiagonalBackward0_copy, r, (input,), args=(a.shape, k, 0, 1))
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {a.ndim}D")
    return _write_out(out, r) if out is not None else r


class TraceBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape = self.args
        return (F.diag_scatter(F.broadcast_to(g, (min(shape),)), shape, 0, 0, 1),)


@tensor_method
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix (integer inputs sum in int64)."""
    a = input._data
    if a.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {a.ndim}")
    if a.dtype == np.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    r = wrap(_xp(a).trace(a, dtype=np.int64 if a.dtype.kind in "iu" else None))
    if gm.enabled and input._rg:
        record(TraceBackward0, r, (input,), args=a.shape)
    return r


# =========================================================================== repetition
class RepeatBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, reps = self.args
        padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
        inter = tuple(v for r, s in zip(reps, padded, strict=True) for v in (r, s))
        g = F.sum(F.reshape(g, inter), axis=tuple(range(0, len(inter), 2)))
        return (F.reshape(g, shape),)


def _repeat_method(self: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor `sizes[i]` times along each dim (a copy; len(sizes) >= ndim)."""
    if len(sizes) == 1 and not isinstance(sizes[0], int | np.integer | Tensor):
        sizes = tuple(sizes[0])
    reps = _ints(sizes) if sizes else ()
    a = self._data
    if len(reps) < a.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    padded = (1,) * (len(reps) - a.ndim) + a.shape
    target = [r * s for r, s in zip(reps, padded, strict=True)]
    for v in target:
        if v < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {v}: {target}")
    r = _make(_xp(a).tile(a, reps) if reps else a.copy())
    if gm.enabled and self._rg:
        record(RepeatBackward0, r, (self,), args=(a.shape, reps))
    return r


Tensor.repeat = _repeat_method  # type: ignore[attr-defined]


@tensor_method
def tile(input: Tensor, dims: Any) -> Tensor:
    """Repeat along each dim; `dims` shorter than ndim is padded with ones on the left."""
    reps = _ints(dims)
    reps = (1,) * (input._data.ndim - len(reps)) + reps
    return _repeat_method(input, reps)


@tensor_method
def repeat_interleave(
    input: Tensor, repeats: Any = None, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    """Repeat each element `repeats` times along `dim` (the flattened input when dim is None).

    With only a tensor argument, returns ``arange(n)`` repeated by it (an int64 index tensor).
    """
    if repeats is None:  # torch.repeat_interleave(repeats)
        reps = input._data
        if reps.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        reps = reps.reshape(-1)
        if (reps < 0).any():
            raise RuntimeError("repeats can not be negative")
        r = _xp(reps).repeat(_xp(reps).arange(reps.size, dtype=np.int64), reps)
        if output_size is not None and output_size != r.size:
            raise RuntimeError("allocated size does not match required size")
        return _make(r)
    if dim is None:
        input = reshape(input, (-1,))
        d = 0
    else:
        d = _wrap(_int(dim), input._data.ndim)
    a = input._data
    n = a.shape[d] if a.ndim else 1
    if isinstance(repeats, Tensor):
        ra = repeats._data
        if ra.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if ra.dtype.kind not in "iu":
            raise NotImplementedError(
                f"\"repeat_interleave_cpu\" not implemented for '{_core._tname(repeats.dtype)}'"
            )
        ra = np.asarray(repeats._host()).reshape(-1).astype(np.int64)
        if ra.size == 1:
            ra = np.broadcast_to(ra, (n,))
        elif ra.size != n:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{ra.size} and input.size({d}) = {n}"
            )
        if (ra < 0).any():
            raise RuntimeError("repeats can not be negative")
        idx = np.repeat(np.arange(n, dtype=np.int64), ra)
        if output_size is not None and output_size != idx.size:
            raise RuntimeError("allocated size does not match required size")
        if a.ndim == 0:
            input, a = reshape(input, (1,)), a.reshape(1)
        return _gather_t(input, ((d, idx),), IndexSelectBackward0)
    rep = _int(repeats)
    if rep < 0:
        raise RuntimeError("Repeats must be non-negative")
    if a.ndim == 0:
        if dim is not None:  # torch unsqueezes dim + 1 of the 0-d input
            _wrap(d + 1, 0)
        input, a = reshape(input, (1,)), a.reshape(1)
    if output_size is not None and output_size != n * rep:
        raise RuntimeError(
            f"repeat_interleave: Invalid output_size, expected {n * rep} but got {output_size}"
        )
    # as torch: unsqueeze, expand, then one contiguous copy (differentiable for free)
    e = expand(unsqueeze(input, d + 1), a.shape[: d + 1] + (rep,) + a.shape[d + 1 :])
    r = reshape(e, a.shape[:d] + (n * rep,) + a.shape[d + 1 :])
    return r if getattr(r, "_base", None) is None else r.clone()  # rep == 1: still a copy


# =========================================================================== strided views
class UnfoldBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        shape, d, size, step = self.args
        return (F.unfold_backward(g, shape, d, size, step),)


def _unfold_method(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """A view of all windows of `size` every `step` along `dimension` (as a new last dim)."""
    a = self._data
    d = _wrap(_int(dimension), a.ndim)
    size, step = _int(size), _int(step)
    n = a.shape[d] if a.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if a.ndim == 0:
        r = make_view(self, a.reshape(1)[:size])
        if gm.enabled and self._rg:
            record(SliceBackward0, r, (self,), args=[])
        return r
    r = make_view(self, _unfold_arr(a, d, size, step))
    if gm.enabled and self._rg:
        record(UnfoldBackward0, r, (self,), args=(a.shape, d, size, step))
    return r


Tensor.unfold = _unfold_method  # type: ignore[attr-defined]


# =========================================================================== broadcasting
def broadcast_shapes(*shapes: Any) -> Size:
    """The shape all `shapes` broadcast to (ints count as 1-D shapes)."""
    shs = [(s,) if isinstance(s, int | np.integer) else s for s in shapes if s is not None]
    if not shs:
        return Size(())
    for s in shs:
        if not isinstance(s, tuple | list):
            raise RuntimeError(
                f"Input shapes should be of type ints, a tuple of ints, or a list of ints, got {s}"
            )
    common = [1] * max(len(s) for s in shs)
    for i, s in enumerate(shs):
        for k in range(-1, -1 - len(s), -1):
            if s[k] == common[k]:
                continue
            if common[k] == 1:
                if s[k] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[k] = s[k]
            if s[k] != 1 and common[k] != s[k]:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {s[k]} at {k}! Mismatching "
                    f"argument at index {i} had {s}; but expected shape should be broadcastable "
                    f"to {common}"
                )
    return Size(common)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """Expand all tensors to their common broadcast shape (views; same-shaped ones as is)."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if not tensors:
        return ()
    shape: tuple = tensors[0]._data.shape
    for t in tensors[1:]:
        s = t._data.shape
        nd = max(len(shape), len(s))
        a = (1,) * (nd - len(shape)) + shape
        b = (1,) * (nd - len(s)) + s
        res = []
        for k in range(nd - 1, -1, -1):
            if a[k] != b[k] and a[k] != 1 and b[k] != 1:
                raise RuntimeError(
                    f"The size of tensor a ({a[k]}) must match the size of tensor b ({b[k]}) at "
                    f"non-singleton dimension {k}"
                )
            res.append(b[k] if a[k] == 1 else a[k])
        shape = tuple(reversed(res))
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


def _varargs(tensors: tuple) -> tuple[list[Tensor], bool]:
    """(*tensors) or a single sequence; the flag says whether to return a single tensor."""
    if len(tensors) == 1:
        if isinstance(tensors[0], Tensor):
            return [tensors[0]], True
        return list(tensors[0]), False
    return list(tensors), False


def _atleast(tensors: tuple, fn: Any) -> Any:
    ts, single = _varargs(tensors)
    out = tuple(fn(t) for t in ts)
    return out[0] if single else out


def _at1(t: Tensor) -> Tensor:
    return reshape(t, (1,)) if t._data.ndim == 0 else t


def _at2(t: Tensor) -> Tensor:
    nd = t._data.ndim
    return reshape(t, (1, 1)) if nd == 0 else unsqueeze(t, 0) if nd == 1 else t


def _at3(t: Tensor) -> Tensor:
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, (1, 1, 1))
    if nd == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    return unsqueeze(t, -1) if nd == 2 else t


def atleast_1d(*tensors: Any) -> Any:
    """0-d tensors as 1-d views; others as is (a tuple for several inputs)."""
    return _atleast(tensors, _at1)


def atleast_2d(*tensors: Any) -> Any:
    """Tensors with fewer than 2 dims as 2-d views (1-d become rows)."""
    return _atleast(tensors, _at2)


def atleast_3d(*tensors: Any) -> Any:
    """Tensors with fewer than 3 dims as 3-d views ((n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _atleast(tensors, _at3)


_meshgrid_warned = [False]


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids of 0-d/1-d tensors ('ij': matrix indexing, 'xy': Cartesian)."""
    ts, _ = _varargs(tensors)
    if indexing is None:
        if not _meshgrid_warned[0]:  # torch warns once per process
            _meshgrid_warned[0] = True
            warnings.warn(
                "torch.meshgrid: in an upcoming release, it will be required to pass the "
                "indexing argument.",
                UserWarning,
                stacklevel=2,
            )
        indexing = "ij"
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}"
            )
    for t in ts[1:]:
        if t._data.dtype != ts[0]._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t._data.__class__ is not ts[0]._data.__class__:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    k = len(ts)
    pos = list(range(k))
    if indexing == "xy" and k >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * k
    for t, p in zip(ts, pos, strict=True):
        shape[p] = t._data.size
    outs = []
    for t, p in zip(ts, pos, strict=True):
        view_shape = [1] * k
        view_shape[p] = t._data.size
        outs.append(expand(reshape(t, tuple(view_shape)), tuple(shape)))
    return tuple(outs)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """All combinations of the 1-d inputs' elements, one per row (itertools.product order)."""
    ts, _ = _varargs(tensors)
    for t in ts:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


class BlockDiagBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        rows, cols, shapes = self.args
        rs = F.split(g, rows, axis=0)
        res = []
        for i, s in enumerate(shapes):
            blk = F.split(rs[i], cols, axis=1)[i]
            res.append(blk if blk.shape == s else F.reshape(blk, s))
        return tuple(res)


def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix of the inputs (0-d -> 1x1, 1-d -> one row), type-promoted."""
    ts = list(tensors)
    for i, t in enumerate(ts):
        if t._data.ndim > 2:
            raise RuntimeError(
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input "
                f"{i} has {t._data.ndim} dimensions"
            )
    if not ts:
        return _make(np.zeros((1, 0), dtypes.get_default_dtype().np))
    dt, arrs = _common(ts)
    arrs = [a.reshape(1, -1) if a.ndim < 2 else a for a in arrs]
    nr = [a.shape[0] for a in arrs]
    nc = [a.shape[1] for a in arrs]
    out = _xp(arrs[0]).zeros((sum(nr), sum(nc)), dt)
    r0 = c0 = 0
    for a in arrs:
        out[r0 : r0 + a.shape[0], c0 : c0 + a.shape[1]] = a
        r0 += a.shape[0]
        c0 += a.shape[1]
    r = _make(out)
    if _any_rg(ts):
        rows = np.cumsum(nr[:-1]).tolist()
        cols = np.cumsum(nc[:-1]).tolist()
        record(BlockDiagBackward0, r, tuple(ts), args=(rows, cols, [t._data.shape for t in ts]))
    return r


# =========================================================================== padding
def _pad_list(pad: Any) -> list[int]:
    return [_int(p) for p in pad]


def constant_pad(input: Tensor, pad: Any, value: Any = 0.0) -> Tensor:
    """Pad with `value` in nn.functional.pad's order (last dim first: left, right, top, ...).

    Negative pads crop. The gradient slices the padded region back out.
    """
    a = input._data
    pad = _pad_list(pad)
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) // 2 > a.ndim:
        raise RuntimeError(
            "Length of pad should be no more than twice the number of dimensions of the input. "
            f"Pad length is {len(pad)}while the input has {a.ndim}dimensions."
        )
    if isinstance(value, Tensor):
        value = value.item()
    r = _make(_constant_pad_arr(a, pad, value))
    if gm.enabled and input._rg:
        record(ConstantPadNdBackward0, r, (input,), args=pad)
    return r


constant_pad_nd = constant_pad


def _pad_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """Source index of every output position along one padded dim."""
    i = np.arange(-lo, n + hi, dtype=np.int64)
    if mode == "reflect":
        i = np.abs(i)
        i = np.where(i > n - 1, 2 * (n - 1) - i, i)
    return np.clip(i, 0, n - 1)


_PAD_NODES: dict[tuple[str, int], type[Node]] = {
    (mode, k): type(
        f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{k}DBackward0",
        (_GatherRule, Node),
        {"__slots__": (), "__module__": __name__},
    )
    for mode in ("reflect", "replicate")
    for k in (1, 2, 3)
}


def _index_pad(input: Tensor, pad: Any, mode: str) -> Tensor:
    a = input._data
    pad = _pad_list(pad)
    k = len(pad) // 2
    if len(pad) % 2 or not 1 <= k <= 3:
        raise RuntimeError(f"padding size is expected to be 2, 4 or 6, but got: {len(pad)}")
    nd = a.ndim
    if nd not in (k + 1, k + 2) or 0 in a.shape[nd - k - 1 :]:
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and "
            f"other non-zero dimensions for input, but got: {list(a.shape)}"
        )
    if mode == "replicate" and a.dtype == np.bool_:
        raise NotImplementedError(f"\"replication_pad{k}d\" not implemented for 'Bool'")
    maps = []
    new = list(a.shape)
    for i in range(k):
        ax = nd - 1 - i
        lo, hi, n = pad[2 * i], pad[2 * i + 1], a.shape[ax]
        if mode == "reflect" and not (lo < n and hi < n):
            raise RuntimeError(
                f"Argument #{2 * k + 2}: Padding size should be less than the corresponding "
                f"input dimension, but got: padding ({lo}, {hi}) at dimension {ax} of input "
                f"{list(a.shape)}"
            )
        new[ax] = n + lo + hi
        maps.append((ax, _pad_index(n, lo, hi, mode)))
    if any(s < 0 for s in new):
        if k == 1:
            raise RuntimeError(
                f"input (W: {a.shape[-1]}) is too small. Calculated output W: {new[-1]}"
            )
        neg = next(s for s in new if s < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {neg}: {new}")
    maps_t = tuple(maps)
    cls = _PAD_NODES[(mode, k)]
    if all(p >= 0 for p in pad):  # the array module's pad is faster than a gather
        width = [(0, 0)] * (nd - k) + [(pad[2 * i], pad[2 * i + 1]) for i in range(k - 1, -1, -1)]
        r = _make(_xp(a).pad(a, width, mode="reflect" if mode == "reflect" else "edge"))
        if gm.enabled and input._rg:
            sizes = tuple(a.shape[ax] for ax, _ in maps_t)
            record(cls, r, (input,), args=(maps_t, sizes))
        return r
    return _gather_t(input, maps_t, cls)


def reflect_pad(input: Tensor, pad: Any) -> Tensor:
    """Reflection padding of the last len(pad)//2 dims (1 to 3), torch order, edge excluded."""
    return _index_pad(input, pad, "reflect")


def replicate_pad(input: Tensor, pad: Any) -> Tensor:
    """Replication (edge) padding of the last len(pad)//2 dims (1 to 3), torch order."""
    return _index_pad(input, pad, "replicate")
