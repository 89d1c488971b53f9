"""View ops: results share storage *and* version counter with their base, as in torch.

reshape/view, permute/transpose, expand, squeeze/unsqueeze, flatten; their backward is the
inverse movement of the gradient (no copies in the fast path beyond what NumPy needs).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember.ops._core import Node, Tensor, _make, gm, record
from ember.tensor import _wrap_dim, tensor_method

__all__ = [
    "view", "reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "expand",
    "expand_as", "broadcast_to", "squeeze", "unsqueeze", "flatten", "unflatten", "view_as",
    "reshape_as", "make_view", "rebase_view", "movedim", "moveaxis", "adjoint",
]  # fmt: skip


def make_view(base: Tensor, arr: Any) -> Tensor:
    """Wrap `arr` (a view of base's array) as a view tensor of `base`."""
    t = _make(arr)
    t._vc = base._vc
    root = getattr(base, "_base", None)
    t._base = root if root is not None else base
    return t


def rebase_view(view_t: Tensor, r: Tensor) -> None:
    """An in-place op on a view whose base is part of a graph (torch's CopySlices).

    The base's history becomes "old base with this view's region replaced by r", and the view's
    own history is re-derived from the new base.
    """
    base = view_t._base
    fn = getattr(view_t, "_view_fn", None)
    raise NotImplementedError(
        "in-place operation on a view of a tensor that requires grad is not supported yet "
        f"(view of shape {tuple(view_t.shape)}, base shape {tuple(base.shape)}, {fn}); "
        "use an out-of-place op or clone() the view first."
    )


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
        arr = a.view()
        arr.shape = new  # raises instead of copying when strides don't allow a view
    except AttributeError:
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
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
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
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
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
            f"expand(torch.FloatTensor{{{list(a.shape)}}}, size={list(sizes)}): the number of "
            "sizes provided must be greater or equal to the number of dimensions in the tensor"
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
    r = make_view(input, np.broadcast_to(a, tuple(target)) if a.__class__ is np.ndarray else input.xp.broadcast_to(a, tuple(target)))
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
    return view(input, a.shape[:d] + tuple(inner) + a.shape[d + 1 :]) if a.flags.c_contiguous else reshape(input, a.shape[:d] + tuple(inner) + a.shape[d + 1 :])


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
