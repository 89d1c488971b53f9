"""Matrix products: matmul (torch's 1-D/2-D/batched broadcasting rules), mm, bmm, dot, ..."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.ops._core import Node, Tensor, as_array_operands, gm, record, wrap
from ember.tensor import tensor_method

__all__ = [
    "matmul",
    "mm",
    "bmm",
    "dot",
    "vdot",
    "mv",
    "outer",
    "ger",
    "inner",
    "addmm",
    "addmv",
    "baddbmm",
    "addbmm",
    "addr",
]


class MmBackward0(Node):
    """Backward of a matmul of >=2-D operands (1-D operands are promoted before recording)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, a: Any, b: Any) -> tuple:
        ga = gb = None
        if self.edges[0] is not None:
            ga = F.matmul(g, F.swapaxes(b, -1, -2))
        if self.edges[1] is not None:
            if len(self.edges[1][2]) == 2 and a.ndim > 2:
                # a weight shared by every batch entry: one GEMM over the flattened batch instead
                # of a batched product summed afterwards (B x K x N intermediate)
                a2 = F.reshape(a, (-1, a.shape[-1]))
                gb = F.matmul(F.swapaxes(a2, 0, 1), F.reshape(g, (-1, g.shape[-1])))
            else:
                gb = F.matmul(F.swapaxes(a, -1, -2), g)
        return ga, gb


def _shape_error(a: Any, b: Any) -> RuntimeError:
    if a.ndim == 1 and b.ndim == 1:
        return RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
            f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements "
            "respectively"
        )
    if a.ndim <= 2 and b.ndim <= 2:
        sa = "x".join(map(str, a.shape if a.ndim == 2 else (1,) + a.shape))
        sb = "x".join(
            map(str, b.shape if b.ndim == 2 else b.shape + (1,) if b.ndim == 1 else b.shape)
        )
        if b.ndim == 1:
            return RuntimeError(
                f"size mismatch, got input ({a.shape[0]}x{a.shape[1]}), vec ({b.shape[0]})"
            )
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    return RuntimeError(
        f"Expected size for first two dimensions of batch2 tensor to be: {list(b.shape[:-2]) + [a.shape[-1]]} "
        f"but got: {list(b.shape[:-2]) + [b.shape[-2]]}."
        if a.ndim == b.ndim == 3
        else f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
        f"(inner dimensions {a.shape[-1]} and {b.shape[-2] if b.ndim > 1 else b.shape[0]} differ)"
    )


@tensor_method
def matmul(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Matrix product with torch's rules for 1-D, 2-D and batched (broadcast) operands."""
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(other).__name__}")
    a, b = as_array_operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise _shape_error(a, b)
    if (a.ndim == 1 or b.ndim == 1) and gm.enabled and (input._rg or other._rg):
        # 1-D operands: a composite of views around the matrix case (its rule covers both)
        x = input.unsqueeze(0) if a.ndim == 1 else input
        y = other.unsqueeze(-1) if b.ndim == 1 else other
        r = matmul(x, y)
        if b.ndim == 1:
            r = r.squeeze(-1)
        if a.ndim == 1:
            r = r.squeeze(-2 if b.ndim > 1 else -1)
        return r
    r = wrap(np.matmul(a, b) if a.__class__ is np.ndarray else input.xp.matmul(a, b))
    if gm.enabled and (input._rg or other._rg):
        sa = input if a is input._data else wrap(a)
        sb = other if b is other._data else wrap(b)
        # a is needed only for d/dother, b only for d/dinput
        record(
            MmBackward0,
            r,
            (input, other),
            saved=(sa if other._rg else None, sb if input._rg else None),
        )
    if out is not None:
        from ember.ops.elementwise import _out

        return _out(out, r)
    return r


@tensor_method
def mm(input: Tensor, mat2: Tensor, *, out: Any = None) -> Tensor:
    """Product of two matrices (2-D only)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"{'self' if input.ndim != 2 else 'mat2'} must be a matrix")
    return matmul(input, mat2, out=out)


@tensor_method
def bmm(input: Tensor, mat2: Tensor, *, out: Any = None) -> Tensor:
    """Batched product of 3-D tensors with equal batch sizes."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch{1 if input.ndim != 3 else 2} must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    return matmul(input, mat2, out=out)


@tensor_method
def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype != other.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {input.dtype} and {other.dtype}"
        )
    return matmul(input, other)


vdot = dot
Tensor.vdot = dot  # type: ignore[attr-defined]


@tensor_method
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {vec.ndim}")
    return matmul(input, vec)


@tensor_method
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two vectors."""
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer
Tensor.ger = outer  # type: ignore[attr-defined]


@tensor_method
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum-product over the last dimension of both."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return matmul(input, other.transpose(-1, -2) if other.ndim > 1 else other)


@tensor_method
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)."""
    return _axpby(input, mm(mat1, mat2), beta, alpha)


@tensor_method
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    return _axpby(input, mv(mat, vec), beta, alpha)


@tensor_method
def baddbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1
) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batched."""
    return _axpby(input, bmm(batch1, batch2), beta, alpha)


@tensor_method
def addbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1
) -> Tensor:
    return _axpby(input, bmm(batch1, batch2).sum(0), beta, alpha)


@tensor_method
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    return _axpby(input, outer(vec1, vec2), beta, alpha)


def _axpby(input: Tensor, prod: Tensor, beta: Any, alpha: Any) -> Tensor:
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod  # torch: beta=0 ignores input (even nan/inf in it)
    return prod + (input if beta == 1 else input * beta)


for _n in ("addmm", "addmv", "baddbmm", "addbmm", "addr"):

    def _mk(name: str) -> Any:
        from ember.ops._core import check_inplace, commit_inplace

        def inplace(self: Tensor, *args: Any, **kw: Any) -> Tensor:
            check_inplace(self, name + "_")
            return commit_inplace(self, globals()[name](self, *args, **kw), name + "_")

        return inplace

    setattr(Tensor, _n + "_", _mk(_n))


def _la(name: str) -> Any:
    import importlib

    return getattr(importlib.import_module("ember.linalg"), name)


@tensor_method
def det(input: Tensor) -> Tensor:
    """Determinant (torch.det = torch.linalg.det)."""
    return _la("det")(input)


@tensor_method
def logdet(input: Tensor) -> Tensor:
    """log(det(input)); nan for negative determinants, -inf for singular matrices (as torch)."""
    sign, lad = _la("slogdet")(input)
    from ember.ops.elementwise import where

    return where(sign < 0, float("nan"), lad)


@tensor_method
def slogdet(input: Tensor) -> Any:
    """(sign, log|det|)."""
    return _la("slogdet")(input)


@tensor_method
def inverse(input: Tensor) -> Tensor:
    """Matrix inverse (torch.inverse = torch.linalg.inv)."""
    return _la("inv")(input)


@tensor_method
def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """Cholesky factor (lower by default; upper=True gives L^H)."""
    L = _la("cholesky")(input)
    return L.transpose(-2, -1) if upper else L


__all__ += ["det", "logdet", "slogdet", "inverse", "cholesky"]
