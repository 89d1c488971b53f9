"""ember.linalg: torch.linalg's norms, solvers and decompositions over the array module's LAPACK.

Forward passes call ``xp.linalg`` (NumPy or CuPy); gradients follow torch's formulas for real
inputs, written against the backward namespace ``F``. ``F.linalg.inv``/``solve``/``det`` are
NumPy's in a normal backward and these very ops under ``create_graph`` (registered below), so the
rules differentiate again. Multi-output ops (svd, eigh, qr) differentiate all their outputs.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from ember import dtypes
from ember.autograd import tensor_np
from ember.ops._core import Node, Tensor, gm, record, wrap
from ember.ops.linalg import matmul
from ember.ops.reduce import (
    _dname,
    _is_float,
    _k,
    _prod_others,
    _structseq,
    _wrap,
    _xp,
    _xp_of_any,
    amax,
    amin,
    return_types,
    vector_norm,
)  # fmt: skip

__all__ = [
    "LinAlgError", "norm", "vector_norm", "matrix_norm", "matmul", "inv", "det", "slogdet",
    "solve", "cholesky", "qr", "svd", "svdvals", "eigh", "eigvalsh", "multi_dot",
]  # fmt: skip


class LinAlgError(RuntimeError):
    """A matrix was singular or not positive-definite (torch.linalg.LinAlgError)."""


_slogdet_t = _structseq("linalg_slogdet", ("sign", "logabsdet"))
_qr_t = _structseq("linalg_qr", ("Q", "R"))
_svd_t = _structseq("linalg_svd", ("U", "S", "Vh"))
_eigh_t = _structseq("linalg_eigh", ("eigenvalues", "eigenvectors"))
for _c in (_slogdet_t, _qr_t, _svd_t, _eigh_t):
    setattr(return_types, _c.__name__, _c)


# --------------------------------------------------------------------------- helpers
def _mT(F: Any, x: Any) -> Any:
    return F.swapaxes(x, -1, -2)


def _eye(like: Any, n: int) -> Any:
    return _xp_of_any(like).eye(n, dtype=bool)


def _check(name: str, A: Tensor, square: bool = True) -> Any:
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {a.shape[-2]} by "
            f"{a.shape[-1]} matrices"
        )
    if not _is_float(a):
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as input. Got {_dname(a.dtype)}"
        )
    return a


def _batch_prefix(a: Any, b: int) -> str:
    return f"(Batch element {b}): " if a.ndim > 2 else ""


def _first_zero_pivot(m: Any) -> int:
    """1-based index of LU's first zero pivot (what LAPACK's getrf reports)."""
    u = np.array(m, dtype=np.float64)
    n = u.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        u[[k, p]] = u[[p, k]]
        u[k + 1 :] -= np.outer(u[k + 1 :, k] / u[k, k], u[k])
    return n


def _singular(name: str, a: Any) -> LinAlgError:
    flat = np.asarray(a).reshape((-1, *a.shape[-2:]))
    for b, m in enumerate(flat):
        if np.linalg.matrix_rank(m) < m.shape[0]:
            return LinAlgError(
                f"{name}: {_batch_prefix(a, b)}The diagonal element {_first_zero_pivot(m)} is "
                "zero, the inversion could not be completed because the input matrix is singular."
            )
    return LinAlgError(f"{name}: the input matrix is singular.")


def _record_multi(
    cls: type, outs: list[Tensor], inputs: tuple, saved: tuple, args: Any = None
) -> None:
    """One node for several outputs: output i gets ``_out_nr = i`` (saved outputs are Tensors)."""
    node = record(cls, outs[0], inputs, saved=saved, args=args)
    node.metadata = [(o._data.shape, o._data.dtype) for o in outs]
    for i, o in enumerate(outs[1:], 1):
        o._rg = True
        o.grad_fn = node
        o._out_nr = i


def _diag_embed(F: Any, v: Any) -> Any:
    """A batch of diagonal matrices from the last axis of `v`."""
    return F.where(_eye(v, v.shape[-1]), F.expand_dims(v, -2), 0.0)


# --------------------------------------------------------------------------- inverse, det, solve
class LinalgInvExBackward0(Node):
    """d(A^-1) = -A^-1 dA A^-1, so gA = -Y^T g Y^T with Y = A^-1."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, y: Any) -> tuple:
        yt = _mT(F, y)
        return (-F.matmul(F.matmul(yt, g), yt),)


