"""einsum (differentiable), counting/searching helpers and closeness tests."""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ember.ops._core import Node, Tensor, _make, gm, record, to_tensor, wrap
from ember.tensor import tensor_method

__all__ = ["einsum", "bincount", "searchsorted", "bucketize", "isclose", "allclose", "histc"]


def _parse(equation: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """Explicit subscripts (ellipses expanded to letters), and the output subscripts."""
    eq = equation.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(
            "einsum(): more operands were provided than specified in the equation"
            if len(shapes) > len(ins)
            else "einsum(): fewer operands were provided than specified in the equation"
        )
    used = {c for c in eq if c.isalpha()}
    free = [c for c in string.ascii_letters if c not in used]
    ell_n = max((len(s) - (len(t) - 3) for t, s in zip(ins, shapes) if "..." in t), default=0)
    ell = "".join(free[:ell_n])
    out_ins = []
    for t, s in zip(ins, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_n - k :] if k else "")
        if len(t) != len(s):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(t)}) does not match the "
                f"number of dimensions ({len(s)}) for operand {len(out_ins)}"
                + (" and no ellipsis was given" if "..." not in eq else "")
            )
        out_ins.append(t)
    if "->" in eq:
        out = rhs.replace("...", ell)
    else:  # implicit mode: ellipsis dims first, then letters seen once, sorted
        counts: dict[str, int] = {}
        for t in out_ins:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return out_ins, out


class EinsumBackward(Node):
    """d/dX_i = einsum(g and the other operands -> X_i's subscripts), broadcast over letters
    that only X_i has (they were summed away in the forward)."""

    __slots__ = ()

    def name(self) -> str:
        return "EinsumBackward0"

    def backward(self, F: Any, g: Any, *ops: Any) -> tuple:
        ins, out = self.args
        grads = []
        for i, e in enumerate(self.edges):
            if e is None:
                grads.append(None)
                continue
            target = ins[i]
            if len(set(target)) != len(target):
                raise RuntimeError(
                    f"einsum backward: operand {i} repeats a subscript ({target}); taking its "
                    "diagonal has no gradient rule in ember yet"
                )
            others = [(t, o) for j, (t, o) in enumerate(zip(ins, ops)) if j != i]
            avail = set(out) | {c for t, _ in others for c in t}
            keep = "".join(c for c in target if c in avail)
            spec = ",".join([out] + [t for t, _ in others]) + "->" + keep
            gi = F.einsum(spec, g, *[o for _, o in others])
            if keep != target:  # letters only in this operand: the gradient is constant along them
                shape = ops[i].shape
                sub = tuple(1 if c not in keep else shape[target.index(c)] for c in target)
                gi = F.broadcast_to(F.reshape(gi, sub), shape)
            grads.append(gi)
        return tuple(grads)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation (torch.einsum), e.g. ``einsum('bij,bjk->bik', a, b)``."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    ts = [to_tensor(o) for o in operands]
    ins, out = _parse(equation, [t._data.shape for t in ts])
    from ember import dtypes

    d = dtypes.result_type(*ts) if len(ts) > 1 else ts[0].dtype
    arrays = [t._data if t._data.dtype == d.np else t._data.astype(d.np) for t in ts]
    xp = ts[0].xp
    spec = ",".join(ins) + "->" + out
    r = wrap(
        xp.einsum(spec, *arrays, optimize=len(arrays) > 2) if xp is np else xp.einsum(spec, *arrays)
    )
    if gm.enabled and any(t._rg for t in ts):
        saved = tuple(t if t._data is a else _make(a) for t, a in zip(ts, arrays))
        record(EinsumBackward, r, tuple(ts), saved=saved, args=(ins, out))
    return r


def _einsum_np(spec: str, *arrays: Any) -> Any:
    from ember.backends import xp_of

    return xp_of(arrays[0]).einsum(spec, *arrays)


def _register() -> None:
    from ember.autograd import engine, tensor_np

    engine.register_array_fn("einsum", _einsum_np)
    tensor_np.register("einsum", einsum)


_register()


