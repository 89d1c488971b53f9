"""OpSpecs for ember/ops/linalg.py."""

from __future__ import annotations

import numpy as np

from tests.opdb.spec import OpSpec

SPECS = [
    OpSpec("matmul_2d", lambda T, a, b: a @ b, np.matmul, ((3, 4), (4, 2))),
    OpSpec("matmul_batched", lambda T, a, b: a @ b, np.matmul, ((2, 3, 4), (2, 4, 5))),
    OpSpec("matmul_bcast", lambda T, a, b: a @ b, np.matmul, ((2, 1, 3, 4), (3, 4, 2))),
    OpSpec("matmul_mat_by_2d", lambda T, a, b: a @ b, np.matmul, ((2, 3, 4), (4, 2))),
    OpSpec("matmul_vec_vec", lambda T, a, b: a @ b, np.matmul, ((4,), (4,))),
    OpSpec("matmul_mat_vec", lambda T, a, b: a @ b, np.matmul, ((3, 4), (4,))),
    OpSpec("matmul_vec_mat", lambda T, a, b: a @ b, np.matmul, ((4,), (4, 3))),
    OpSpec("matmul_batch_vec", lambda T, a, b: a @ b, np.matmul, ((2, 3, 4), (4,))),
    OpSpec("matmul_vec_batch", lambda T, a, b: T.matmul(a, b), np.matmul, ((4,), (2, 4, 3))),
    OpSpec("mm", lambda T, a, b: T.mm(a, b), np.matmul, ((3, 4), (4, 2))),
    OpSpec("bmm", lambda T, a, b: T.bmm(a, b), np.matmul, ((2, 3, 4), (2, 4, 2))),
    OpSpec("dot", lambda T, a, b: T.dot(a, b), np.dot, ((5,), (5,))),
    OpSpec("mv", lambda T, a, b: T.mv(a, b), np.matmul, ((3, 5), (5,))),
    OpSpec("outer", lambda T, a, b: T.outer(a, b), np.outer, ((3,), (4,))),
    OpSpec("inner", lambda T, a, b: T.inner(a, b), np.inner, ((2, 4), (3, 4))),
    OpSpec(
        "addmm",
        lambda T, c, a, b: T.addmm(c, a, b, beta=0.5, alpha=2.0),
        lambda c, a, b: 0.5 * c + 2 * a @ b,
        ((4,), (3, 5), (5, 4)),
    ),
    OpSpec(
        "addmv",
        lambda T, c, a, b: T.addmv(c, a, b),
        lambda c, a, b: c + a @ b,
        ((3,), (3, 5), (5,)),
    ),
    OpSpec(
        "baddbmm",
        lambda T, c, a, b: T.baddbmm(c, a, b, alpha=0.5),
        lambda c, a, b: c + 0.5 * a @ b,
        ((2, 3, 2), (2, 3, 4), (2, 4, 2)),
    ),
    OpSpec(
        "addbmm",
        lambda T, c, a, b: T.addbmm(c, a, b),
        lambda c, a, b: c + (a @ b).sum(0),
        ((3, 2), (2, 3, 4), (2, 4, 2)),
    ),
    OpSpec(
        "addr",
        lambda T, c, a, b: T.addr(c, a, b),
        lambda c, a, b: c + np.outer(a, b),
        ((3, 4), (3,), (4,)),
    ),
    OpSpec(
        "einsum_bmm",
        lambda T, a, b: T.einsum("bij,bjk->bik", a, b),
        lambda a, b: np.einsum("bij,bjk->bik", a, b),
        ((2, 3, 4), (2, 4, 5)),
    ),
    OpSpec(
        "einsum_sum_all",
        lambda T, a: T.einsum("ij->", a),
        lambda a: np.einsum("ij->", a),
        ((3, 4),),
    ),
    OpSpec("einsum_outer", lambda T, a, b: T.einsum("i,j->ij", a, b), np.outer, ((3,), (4,))),
    OpSpec(
        "einsum_ellipsis",
        lambda T, a, b: T.einsum("...ij,...jk", a, b),
        lambda a, b: np.einsum("...ij,...jk", a, b),
        ((2, 3, 4), (4, 5)),
    ),
    OpSpec(
        "einsum_three",
        lambda T, a, b, c: T.einsum("ij,jk,kl->il", a, b, c),
        lambda a, b, c: a @ b @ c,
        ((2, 3), (3, 4), (4, 5)),
    ),
    OpSpec(
        "einsum_rowdot",
        lambda T, a, b: T.einsum("ij,ij->i", a, b),
        lambda a, b: (a * b).sum(1),
        ((3, 4), (3, 4)),
    ),
]