def inv(A: Tensor, *, out: Any = None) -> Tensor:
    """Inverse of a (batch of) square matrices; singular input raises LinAlgError."""
    a = _check("linalg.inv", A)
    xp = _xp(a)
    try:
        r = wrap(xp.linalg.inv(a))
    except np.linalg.LinAlgError:
        raise _singular("linalg.inv", a) from None
    if gm.enabled and A._rg:
        record(LinalgInvExBackward0, r, (A,), saved=(r,))
    return r if out is None else _out(out, r)


def _cofactor(F: Any, A: Any, d: Any) -> Any:
    """det(A) A^-T, also for singular A (arrays): det(U) det(V^T) U diag(prod_{j!=i} s_j) V^T."""
    graph = isinstance(A, Tensor)
    xp = _xp_of_any(A)
    if bool(xp.all((d._data if graph else d) != 0)):
        return F.expand_dims(F.expand_dims(d, -1), -1) * _mT(F, F.linalg.inv(A))
    # singular: through the SVD (differentiable again under create_graph, as torch)
    u, s, vh = svd(A) if graph else xp.linalg.svd(A)
    others = _prod_others(F, s, s.ndim - 1)
    ua, va = (u._data, vh._data) if graph else (u, vh)
    sign = _k(d, (xp.linalg.det(ua) * xp.linalg.det(va))[..., None, None])
    return sign * F.matmul(u * F.expand_dims(others, -2), vh)


class LinalgDetBackward0(Node):
    """d det(A) / dA = cofactor(A) = det(A) A^-T."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, A: Any, d: Any) -> tuple:
        return (F.expand_dims(F.expand_dims(g, -1), -1) * _cofactor(F, A, d),)


def det(A: Tensor, *, out: Any = None) -> Tensor:
    """Determinant of a (batch of) square matrices."""
    a = _check("linalg.det", A)
    r = wrap(_xp(a).linalg.det(a))
    if gm.enabled and A._rg:
        record(LinalgDetBackward0, r, (A,), saved=(A, r))
    return r if out is None else _out(out, r)


class LinalgSlogdetBackward0(Node):
    """d log|det A| / dA = A^-T (the sign of a real matrix is locally constant)."""

    __slots__ = ()
    nout = 2
    materialize_grads = False

    def backward(self, F: Any, g: Any, A: Any) -> tuple:
        gl = g[1]
        if gl is None:
            return (F.zeros_like(A),)
        return (F.expand_dims(F.expand_dims(gl, -1), -1) * _mT(F, F.linalg.inv(A)),)


def slogdet(A: Tensor, *, out: Any = None) -> Any:
    """(sign, log|det A|) of a (batch of) square matrices."""
    a = _check("linalg.slogdet", A)
    sign, logabs = _xp(a).linalg.slogdet(a)
    s, r = wrap(sign), wrap(logabs)
    if gm.enabled and A._rg:
        _record_multi(LinalgSlogdetBackward0, [s, r], (A,), saved=(A,))
    return _slogdet_t(s, r)


class LinalgSolveExBackward0(Node):
    """X = A^-1 B: gB = A^-T g, gA = -gB X^T."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, A: Any, X: Any) -> tuple:
        gb = F.linalg.solve(_mT(F, A), g)
        ga = None if self.edges[0] is None else -F.matmul(gb, _mT(F, X))
        return ga, gb


def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Any = None) -> Tensor:
    """The solution X of A X = B (X A = B with left=False); B may be a (batch of) vector(s)."""
    if not left:
        return solve(A.mT, B.mT).mT
    a, b = _check("linalg.solve", A), B._data
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    Bm = B.unsqueeze(-1) if vec else B
    bm = Bm._data
    if a.shape[-1] != bm.shape[-2]:
        raise RuntimeError(
            "linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({a.shape[-2]}x{a.shape[-1]} and {bm.shape[-2]}x{bm.shape[-1]})"
        )
    dt = dtypes.result_type(A, B).np
    xp = _xp(a)
    try:
        x = xp.linalg.solve(a.astype(dt, copy=False), bm.astype(dt, copy=False))
    except np.linalg.LinAlgError:
        raise LinAlgError(
            "torch.linalg.solve: The solver failed because the input matrix is singular."
        ) from None
    r = wrap(x)
    if gm.enabled and (A._rg or Bm._rg):
        record(LinalgSolveExBackward0, r, (A, Bm), saved=(A, r))
    r = r.squeeze(-1) if vec else r
    return r if out is None else _out(out, r)