@tensor_method
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Counts of each non-negative integer in a 1-D tensor (weighted sums with `weights`)."""
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if a.size and int(a.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    xp = input.xp
    if weights is None:
        return wrap(xp.bincount(a, minlength=minlength).astype(np.int64))
    w = weights._data
    out = xp.bincount(a, weights=w, minlength=minlength)
    return wrap(out.astype(np.float32 if w.dtype == np.float32 else np.float64))


def searchsorted(
    sorted_sequence: Tensor,
    input: Any,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """Indices where `input` would be inserted to keep each row of `sorted_sequence` sorted."""
    if side is not None:
        right = side == "right"
    seq = sorted_sequence._data
    vals = input._data if isinstance(input, Tensor) else np.asarray(input)
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, -1)
    how = "right" if right else "left"
    if seq.ndim == 1:
        res = np.searchsorted(seq, vals, side=how)
    else:
        flat_s = seq.reshape(-1, seq.shape[-1])
        flat_v = vals.reshape(-1, vals.shape[-1])
        res = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(flat_s, flat_v)]).reshape(
            vals.shape
        )
    return _make(np.asarray(res, np.int32 if out_int32 else np.int64))


def bucketize(
    input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False
) -> Tensor:
    """Bucket index of each value given sorted 1-D `boundaries`."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


@tensor_method
def isclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise."""
    o = to_tensor(other, input)
    return wrap(input.xp.isclose(input._data, o._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


@tensor_method
def allclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """True if every element is close (see isclose)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@tensor_method
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Histogram with equal-width bins over [min, max] (the data range when both are 0)."""
    a = input._data
    lo, hi = (float(a.min()), float(a.max())) if min == 0 and max == 0 else (min, max)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    h, _ = np.histogram(a, bins=bins, range=(lo, hi))
    return _make(h.astype(a.dtype))


def _multinomial_method(
    self: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None
) -> Tensor:
    from ember.ops.creation import multinomial

    return multinomial(self, num_samples, replacement, generator=generator)


Tensor.multinomial = _multinomial_method  # type: ignore[attr-defined]
Tensor.searchsorted = searchsorted  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- composites
@tensor_method
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """p-norm of input - other (all elements)."""
    d = input - other
    return d.norm(p) if p != 0 else (d != 0).sum().to(input.dtype)


def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """Pairwise p-norm distances between the rows of x1 (.., P, M) and x2 (.., R, M)."""
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == 2:
        return (diff * diff).sum(-1).sqrt()
    if p == 1:
        return diff.abs().sum(-1)
    if p == float("inf"):
        return diff.abs().amax(-1)
    if p == 0:
        return (diff != 0).sum(-1).to(x1.dtype)
    return (diff.abs() ** p).sum(-1) ** (1.0 / p)


@tensor_method
def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product."""
    a, b = input, other
    nd = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (nd - a.ndim) + tuple(a.shape))
    b = b.reshape((1,) * (nd - b.ndim) + tuple(b.shape))
    ai = a.reshape(sum(((s, 1) for s in a.shape), ()))
    bi = b.reshape(sum(((1, s) for s in b.shape), ()))
    return (ai * bi).reshape(tuple(x * y for x, y in zip(a.shape, b.shape, strict=True)))


@tensor_method
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along `dim` (the first dim of size 3 when None)."""
    if dim is None:
        dim = next(i for i, s in enumerate(input.shape) if s == 3)
    a0, a1, a2 = input.unbind(dim)
    b0, b1, b2 = other.unbind(dim)
    from ember.ops import stack

    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    """Sum over the given dims of a and b (torch.tensordot), through einsum."""
    if isinstance(dims, int):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db, strict=True):
        sb[j % b.ndim] = sa[i % a.ndim]
    summed = {sa[i % a.ndim] for i in da}
    out_s = [c for c in sa if c not in summed] + [c for c in sb if c not in summed]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out_s)}", a, b)


def isin(
    elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False
) -> Tensor:
    """Whether each element is in test_elements."""
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return wrap(np.isin(e, t, invert=invert))


def _fill_diagonal_(self: Tensor, fill_value: float, wrap: bool = False) -> Tensor:
    """Fill the main diagonal in place (all dims equal, or 2-D)."""
    from ember.ops._core import check_inplace

    check_inplace(self, "fill_diagonal_")
    a = self._data
    if a.ndim == 2:
        np.fill_diagonal(a, fill_value, wrap=wrap)
    else:
        idx = np.arange(min(a.shape))
        a[(idx,) * a.ndim] = fill_value
    self._vc[0] += 1
    return self


Tensor.fill_diagonal_ = _fill_diagonal_  # type: ignore[attr-defined]

__all__ += ["dist", "cdist", "kron", "cross", "tensordot", "isin"]
