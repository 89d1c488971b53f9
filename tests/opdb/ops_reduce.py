"""OpSpecs for ember/ops/reduce.py and the norms of ember/linalg.py."""

from __future__ import annotations

import numpy as np

from tests.opdb.spec import OpSpec


def _lower_median(a, axis=None):
    if axis is None:
        s = np.sort(a.reshape(-1))
        return s[(s.size - 1) // 2]
    s = np.sort(a, axis=axis)
    return np.take(s, (a.shape[axis] - 1) // 2, axis=axis)


def _vnorm(a, p, axis=None, keepdims=False):
    if p == np.inf:
        return np.abs(a).max(axis=axis, keepdims=keepdims)
    if p == -np.inf:
        return np.abs(a).min(axis=axis, keepdims=keepdims)
    if p == 0:
        return (a != 0).sum(axis=axis, keepdims=keepdims).astype(a.dtype)
    return (np.abs(a) ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


def _ties2(rng):
    """Rows [lo, lo, hi, hi] (shuffled), all lo/hi distinct: extremes tie exactly twice."""
    vals = np.sort(rng.permutation(6).reshape(3, 2) / 2 - 1, axis=1)
    return [np.stack([rng.permutation(r) for r in np.repeat(vals, 2, axis=1)])]


def _zeros(rng):
    x = rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1, 1], (3, 4))
    x[0, 1] = 0.0  # one zero in a row
    x[2, 0] = x[2, 2] = 0.0  # two zeros in a row
    return [x]


def _square(rng):
    return [rng.standard_normal((3, 3)) + 2 * np.eye(3)]


def _spd(rng):
    m = rng.standard_normal((2, 3, 3))
    return [m @ m.transpose(0, 2, 1) + 3 * np.eye(3)]


def _sym(a):
    return (a + a.mT) / 2


_IDX = np.array([[0, 2, 2], [1, 0, 3], [3, 3, 1]])


def _scatter_ref(g, n=5):
    out = np.zeros((g.shape[0], n), g.dtype)
    np.add.at(out, (np.arange(g.shape[0])[:, None], _IDX), g)
    return out


def _nans(rng):
    x = rng.uniform(-2, 2, (3, 4))
    x[0, 1] = x[2, 3] = np.nan
    return [x]


def _mode_input(rng):
    return [
        np.array([[1.0, 2.0, 2.0, 0.5, 2.0], [3.0, 1.0, 3.0, 1.0, 0.25], [0.1, 0.2, 0.3, 0.4, 0.5]])
    ]


SPECS = [
    # sum / mean / nansum / nanmean
    OpSpec("sum_all", lambda T, a: a.sum(), np.sum),
    OpSpec("sum_dim", lambda T, a: a.sum(1), lambda a: a.sum(1), ((2, 3, 4),)),
    OpSpec(
        "sum_neg_dim_keepdim",
        lambda T, a: a.sum(-1, keepdim=True),
        lambda a: a.sum(-1, keepdims=True),
        ((2, 3, 4),),
    ),
    OpSpec("sum_dims", lambda T, a: T.sum(a, (0, 2)), lambda a: a.sum((0, 2)), ((2, 3, 4),)),
    OpSpec("sum_0d", lambda T, a: a.sum(0), lambda a: a, ((),)),
    OpSpec("sum_empty", lambda T, a: a.sum(0), lambda a: a.sum(0), ((0, 3),)),
    OpSpec(
        "sum_dtype", lambda T, a: a.sum(1, dtype=T.float64), lambda a: a.astype(np.float64).sum(1)
    ),
    OpSpec("mean_all", lambda T, a: a.mean(), np.mean),
    OpSpec(
        "mean_dims_keepdim",
        lambda T, a: a.mean((0, -1), keepdim=True),
        lambda a: a.mean((0, 2), keepdims=True),
        ((2, 3, 4),),
    ),
    OpSpec("nansum", lambda T, a: T.nansum(a, 1), lambda a: np.nansum(a, 1), make=_nans),
    OpSpec("nansum_all", lambda T, a: a.nansum(), np.nansum, make=_nans),
    OpSpec(
        "nanmean",
        lambda T, a: T.nanmean(a, 1, keepdim=True),
        lambda a: np.nanmean(a, 1, keepdims=True),
        make=_nans,
    ),
    OpSpec("nanmean_all", lambda T, a: a.nanmean(), np.nanmean, make=_nans),
    # prod
    OpSpec("prod_all", lambda T, a: a.prod(), np.prod, low=0.5, high=1.5),
    OpSpec(
        "prod_dim", lambda T, a: a.prod(1), lambda a: a.prod(1), ((2, 3, 4),), low=0.5, high=1.5
    ),
    OpSpec(
        "prod_neg_dim_keepdim",
        lambda T, a: T.prod(a, -1, keepdim=True),
        lambda a: a.prod(-1, keepdims=True),
        ((2, 3, 4),),
    ),
    OpSpec("prod_0d", lambda T, a: a.prod(0), lambda a: a, ((),)),
    OpSpec(
        "prod_dtype",
        lambda T, a: a.prod(0, dtype=T.float64),
        lambda a: a.astype(np.float64).prod(0),
    ),
    OpSpec("prod_zeros_dim", lambda T, a: a.prod(1), lambda a: a.prod(1), make=_zeros),
    OpSpec(
        "prod_zeros_dim0",
        lambda T, a: a.prod(0, keepdim=True),
        lambda a: a.prod(0, keepdims=True),
        make=_zeros,
    ),
    OpSpec(
        "prod_zeros_all_one",
        lambda T, a: a.prod(),
        np.prod,
        make=lambda rng: [np.array([[1.5, 0.0, -2.0], [0.5, 3.0, 1.25]])],
    ),
    OpSpec("prod_zeros_all_two", lambda T, a: a.prod(), np.prod, make=_zeros),
    # max / min / amax / amin / aminmax
    OpSpec("max_all", lambda T, a: a.max(), np.max, distinct=True),
    OpSpec("max_all_ties", lambda T, a: a.max(), np.max, make=_ties2, gradgrad=False),
    OpSpec("min_all", lambda T, a: T.min(a), np.min, distinct=True),
    OpSpec(
        "max_dim",
        lambda T, a: a.max(1),
        lambda a: (a.max(1), a.argmax(1)),
        ((2, 3, 4),),
        distinct=True,
    ),
    OpSpec(
        "max_dim_keepdim",
        lambda T, a: T.max(a, -1, keepdim=True),
        lambda a: (a.max(-1, keepdims=True), a.argmax(-1)[..., None]),
        distinct=True,
    ),
    OpSpec("max_dim_0d", lambda T, a: a.max(0), lambda a: (a, np.array(0)), ((),)),
    OpSpec("min_dim", lambda T, a: a.min(0), lambda a: (a.min(0), a.argmin(0)), distinct=True),
    OpSpec("max_binary", lambda T, a, b: T.max(a, b), np.maximum, ((3, 4), (4,)), distinct=True),
    OpSpec("min_binary", lambda T, a, b: a.min(b), np.minimum, ((3, 4), (3, 4)), distinct=True),
    OpSpec(
        "amax_dims",
        lambda T, a: a.amax((0, 2)),
        lambda a: a.max((0, 2)),
        ((2, 3, 4),),
        distinct=True,
    ),
    OpSpec("amax_all", lambda T, a: T.amax(a), np.max, distinct=True),
    OpSpec("amax_ties", lambda T, a: a.amax(1), lambda a: a.max(1), make=_ties2, gradgrad=False),
    OpSpec(
        "amin_ties_keepdim",
        lambda T, a: a.amin(-1, keepdim=True),
        lambda a: a.min(-1, keepdims=True),
        make=_ties2,
        gradgrad=False,
    ),
    OpSpec(
        "amin_neg_dim", lambda T, a: T.amin(a, -2), lambda a: a.min(-2), ((2, 3, 4),), distinct=True
    ),
    OpSpec("amax_0d", lambda T, a: a.amax(), lambda a: a, ((),)),
    OpSpec(
        "aminmax", lambda T, a: T.aminmax(a, dim=1), lambda a: (a.min(1), a.max(1)), distinct=True
    ),
    OpSpec("aminmax_all", lambda T, a: a.aminmax(), lambda a: (a.min(), a.max()), distinct=True),
    # var / std
    OpSpec("var_all", lambda T, a: a.var(), lambda a: a.var(ddof=1)),
    OpSpec("var_dim", lambda T, a: T.var(a, 1), lambda a: a.var(1, ddof=1), ((2, 3, 4),)),
    OpSpec(
        "var_dims_keepdim",
        lambda T, a: a.var((0, -1), keepdim=True),
        lambda a: a.var((0, 2), ddof=1, keepdims=True),
        ((2, 3, 4),),
    ),
    OpSpec("var_correction0", lambda T, a: a.var(0, correction=0), lambda a: a.var(0)),
    OpSpec(
        "var_correction2", lambda T, a: T.var(a, dim=1, correction=2), lambda a: a.var(1, ddof=2)
    ),
    OpSpec(
        "var_unbiased_false",
        lambda T, a: T.var(a, 1, False, True),
        lambda a: a.var(1, keepdims=True),
    ),
    OpSpec("var_legacy_unbiased", lambda T, a: T.var(a, False), lambda a: a.var()),
    OpSpec("std_all", lambda T, a: a.std(), lambda a: a.std(ddof=1)),
    OpSpec("std_dim", lambda T, a: a.std(-1), lambda a: a.std(-1, ddof=1), ((2, 3, 4),)),
    OpSpec(
        "std_correction0_keepdim",
        lambda T, a: T.std(a, (0, 1), correction=0, keepdim=True),
        lambda a: a.std((0, 1), keepdims=True),
        ((2, 3, 4),),
    ),
    OpSpec("std_0d", lambda T, a: a.std(correction=0), lambda a: np.zeros_like(a), ((),)),
    OpSpec(
        "std_constant",
        lambda T, a: a.std(1),
        lambda a: a.std(1, ddof=1),
        make=lambda rng: [np.full((2, 3), 0.7)],
        gradgrad=False,
    ),
    OpSpec("var_mean", lambda T, a: T.var_mean(a, 1), lambda a: (a.var(1, ddof=1), a.mean(1))),
    OpSpec("var_mean_all", lambda T, a: T.var_mean(a, correction=0), lambda a: (a.var(), a.mean())),
    OpSpec(
        "std_mean",
        lambda T, a: T.std_mean(a, (0, 1), keepdim=True),
        lambda a: (a.std((0, 1), ddof=1, keepdims=True), a.mean((0, 1), keepdims=True)),
    ),
    # norms
    OpSpec("norm_fro", lambda T, a: a.norm(), lambda a: np.sqrt((a * a).sum())),
    OpSpec("norm_p2_dim", lambda T, a: a.norm(2, 1), lambda a: _vnorm(a, 2, 1), ((2, 3, 4),)),
    OpSpec(
        "norm_p1",
        lambda T, a: a.norm(p=1, dim=-1, keepdim=True),
        lambda a: _vnorm(a, 1, -1, True),
        kinks=(0.0,),
    ),
    OpSpec(
        "norm_inf",
        lambda T, a: T.norm(a, float("inf"), dim=0),
        lambda a: _vnorm(a, np.inf, 0),
        distinct=True,
        kinks=(0.0,),
    ),
    OpSpec(
        "norm_neg_inf",
        lambda T, a: a.norm(p=-float("inf")),
        lambda a: _vnorm(a, -np.inf),
        distinct=True,
        kinks=(0.0,),
    ),
    OpSpec("norm_p0", lambda T, a: a.norm(p=0, dim=1), lambda a: _vnorm(a, 0, 1)),
    OpSpec("norm_p3", lambda T, a: a.norm(p=3, dim=(0, 1)), lambda a: _vnorm(a, 3, (0, 1))),
    OpSpec("norm_p1_5", lambda T, a: a.norm(p=1.5), lambda a: _vnorm(a, 1.5), kinks=(0.0,)),
    OpSpec(
        "norm_p0_5",
        lambda T, a: a.norm(p=0.5, dim=1),
        lambda a: _vnorm(a, 0.5, 1),
        low=0.2,
        high=2.0,
    ),
    OpSpec(
        "norm_fro_dims",
        lambda T, a: a.norm("fro", dim=(1, 2)),
        lambda a: _vnorm(a, 2, (1, 2)),
        ((2, 3, 4),),
    ),
    OpSpec(
        "norm_dtype",
        lambda T, a: a.norm(dtype=T.float64),
        lambda a: _vnorm(a.astype(np.float64), 2),
    ),
    OpSpec(
        "norm_zero",
        lambda T, a: a.norm(dim=1),
        lambda a: _vnorm(a, 2, 1),
        make=lambda rng: [np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])],
        gradgrad=False,
    ),
    OpSpec("norm_0d", lambda T, a: a.norm(), np.abs, ((),), kinks=(0.0,)),
    OpSpec(
        "linalg_vector_norm",
        lambda T, a: T.linalg.vector_norm(a, 3, dim=(0, -1), keepdim=True),
        lambda a: _vnorm(a, 3, (0, 2), True),
        ((2, 3, 4),),
    ),
    OpSpec(
        "linalg_vector_norm_inf",
        lambda T, a: T.linalg.vector_norm(a, float("inf")),
        lambda a: _vnorm(a, np.inf),
        distinct=True,
        kinks=(0.0,),
    ),
    OpSpec(
        "linalg_matrix_norm_fro",
        lambda T, a: T.linalg.matrix_norm(a),
        lambda a: np.linalg.norm(a, "fro", axis=(-2, -1)),
        ((2, 3, 4),),
    ),
    OpSpec(
        "linalg_matrix_norm_1",
        lambda T, a: T.linalg.matrix_norm(a, 1),
        lambda a: np.linalg.norm(a, 1, axis=(-2, -1)),
        ((2, 3, 4),),
        distinct=True,
    ),
    OpSpec(
        "linalg_matrix_norm_inf",
        lambda T, a: T.linalg.matrix_norm(a, float("inf"), dim=(0, 1), keepdim=True),
        lambda a: np.linalg.norm(a, np.inf, axis=(0, 1), keepdims=True),
        distinct=True,
    ),
    OpSpec("linalg_norm_vec", lambda T, a: T.linalg.norm(a, 3), lambda a: _vnorm(a, 3), ((5,),)),
    OpSpec(
        "linalg_norm_default",
        lambda T, a: T.linalg.norm(a),
        lambda a: np.sqrt((a * a).sum()),
        ((2, 3, 4),),
    ),
    OpSpec(
        "linalg_norm_mat",
        lambda T, a: T.linalg.norm(a, -1),
        lambda a: np.linalg.norm(a, -1),
        distinct=True,
    ),
    # logsumexp
    OpSpec(
        "logsumexp",
        lambda T, a: a.logsumexp(1),
        lambda a: np.log(np.exp(a).sum(1)),
        ((2, 3, 4),),
        low=-5,
        high=5,
    ),
    OpSpec(
        "logsumexp_dims_keepdim",
        lambda T, a: T.logsumexp(a, (0, -1), keepdim=True),
        lambda a: np.log(np.exp(a).sum((0, 2), keepdims=True)),
        ((2, 3, 4),),
    ),
    OpSpec("logsumexp_0d", lambda T, a: T.logsumexp(a, 0), lambda a: a, ((),)),
    OpSpec(
        "logsumexp_large",
        lambda T, a: a.logsumexp(-1),
        lambda a: a.max(-1) + np.log(np.exp(a - a.max(-1, keepdims=True)).sum(-1)),
        low=500,
        high=505,
    ),
    # scans
    OpSpec("cumsum", lambda T, a: a.cumsum(1), lambda a: a.cumsum(1), ((2, 3, 4),)),
    OpSpec("cumsum_neg_dim", lambda T, a: T.cumsum(a, dim=-1), lambda a: a.cumsum(-1)),
    OpSpec("cumsum_0d", lambda T, a: a.cumsum(0), lambda a: a, ((),)),
    OpSpec(
        "cumsum_dtype",
        lambda T, a: a.cumsum(0, dtype=T.float64),
        lambda a: a.astype(np.float64).cumsum(0),
    ),
    OpSpec(
        "cumprod",
        lambda T, a: a.cumprod(1),
        lambda a: a.cumprod(1),
        ((2, 3, 4),),
        low=0.5,
        high=1.5,
    ),
    OpSpec("cumprod_neg", lambda T, a: T.cumprod(a, -1), lambda a: a.cumprod(-1), kinks=(0.0,)),
    OpSpec("cumprod_zeros", lambda T, a: a.cumprod(1), lambda a: a.cumprod(1), make=_zeros),
    OpSpec("cumprod_zeros_dim0", lambda T, a: a.cumprod(0), lambda a: a.cumprod(0), make=_zeros),
    OpSpec("cumprod_0d", lambda T, a: a.cumprod(0), lambda a: a, ((),)),
    OpSpec(
        "cummax",
        lambda T, a: a.cummax(1),
        lambda a: np.maximum.accumulate(a, 1),
        ((2, 3, 4),),
        distinct=True,
    ),
    OpSpec(
        "cummin", lambda T, a: T.cummin(a, 0), lambda a: np.minimum.accumulate(a, 0), distinct=True
    ),
    # sorting and selection
    OpSpec(
        "sort", lambda T, a: a.sort(), lambda a: (np.sort(a, -1), np.argsort(a, -1)), distinct=True
    ),
    OpSpec(
        "sort_dim0_desc",
        lambda T, a: T.sort(a, 0, descending=True),
        lambda a: (-np.sort(-a, 0), np.argsort(-a, 0)),
        ((3, 4, 2),),
        distinct=True,
    ),
    OpSpec(
        "sort_stable_kw",
        lambda T, a: T.sort(a, stable=True, dim=1),
        lambda a: np.sort(a, 1),
        distinct=True,
    ),
    OpSpec("sort_0d", lambda T, a: a.sort(), lambda a: (a, np.array(0)), ((),)),
    OpSpec("msort", lambda T, a: T.msort(a), lambda a: np.sort(a, 0), distinct=True),
    OpSpec(
        "argsort",
        lambda T, a: a.argsort(1, descending=True),
        lambda a: np.argsort(-a, 1),
        distinct=True,
        grad=False,
    ),
    OpSpec(
        "topk",
        lambda T, a: a.topk(2),
        lambda a: -np.sort(-a, -1)[..., :2],
        ((3, 5),),
        distinct=True,
    ),
    OpSpec(
        "topk_smallest_dim0",
        lambda T, a: T.topk(a, 3, dim=0, largest=False),
        lambda a: np.sort(a, 0)[:3],
        ((4, 3),),
        distinct=True,
    ),
    OpSpec(
        "topk_partition",
        lambda T, a: a.topk(2, -1),
        lambda a: -np.sort(-a, -1)[..., :2],
        ((2, 20),),
        distinct=True,
    ),
    OpSpec("topk_all", lambda T, a: a.topk(4), lambda a: -np.sort(-a, -1), distinct=True),
    OpSpec("kthvalue", lambda T, a: a.kthvalue(2), lambda a: np.sort(a, -1)[..., 1], distinct=True),
    OpSpec(
        "kthvalue_dim_keepdim",
        lambda T, a: T.kthvalue(a, 3, 0, True),
        lambda a: np.sort(a, 0)[2:3],
        ((4, 3),),
        distinct=True,
    ),
    OpSpec("median_all", lambda T, a: a.median(), _lower_median, distinct=True),
    OpSpec(
        "median_dim",
        lambda T, a: a.median(1),
        lambda a: _lower_median(a, 1),
        ((3, 4),),
        distinct=True,
    ),
    OpSpec(
        "median_dim_keepdim",
        lambda T, a: T.median(a, 0, keepdim=True),
        lambda a: _lower_median(a, 0)[None],
        ((5, 2),),
        distinct=True,
    ),
    OpSpec(
        "nanmedian_dim",
        lambda T, a: a.nanmedian(1),
        lambda a: np.array([_lower_median(r[~np.isnan(r)]) for r in a]),
        make=_nans,
    ),
    OpSpec(
        "nanmedian_all",
        lambda T, a: T.nanmedian(a),
        lambda a: _lower_median(a[~np.isnan(a)]),
        make=_nans,
    ),
    OpSpec(
        "mode",
        lambda T, a: a.mode(),
        lambda a: np.array([2.0, 1.0, 0.1]),
        make=_mode_input,
        grad=False,
    ),
    OpSpec(
        "mode_dim0",
        lambda T, a: T.mode(a, 0, keepdim=True),
        None,
        make=lambda rng: [np.array([[1.0, 2.0], [1.0, 3.0], [0.5, 3.0]])],
        grad=False,
    ),
    OpSpec("mode_distinct", lambda T, a: a.mode(1), lambda a: a.min(1), distinct=True),
    # the backward-namespace helpers gather_along / scatter_along / flip_along (ember only)
    OpSpec(
        "reduce_gather_along",
        lambda T, a: T.ops.reduce._gather_t(a, _IDX, 1),
        lambda a: np.take_along_axis(a, _IDX, 1),
        ((3, 4),),
        torch=False,
    ),
    OpSpec(
        "reduce_scatter_along",
        lambda T, a: T.ops.reduce._scatter_t(a, _IDX, 1, 5),
        _scatter_ref,
        ((3, 3),),
        torch=False,
    ),
    OpSpec(
        "reduce_flip_along",
        lambda T, a: T.ops.reduce._flip_t(a, 0),
        lambda a: a[::-1],
        ((3, 4),),
        torch=False,
    ),
    # diff
    OpSpec("diff", lambda T, a: a.diff(), lambda a: np.diff(a), ((3, 4),)),
    OpSpec("diff_n2_dim0", lambda T, a: T.diff(a, 2, 0), lambda a: np.diff(a, 2, 0), ((4, 3),)),
    OpSpec(
        "diff_prepend_append",
        lambda T, a, p, q: T.diff(a, dim=1, prepend=p, append=q),
        lambda a, p, q: np.diff(np.concatenate([p, a, q], 1), axis=1),
        ((3, 4), (3, 1), (3, 2)),
    ),
    # ember.linalg (solvers and factorizations; sign-invariant views of singular/eigen vectors)
    OpSpec("linalg_inv", lambda T, a: T.linalg.inv(a), np.linalg.inv, make=_square),
    OpSpec(
        "linalg_inv_batch",
        lambda T, a: T.linalg.inv(a),
        np.linalg.inv,
        make=lambda rng: [rng.standard_normal((2, 3, 3)) + 2 * np.eye(3)],
    ),
    OpSpec("linalg_det", lambda T, a: T.linalg.det(a), np.linalg.det, make=_square),
    # torch's float32 det of this matrix is not exactly 0 (its gradient differs); float64 is
    # compared with torch in test_reduce.py
    OpSpec(
        "linalg_det_singular",
        lambda T, a: T.linalg.det(a),
        np.linalg.det,
        make=lambda rng: [np.array([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.0, 1.0, 1.5]])],
        torch=False,
    ),
    OpSpec(
        "linalg_slogdet",
        lambda T, a: T.linalg.slogdet(a),
        lambda a: np.linalg.slogdet(a),
        make=_square,
    ),
    OpSpec(
        "linalg_solve",
        lambda T, a, b: T.linalg.solve(a, b),
        np.linalg.solve,
        make=lambda rng: _square(rng) + [rng.standard_normal((2, 3, 2))],
    ),
    OpSpec(
        "linalg_solve_vec",
        lambda T, a, b: T.linalg.solve(a, b),
        lambda a, b: np.linalg.solve(a, b),
        make=lambda rng: _square(rng) + [rng.standard_normal(3)],
    ),
    OpSpec(
        "linalg_solve_left_false",
        lambda T, a, b: T.linalg.solve(a, b, left=False),
        lambda a, b: np.linalg.solve(a.T, b.T).T,
        make=lambda rng: _square(rng) + [rng.standard_normal((2, 3))],
    ),
    OpSpec(
        "linalg_cholesky",
        lambda T, a: T.linalg.cholesky(_sym(a)),
        lambda a: np.linalg.cholesky(_sym(a)),
        make=_spd,
    ),
    OpSpec(
        "linalg_cholesky_upper",
        lambda T, a: T.linalg.cholesky(_sym(a), upper=True),
        lambda a: np.linalg.cholesky(_sym(a)).swapaxes(-1, -2),
        make=_spd,
    ),
    OpSpec("linalg_qr", lambda T, a: T.linalg.qr(a), lambda a: np.linalg.qr(a), ((4, 3),)),
    OpSpec(
        "linalg_svdvals",
        lambda T, a: T.linalg.svdvals(a),
        lambda a: np.linalg.svd(a, compute_uv=False),
        ((2, 4, 3),),
    ),
    OpSpec(
        "linalg_svd",
        lambda T, a: (lambda r: (r.U @ r.Vh, r.S, r.U * r.U))(T.linalg.svd(a, full_matrices=False)),
        None,
        ((3, 5),),
    ),
    OpSpec(
        "linalg_eigh",
        lambda T, a: (lambda r: (r.eigenvalues, r.eigenvectors * r.eigenvectors))(
            T.linalg.eigh(_sym(a))
        ),
        None,
        ((4, 4),),
    ),
    OpSpec(
        "linalg_eigvalsh",
        lambda T, a: T.linalg.eigvalsh(_sym(a)),
        lambda a: np.linalg.eigvalsh(_sym(a)),
        ((4, 4),),
    ),
    OpSpec(
        "linalg_matrix_norm_nuc",
        lambda T, a: T.linalg.matrix_norm(a, "nuc"),
        lambda a: np.linalg.norm(a, "nuc"),
        ((4, 3),),
    ),
    OpSpec(
        "linalg_matrix_norm_2",
        lambda T, a: T.linalg.matrix_norm(a, 2, dim=(0, 1), keepdim=True),
        lambda a: np.linalg.norm(a, 2, axis=(0, 1), keepdims=True),
    ),
    OpSpec(
        "linalg_matrix_norm_neg2",
        lambda T, a: T.linalg.matrix_norm(a, -2),
        lambda a: np.linalg.norm(a, -2, axis=(-2, -1)),
        ((2, 3, 3),),
    ),
    OpSpec("norm_nuc", lambda T, a: a.norm(p="nuc"), lambda a: np.linalg.norm(a, "nuc")),
]