# --------------------------------------------------------------------------- factorizations
class LinalgCholeskyExBackward0(Node):
    """torch's cholesky_backward: gA = sym(L^-T Phi(L^T gL) L^-1), Phi = tril with half diag."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, L: Any) -> tuple:
        if self.args:  # upper: A = U^T U with U = L^T
            L, g = _mT(F, L), _mT(F, g)
        n = L.shape[-1]
        xp = _xp_of_any(L)
        phi_mask = xp.tril(xp.ones((n, n))) - 0.5 * xp.eye(n)
        linv = F.linalg.inv(L)
        dt = L._data.dtype if isinstance(L, Tensor) else L.dtype
        phi = F.matmul(_mT(F, L), g) * _k(g, phi_mask.astype(dt))
        ga = F.matmul(F.matmul(_mT(F, linv), phi), linv)
        return (0.5 * (ga + _mT(F, ga)),)


def cholesky(A: Tensor, *, upper: bool = False, out: Any = None) -> Tensor:
    """L with A = L L^T (lower), or U = L^T with upper=True; reads A's lower triangle."""
    a = _check("linalg.cholesky", A)
    xp = _xp(a)
    try:
        L = xp.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise _not_pd(a) from None
    r = wrap(xp.swapaxes(L, -1, -2).copy() if upper else L)
    if gm.enabled and A._rg:
        record(LinalgCholeskyExBackward0, r, (A,), saved=(r,), args=upper)
    return r if out is None else _out(out, r)


def _not_pd(a: Any) -> LinAlgError:
    flat = np.asarray(a).reshape((-1, *a.shape[-2:]))
    for b, m in enumerate(flat):
        for k in range(1, m.shape[0] + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                return LinAlgError(
                    f"linalg.cholesky: {_batch_prefix(a, b)}The factorization could not be "
                    "completed because the input is not positive-definite (the leading minor of "
                    f"order {k} is not positive-definite)."
                )
    return LinAlgError("linalg.cholesky: the input is not positive-definite.")


class LinalgQrBackward0(Node):
    """m >= n: gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q (torch's formula)."""

    __slots__ = ()
    nout = 2
    materialize_grads = False

    def backward(self, F: Any, g: Any, Q: Any, R: Any) -> tuple:
        gq, gr = g
        m, n = Q.shape[-2], R.shape[-1]
        if m < n or Q.shape[-1] != R.shape[-2] or R.shape[-2] != n:
            raise NotImplementedError(
                "The derivative of linalg.qr is only implemented when m >= n (mode='reduced', "
                "or a square input)"
            )
        xp = _xp_of_any(R)
        term = 0.0
        if gr is not None:
            term = F.matmul(R, _mT(F, gr))
        if gq is not None:
            term = term - F.matmul(_mT(F, gq), Q)
        dt = R._data.dtype if isinstance(R, Tensor) else R.dtype
        low = _k(gq if gq is not None else gr, xp.tril(xp.ones((n, n), dt)))
        strict = _k(gq if gq is not None else gr, xp.tril(xp.ones((n, n), dt), -1))
        # copyltu(M) = tril(M) + tril(M, -1)^T
        sym = term * low + _mT(F, term * strict)
        rhs = F.matmul(Q, sym) if gq is None else gq + F.matmul(Q, sym)
        return (F.matmul(rhs, _mT(F, F.linalg.inv(R))),)


def qr(A: Tensor, mode: str = "reduced", *, out: Any = None) -> Any:
    """A = Q R with orthonormal Q and upper-triangular R; mode 'reduced', 'complete' or 'r'."""
    a = _check("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
            "'r', or 'complete'"
        )
    xp = _xp(a)
    q, r_ = xp.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    Q = wrap(q if mode != "r" else xp.zeros((0,), a.dtype))
    R = wrap(r_)
    if gm.enabled and A._rg and mode != "r":
        _record_multi(LinalgQrBackward0, [Q, R], (A,), saved=(Q, R))
    return _qr_t(Q, R)


class LinalgSvdBackward0(Node):
    """torch's svd_backward for real inputs (gU, gS, gVh may each be missing)."""

    __slots__ = ()
    nout = 3
    materialize_grads = False

    def backward(self, F: Any, g: Any, U: Any, S: Any, Vh: Any) -> tuple:
        gu, gs, gvh = g
        m, n = U.shape[-2], Vh.shape[-1]
        k = min(m, n)
        if U.shape[-1] != k:  # full_matrices: only the first k singular vectors matter
            U, Vh = _first(F, U, k, -1), _first(F, Vh, k, -2)
            gu = None if gu is None else _first(F, gu, k, -1)
            gvh = None if gvh is None else _first(F, gvh, k, -2)
        if gu is None and gvh is None:  # svdvals: U diag(gS) Vh
            return (F.matmul(U * F.expand_dims(gs, -2), Vh),)
        s_row, s_col = F.expand_dims(S, -2), F.expand_dims(S, -1)
        s2 = S * S
        e = F.where(_eye(S, k), 1.0, F.expand_dims(s2, -2) - F.expand_dims(s2, -1))
        ut = _mT(F, U)
        if gu is not None:
            uhgu = F.matmul(ut, gu)
            uhgu = uhgu - _mT(F, uhgu)
        if gvh is not None:
            vhgv = F.matmul(Vh, _mT(F, gvh))
            vhgv = vhgv - _mT(F, vhgv)
        if gu is not None and gvh is not None:
            ret = (uhgu * s_row + s_col * vhgv) / e
        elif gu is not None:
            ret = uhgu * (s_row / e)
        else:
            ret = s_col * (vhgv / e)
        if gs is not None:
            ret = ret + _diag_embed(F, gs)
        if m > k and gu is not None:
            ga = F.matmul(U, ret)
            gus = gu / s_row
            ga = ga + gus - F.matmul(U, F.matmul(ut, gus))
            return (F.matmul(ga, Vh),)
        if n > k and gvh is not None:
            ga = F.matmul(ret, Vh)
            sgvh = gvh / s_col
            ga = ga + sgvh - F.matmul(F.matmul(sgvh, _mT(F, Vh)), Vh)
            return (F.matmul(U, ga),)
        return (F.matmul(U, F.matmul(ret, Vh)),)


def _first(F: Any, x: Any, k: int, axis: int) -> Any:
    ax = axis % x.ndim
    shp = [1] * x.ndim
    shp[ax] = k
    return F.gather_along(x, _xp_of_any(x).arange(k).reshape(shp), ax)


def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None, out: Any = None) -> Any:
    """A = U diag(S) Vh, singular values descending; all three outputs are differentiable."""
    a = _check("linalg.svd", A, square=False)
    u, s, vh = _xp(a).linalg.svd(a, full_matrices=full_matrices)
    U, S, Vh = wrap(u), wrap(s), wrap(vh)
    if gm.enabled and A._rg:
        _record_multi(LinalgSvdBackward0, [U, S, Vh], (A,), saved=(U, S, Vh))
    return _svd_t(U, S, Vh)


def svdvals(A: Tensor, *, driver: Any = None, out: Any = None) -> Tensor:
    """Singular values, descending (gradient U diag(g) Vh, differentiable again)."""
    if gm.enabled and A._rg:
        return svd(A, full_matrices=False).S
    a = _check("linalg.svdvals", A, square=False)
    return wrap(_xp(a).linalg.svd(a, compute_uv=False))


class LinalgEighBackward0(Node):
    """gA = V (diag(gL) + skew(V^T gV) / 2 / E) V^T with E_ij = L_j - L_i (1 on the diagonal)."""

    __slots__ = ()
    nout = 2
    materialize_grads = False

    def backward(self, F: Any, g: Any, L: Any, V: Any) -> tuple:
        gl, gv = g
        vt = _mT(F, V)
        if gv is None:
            return (F.matmul(V * F.expand_dims(gl, -2), vt),)
        n = L.shape[-1]
        vhgv = F.matmul(vt, gv)
        vhgv = 0.5 * (vhgv - _mT(F, vhgv))
        e = F.where(_eye(L, n), 1.0, F.expand_dims(L, -2) - F.expand_dims(L, -1))
        ret = vhgv / e
        if gl is not None:
            ret = ret + _diag_embed(F, gl)
        return (F.matmul(V, F.matmul(ret, vt)),)


def eigh(A: Tensor, UPLO: str = "L", *, out: Any = None) -> Any:
    """Eigen-decomposition of a symmetric matrix: (ascending eigenvalues, eigenvectors)."""
    a = _check("linalg.eigh", A)
    w, v = _xp(a).linalg.eigh(a, UPLO=UPLO)
    L, V = wrap(w), wrap(v)
    if gm.enabled and A._rg:
        _record_multi(LinalgEighBackward0, [L, V], (A,), saved=(L, V))
    return _eigh_t(L, V)


def eigvalsh(A: Tensor, UPLO: str = "L", *, out: Any = None) -> Tensor:
    """Eigenvalues of a symmetric matrix, ascending."""
    if gm.enabled and A._rg:
        return eigh(A, UPLO).eigenvalues
    a = _check("linalg.eigvalsh", A)
    return wrap(_xp(a).linalg.eigvalsh(a, UPLO=UPLO))


def multi_dot(tensors: Any, *, out: Any = None) -> Tensor:
    """A_1 @ A_2 @ ... (first/last may be vectors), left to right."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    r = ts[0]
    for t in ts[1:]:
        r = matmul(r, t)
    return r if out is None else _out(out, r)


# --------------------------------------------------------------------------- norms
def matrix_norm(
    A: Tensor,
    ord: Any = "fro",
    dim: Any = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out: Any = None,
) -> Tensor:
    """Matrix norm over the two dims `dim`: 'fro', 'nuc', +-1, +-2, +-inf (as torch)."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(
            f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}"
        )
    d0, d1 = _wrap(dims[0], a.ndim), _wrap(dims[1], a.ndim)
    if d0 == d1:
        raise RuntimeError(
            f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, {dims[1]})"
        )
    if not _is_float(a):
        raise RuntimeError(
            "linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
            f"{_dname(a.dtype)}"
        )
    x = A if dtype is None else A.to(dtypes.as_dtype(dtype))
    if ord == "fro":
        r = vector_norm(x, 2, (d0, d1), keepdim)
    elif ord in ("nuc", 2, -2):
        s = svdvals(x.movedim((d0, d1), (-2, -1)))
        r = s.sum(-1) if ord == "nuc" else amax(s, -1) if ord == 2 else amin(s, -1)
        if keepdim:
            r = r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
    elif not isinstance(ord, str) and ord in (1, -1, math.inf, -math.inf):
        # 1: the largest column sum (sum over rows d0, then max over d1); inf: rows and columns
        # swap roles; -1 and -inf take the minimum
        inner, outer = (d0, d1) if abs(ord) == 1 else (d1, d0)
        s = x.abs().sum(inner, keepdim=True)
        r = amax(s, outer, keepdim=True) if ord > 0 else amin(s, outer, keepdim=True)
        if not keepdim:
            r = r.squeeze((d0, d1))
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return r if out is None else _out(out, r)


def norm(
    A: Tensor,
    ord: Any = None,
    dim: Any = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out: Any = None,
) -> Tensor:
    """Vector norm (1 dim, or all when ord is None) or matrix norm (2 dims, or a 2-D input)."""
    dims = None if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(
            f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}"
        )
    if dims is None and ord is not None and A.ndim not in (1, 2):
        raise RuntimeError(
            "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
            f"{A.ndim}D."
        )
    if isinstance(ord, str) or (ord is not None and (len(dims) == 2 if dims else A.ndim == 2)):
        r = matrix_norm(A, ord, dims if dims is not None else (0, 1), keepdim, dtype=dtype)
    else:
        r = vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    return r if out is None else _out(out, r)


def _out(out: Tensor, r: Tensor) -> Tensor:
    from ember.ops.elementwise import _out as write

    return write(out, r)


# the differentiable counterparts of np.linalg for backward rules under create_graph
tensor_np.register("linalg", SimpleNamespace(inv=inv, solve=solve, det=det))
