"""OpSpecs for ember/ops/indexing.py: t[i], t[i] = v, gather/scatter, index_*, masked_*, take/put.

Index inputs come from ``make(rng)`` (int64 / bool arrays); ``grad_inputs`` names the float inputs.
Repeated and negative indices, bool masks and mixed slice + advanced indexing are all covered.
"""

from __future__ import annotations

import numpy as np

from tests.opdb.spec import OpSpec


def _f(rng, *shape):
    return rng.uniform(-2, 2, shape)


def _distinct(rng, *shape):
    n = int(np.prod(shape))
    return (rng.permutation(n) / max(n, 1) * 4 - 2 + 0.013).reshape(shape)


def _set(x, index, v):
    x[index] = v
    return x


def _np_add_at(shape, index, v):
    z = np.zeros(shape)
    np.add.at(z, index, v)
    return z


def _gather_ref(a, dim, idx):
    box = tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(idx.shape))
    return np.take_along_axis(a[box], idx, dim)


def _scatter_ref(a, dim, idx, src, op):
    out = a.copy()
    grid = list(np.indices(idx.shape, sparse=True))
    grid[dim] = idx
    grid = tuple(grid)
    s = src[tuple(slice(0, n) for n in idx.shape)]
    if op == "set":
        out[grid] = s
    else:
        np.add.at(out, grid, s)
    return out


def _scatter_reduce_ref(a, dim, idx, src, reduce, include_self):
    out = a.copy()
    cnt = np.ones_like(a) if include_self else np.zeros_like(a)
    vals: dict = {}
    for pos in np.ndindex(*idx.shape):
        tgt = list(pos)
        tgt[dim] = idx[pos]
        vals.setdefault(tuple(tgt), []).append(src[pos])
    for tgt, vs in vals.items():
        vs = ([a[tgt]] if include_self else []) + vs
        out[tgt] = {
            "sum": np.sum,
            "prod": np.prod,
            "mean": np.mean,
            "amax": np.max,
            "amin": np.min,
        }[reduce](vs)
        cnt[tgt] = len(vs)
    return out


def _index_add_ref(a, dim, idx, src, alpha=1.0):
    out = a.copy()
    np.add.at(np.moveaxis(out, dim, 0), idx, np.moveaxis(src, dim, 0) * alpha)
    return out


def _index_copy_ref(a, dim, idx, src):
    out = a.copy()
    np.moveaxis(out, dim, 0)[idx] = np.moveaxis(src, dim, 0)
    return out


def _put_ref(a, idx, src, acc):
    out = a.copy().reshape(-1)
    if acc:
        np.add.at(out, idx.reshape(-1), src.reshape(-1))
    else:
        out[idx.reshape(-1)] = src.reshape(-1)
    return out.reshape(a.shape)


def _grad_of_getitem(T, a):
    if not a.requires_grad:  # forward-only checks: build the graph, return plain values
        return _grad_of_getitem(T, a.detach().requires_grad_()).detach()
    y = (a[1:, ::2] ** 3).sum() + (a[[0, 0]] ** 2).sum()
    return T.autograd.grad(y, a, create_graph=True)[0]


_IDX3 = lambda rng: [_f(rng, 3, 4, 5)]  # noqa: E731

SPECS = [
    # ------------------------------------------------------------------ t[index] (basic: views)
    OpSpec("getitem_int", lambda T, a: a[1], lambda a: a[1], ((3, 4),)),
    OpSpec("getitem_neg_int", lambda T, a: a[-1, -2], lambda a: a[-1, -2], ((3, 4, 2),)),
    OpSpec("getitem_slice_step", lambda T, a: a[1:, ::2], lambda a: a[1:, ::2], ((4, 5),)),
    OpSpec(
        "getitem_none_ellipsis", lambda T, a: a[None, ..., 1], lambda a: a[None, ..., 1], ((3, 4),)
    ),
    OpSpec("getitem_ellipsis", lambda T, a: a[..., :] * 2, lambda a: a * 2, ((2, 3),)),
    OpSpec("getitem_0d", lambda T, a: a[None][0], lambda a: a[None][0], ((),)),
    OpSpec("getitem_empty_slice", lambda T, a: a[2:1], lambda a: a[2:1], ((3, 4),)),
    OpSpec("getitem_chain", lambda T, a: a[1:][0][::2], lambda a: a[1:][0][::2], ((3, 5),)),
    # ------------------------------------------------------------------ t[index] (advanced)
    OpSpec(
        "getitem_list_repeat_neg",
        lambda T, a: a[[0, 2, 0, -1]],
        lambda a: a[[0, 2, 0, -1]],
        ((3, 4),),
    ),
    OpSpec(
        "getitem_tensor_idx",
        lambda T, a, i: a[i],
        lambda a, i: a[i],
        make=lambda rng: [_f(rng, 5, 3), rng.integers(-5, 5, (2, 4))],
        grad_inputs=(0,),
    ),
    OpSpec(
        "getitem_two_idx_bcast",
        lambda T, a, i, j: a[i[:, None], j],
        lambda a, i, j: a[i[:, None], j],
        make=lambda rng: [_f(rng, 4, 5), rng.integers(0, 4, (3,)), rng.integers(-5, 5, (6,))],
        grad_inputs=(0,),
    ),
    OpSpec(
        "getitem_mixed_slices",
        lambda T, a, i: a[1:, i, ::2],
        lambda a, i: a[1:, i, ::2],
        make=lambda rng: [_f(rng, 3, 4, 5), np.array([0, 2, 2, -1])],
        grad_inputs=(0,),
    ),
    OpSpec(
        "getitem_separated",
        lambda T, a, i, j: a[i, :, j],
        lambda a, i, j: a[i, :, j],
        make=lambda rng: [_f(rng, 3, 4, 5), np.array([0, 2, 2]), np.array([4, 4, 0])],
        grad_inputs=(0,),
    ),
    OpSpec(
        # torch applies the int first: result (4, 2), where NumPy would give (2, 4)
        "getitem_int_then_adv",
        lambda T, a: a[0, :, [1, 1]],
        lambda a: a[0][:, [1, 1]],
        make=_IDX3,
    ),
    OpSpec(
        "getitem_none_adv",
        lambda T, a, i: a[:, None, i],
        lambda a, i: a[:, None][:, :, i],
        make=lambda rng: [_f(rng, 3, 4), np.array([[1, 1], [3, 0]])],
        grad_inputs=(0,),
    ),
    OpSpec(
        "getitem_mask",
        lambda T, a, m: a[m],
        lambda a, m: a[m],
        make=lambda rng: [_f(rng, 3, 4), rng.random((3, 4)) > 0.5],
        grad_inputs=(0,),
    ),
    OpSpec(
        "getitem_mask_partial",
        lambda T, a, m: a[:, m],
        lambda a, m: a[:, m],
        make=lambda rng: [_f(rng, 2, 4, 3), np.array([True, False, True, True])],
        grad_inputs=(0,),
    ),
    OpSpec(
        "getitem_mask_and_idx",
        lambda T, a, m: a[m, [0, 2]],
        lambda a, m: a[m, [0, 2]],
        make=lambda rng: [_f(rng, 3, 4), np.array([True, False, True])],
        grad_inputs=(0,),
    ),
    OpSpec("getitem_bool_scalar", lambda T, a: a[True], lambda a: a[None], ((2, 3),)),
    OpSpec("getitem_empty_list", lambda T, a: a[[]], lambda a: a[np.zeros(0, np.int64)], ((3, 2),)),
    # ------------------------------------------------------------------ t[index] = v
    OpSpec(
        "setitem_basic",
        lambda T, a, b: _set(a.clone(), 1, b) * 2,
        lambda a, b: _set(a.copy(), 1, b) * 2,
        ((3, 4), (4,)),
    ),
    OpSpec(
        "setitem_slice_bcast",
        lambda T, a, b: _set(a.clone(), (slice(None), slice(1, 3)), b) ** 2,
        lambda a, b: _set(a.copy(), (slice(None), slice(1, 3)), b) ** 2,
        ((3, 4), (3, 1)),
    ),
    OpSpec(
        "setitem_scalar",
        lambda T, a: _set(a.clone(), (0, slice(None, None, 2)), 5.0) * a,
        lambda a: _set(a.copy(), (0, slice(None, None, 2)), 5.0) * a,
        ((3, 4),),
    ),
    OpSpec(
        "setitem_adv",
        lambda T, a, b, i: _set(a.clone(), i, b) * a,
        lambda a, b, i: _set(a.copy(), i, b) * a,
        make=lambda rng: [_f(rng, 5, 3), _f(rng, 2, 3), np.array([3, -5])],
        grad_inputs=(0, 1),
    ),
    OpSpec(
        "setitem_adv_mixed",
        lambda T, a, b: _set(a.clone(), (1, slice(None), [0, 2]), b) * a,
        lambda a, b: _set(a.copy(), (1, slice(None), [0, 2]), b.T) * a,
        make=lambda rng: [_f(rng, 2, 3, 4), _f(rng, 3, 2)],
        grad_inputs=(0, 1),
    ),
    OpSpec(
        "setitem_mask",
        lambda T, a, m: _set(a.clone(), m, 0.5) * a,
        lambda a, m: _set(a.copy(), m, 0.5) * a,
        make=lambda rng: [_f(rng, 3, 4), rng.random((3, 4)) > 0.5],
        grad_inputs=(0,),
    ),
    OpSpec(
        "setitem_iadd_column",
        lambda T, a, b: (lambda x: (x[:, 1].__iadd__(b), x * x)[1])(a.clone()),
        lambda a, b: (lambda x: (x[:, 1].__iadd__(b), x * x)[1])(a.copy()),
        ((3, 4), (3,)),
    ),
    OpSpec(
        "setitem_value_needs_grad_only",
        lambda T, b: _set(T.zeros(3, 4, dtype=b.dtype), (slice(None), 2), b.exp()),
        lambda b: _set(np.zeros((3, 4)), (slice(None), 2), np.exp(b)),
        ((3,),),
    ),
    OpSpec(
        "view_inplace_chain",
        lambda T, a, b: (lambda x: (x[0].mul_(2), x.view(-1)[::3].add_(b), x.t()[1].exp_(), x)[3])(
            a.clone()
        ),
        lambda a, b: (
            lambda x: (
                x.__setitem__(0, x[0] * 2),
                x.reshape(-1).__setitem__(slice(None, None, 3), x.reshape(-1)[::3] + b),
                x.__setitem__((slice(None), 1), np.exp(x[:, 1])),
                x,
            )[3]
        )(a.copy()),
        ((3, 4), (4,)),
    ),
    # ------------------------------------------------------------------ gather / scatter
    OpSpec(
        "gather",
        lambda T, a, i: T.gather(a, 1, i),
        lambda a, i: _gather_ref(a, 1, i),
        make=lambda rng: [_f(rng, 3, 4), rng.integers(0, 4, (3, 6))],
        grad_inputs=(0,),
    ),
    OpSpec(
        "gather_smaller_index",
        lambda T, a, i: a.gather(0, i),
        lambda a, i: _gather_ref(a, 0, i),
        make=lambda rng: [_f(rng, 4, 5), rng.integers(0, 4, (6, 3))],
        grad_inputs=(0,),
    ),
    OpSpec(
        "gather_0d",
        lambda T, a, i: a.gather(0, i),
        lambda a, i: a,
        make=lambda rng: [_f(rng), np.array(0)],
        grad_inputs=(0,),
    ),
    OpSpec(
        "scatter_src",
        lambda T, a, i, s: a.scatter(0, i, s),
        lambda a, i, s: _scatter_ref(a, 0, i, s, "set"),
        make=lambda rng: [
            _f(rng, 4, 3),
            np.stack([rng.permutation(4)[:2] for _ in range(3)], 1),
            _f(rng, 2, 3),
        ],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "scatter_value",
        lambda T, a, i: a.scatter(-1, i, 2.5),
        lambda a, i: _scatter_ref(a, 1, i, np.full(i.shape, 2.5), "set"),
        make=lambda rng: [_f(rng, 3, 4), rng.integers(0, 4, (2, 3))],
        grad_inputs=(0,),
    ),
    OpSpec(
        "scatter_inplace",
        lambda T, a, i, s: a.clone().scatter_(1, i, s) * a,
        lambda a, i, s: _scatter_ref(a, 1, i, s, "set") * a,
        make=lambda rng: [
            _f(rng, 2, 5),
            np.stack([rng.permutation(5)[:3] for _ in range(2)]),
            _f(rng, 2, 3),
        ],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "scatter_add",
        lambda T, a, i, s: a.scatter_add(1, i, s),
        lambda a, i, s: _scatter_ref(a, 1, i, s, "add"),
        make=lambda rng: [_f(rng, 3, 4), rng.integers(0, 4, (3, 6)), _f(rng, 3, 6)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "scatter_add_inplace",
        lambda T, a, i, s: a.clone().scatter_add_(0, i, s) ** 2,
        lambda a, i, s: _scatter_ref(a, 0, i, s, "add") ** 2,
        make=lambda rng: [_f(rng, 3, 2), rng.integers(0, 3, (5, 2)), _f(rng, 5, 2)],
        grad_inputs=(0, 2),
    ),
    *[
        OpSpec(
            f"scatter_reduce_{r}{'' if inc else '_noself'}",
            lambda T, a, i, s, r=r, inc=inc: a.scatter_reduce(1, i, s, r, include_self=inc),
            lambda a, i, s, r=r, inc=inc: _scatter_reduce_ref(a, 1, i, s, r, inc),
            make=lambda rng: [
                _distinct(rng, 3, 4),
                rng.integers(0, 4, (3, 5)),
                _distinct(rng, 3, 5) * 0.9 + 0.05,
            ],
            grad_inputs=(0, 2),
            gradgrad=r != "prod",
        )
        for r in ("sum", "prod", "mean", "amax", "amin")
        for inc in (True, False)
    ],
    # ------------------------------------------------------------------ index_* family
    OpSpec(
        "index_select",
        lambda T, a, i: T.index_select(a, 0, i),
        lambda a, i: a[i],
        make=lambda rng: [_f(rng, 4, 3), np.array([3, 0, 3, 1, 3])],
        grad_inputs=(0,),
    ),
    OpSpec(
        "index_select_dim1",
        lambda T, a, i: a.index_select(-1, i),
        lambda a, i: a[:, :, i],
        make=lambda rng: [_f(rng, 2, 3, 4), np.array([1, 1])],
        grad_inputs=(0,),
    ),
    OpSpec(
        "index_add",
        lambda T, a, i, s: a.index_add(1, i, s, alpha=1.5),
        lambda a, i, s: _index_add_ref(a, 1, i, s, 1.5),
        make=lambda rng: [_f(rng, 3, 4), np.array([0, 3, 0, 0, 2]), _f(rng, 3, 5)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "index_add_inplace",
        lambda T, a, i, s: a.clone().index_add_(0, i, s) * a,
        lambda a, i, s: _index_add_ref(a, 0, i, s) * a,
        make=lambda rng: [_f(rng, 3, 2), np.array([2, 2, 1]), _f(rng, 3, 2)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "index_copy",
        lambda T, a, i, s: a.index_copy(0, i, s),
        lambda a, i, s: _index_copy_ref(a, 0, i, s),
        make=lambda rng: [_f(rng, 4, 3), np.array([3, 0]), _f(rng, 2, 3)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "index_copy_inplace",
        lambda T, a, i, s: a.clone().index_copy_(1, i, s) * a,
        lambda a, i, s: _index_copy_ref(a, 1, i, s) * a,
        make=lambda rng: [_f(rng, 2, 4), np.array([1, 3]), _f(rng, 2, 2)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "index_fill",
        lambda T, a, i: a.index_fill(1, i, -1.0),
        lambda a, i: _set(a.copy(), (slice(None), i), -1.0),
        make=lambda rng: [_f(rng, 3, 4), np.array([0, -1, 0])],
        grad_inputs=(0,),
    ),
    OpSpec(
        "index_fill_tensor",
        lambda T, a, i, v: a.clone().index_fill_(0, i, v) * a,
        lambda a, i, v: _set(a.copy(), i, v) * a,
        make=lambda rng: [_f(rng, 3, 2), np.array([2]), _f(rng)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "index_put_accumulate",
        lambda T, a, i, j, v: a.index_put((i, j), v, accumulate=True),
        lambda a, i, j, v: a + _np_add_at(a.shape, (i, j), v),
        make=lambda rng: [
            _f(rng, 3, 4),
            np.array([0, 2, 0, 0]),
            np.array([1, 3, 1, -3]),
            _f(rng, 4),
        ],
        grad_inputs=(0, 3),
    ),
    OpSpec(
        "index_put",
        lambda T, a, i, v: a.index_put((i,), v) * a,
        lambda a, i, v: _set(a.copy(), i, v) * a,
        make=lambda rng: [_f(rng, 4, 3), np.array([2, 0]), _f(rng, 3)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "index_put_mask_inplace",
        lambda T, a, m, v: a.clone().index_put_((m,), v) * a,
        lambda a, m, v: _set(a.copy(), m, v) * a,
        make=lambda rng: [_f(rng, 3, 2), np.array([True, False, True]), _f(rng, 2, 2)],
        grad_inputs=(0, 2),
    ),
    # ------------------------------------------------------------------ masked ops
    OpSpec(
        "masked_fill",
        lambda T, a, m: a.masked_fill(m, 0.5),
        lambda a, m: np.where(m, 0.5, a),
        make=lambda rng: [_f(rng, 3, 4), rng.random((4,)) > 0.5],
        grad_inputs=(0,),
    ),
    OpSpec(
        "masked_fill_bcast_tensor",
        lambda T, a, m, v: T.masked_fill(a, m, v),
        lambda a, m, v: np.where(m, v, a),
        make=lambda rng: [_f(rng, 1, 4), rng.random((3, 1)) > 0.5, _f(rng)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "masked_fill_inplace",
        lambda T, a, m: a.clone().masked_fill_(m, -2.0) * a,
        lambda a, m: np.where(m, -2.0, a) * a,
        make=lambda rng: [_f(rng, 3, 4), rng.random((3, 4)) > 0.5],
        grad_inputs=(0,),
    ),
    OpSpec(
        "masked_scatter",
        lambda T, a, m, s: a.masked_scatter(m, s),
        lambda a, m, s: _set(a.copy(), m, s.reshape(-1)[: m.sum()]),
        make=lambda rng: [_f(rng, 3, 4), rng.random((3, 4)) > 0.4, _f(rng, 4, 4)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "masked_scatter_inplace",
        lambda T, a, m, s: a.clone().masked_scatter_(m, s) * a,
        lambda a, m, s: (
            _set(
                a.copy(),
                np.broadcast_to(m, a.shape),
                s.reshape(-1)[: np.broadcast_to(m, a.shape).sum()],
            )
            * a
        ),
        make=lambda rng: [_f(rng, 3, 4), np.array([True, False, True, True]), _f(rng, 12)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "masked_select",
        lambda T, a, m: T.masked_select(a, m),
        lambda a, m: np.broadcast_to(a, np.broadcast_shapes(a.shape, m.shape))[
            np.broadcast_to(m, np.broadcast_shapes(a.shape, m.shape))
        ],
        make=lambda rng: [_f(rng, 3, 1), rng.random((3, 4)) > 0.5],
        grad_inputs=(0,),
    ),
    # ------------------------------------------------------------------ take / put
    OpSpec(
        "take",
        lambda T, a, i: T.take(a, i),
        lambda a, i: a.reshape(-1)[i],
        make=lambda rng: [_f(rng, 3, 4), rng.integers(-12, 12, (2, 5))],
        grad_inputs=(0,),
    ),
    OpSpec(
        "take_along_dim",
        lambda T, a, i: T.take_along_dim(a, i, 1),
        lambda a, i: np.take_along_axis(a, np.broadcast_to(i, (3, i.shape[1])), 1),
        make=lambda rng: [_f(rng, 3, 4), rng.integers(0, 4, (1, 6))],
        grad_inputs=(0,),
    ),
    OpSpec(
        "take_along_dim_flat",
        lambda T, a, i: a.take_along_dim(i),
        lambda a, i: a.reshape(-1)[i],
        make=lambda rng: [_f(rng, 3, 4), rng.integers(0, 12, (5,))],
        grad_inputs=(0,),
    ),
    OpSpec(
        "put_accumulate",
        lambda T, a, i, s: a.put(i, s, accumulate=True),
        lambda a, i, s: _put_ref(a, i, s, True),
        make=lambda rng: [_f(rng, 3, 4), np.array([[0, 5], [0, -1]]), _f(rng, 4)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "put_inplace",
        lambda T, a, i, s: a.clone().put_(i, s) * a,
        lambda a, i, s: _put_ref(a, i, s, False) * a,
        make=lambda rng: [_f(rng, 2, 3), np.array([4, 0, -1]), _f(rng, 3)],
        grad_inputs=(0, 2),
    ),
    # ------------------------------------------------------------------ double backward through
    # the index gradients (the first derivative depends on the input only through a square)
    OpSpec(
        "getitem_basic_sq",
        lambda T, a: a[1:, None, ::2] ** 2,
        lambda a: a[1:, None, ::2] ** 2,
        ((3, 4),),
    ),
    OpSpec(
        "getitem_adv_sq",
        lambda T, a, i: a[:, i] ** 2,
        lambda a, i: a[:, i] ** 2,
        make=lambda rng: [_f(rng, 2, 3), np.array([2, 0, 2, 2])],
        grad_inputs=(0,),
    ),
    OpSpec(
        "getitem_mask_sq",
        lambda T, a, m: a[m] ** 2,
        lambda a, m: a[m] ** 2,
        make=lambda rng: [_f(rng, 3, 4), rng.random((3, 4)) > 0.5],
        grad_inputs=(0,),
    ),
    OpSpec(
        "gather_sq",
        lambda T, a, i: a.gather(1, i) ** 2,
        lambda a, i: _gather_ref(a, 1, i) ** 2,
        make=lambda rng: [_f(rng, 3, 4), rng.integers(0, 4, (3, 5))],
        grad_inputs=(0,),
    ),
    OpSpec(
        "index_select_sq",
        lambda T, a, i: a.index_select(1, i) ** 2,
        lambda a, i: a[:, i] ** 2,
        make=lambda rng: [_f(rng, 3, 4), np.array([3, 3, 0])],
        grad_inputs=(0,),
    ),
    OpSpec(
        "masked_select_sq",
        lambda T, a, m: a.masked_select(m) ** 2,
        lambda a, m: a[m] ** 2,
        make=lambda rng: [_f(rng, 3, 4), rng.random((3, 4)) > 0.5],
        grad_inputs=(0,),
    ),
    OpSpec(
        "take_sq",
        lambda T, a, i: a.take(i) ** 2,
        lambda a, i: a.reshape(-1)[i] ** 2,
        make=lambda rng: [_f(rng, 3, 4), np.array([[0, 0], [-1, 5]])],
        grad_inputs=(0,),
    ),
    OpSpec(
        "scatter_add_sq",
        lambda T, a, i, s: a.scatter_add(1, i, s) ** 2,
        lambda a, i, s: _scatter_ref(a, 1, i, s, "add") ** 2,
        make=lambda rng: [_f(rng, 3, 4), rng.integers(0, 4, (3, 6)), _f(rng, 3, 6)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "index_put_acc_sq",
        lambda T, a, i, v: a.index_put((i,), v, accumulate=True) ** 2,
        lambda a, i, v: (a + _np_add_at(a.shape, (i,), v)) ** 2,
        make=lambda rng: [_f(rng, 3, 2), np.array([1, 1, 0]), _f(rng, 3, 2)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "masked_scatter_sq",
        lambda T, a, m, s: a.masked_scatter(m, s) ** 2,
        lambda a, m, s: _set(a.copy(), m, s.reshape(-1)[: m.sum()]) ** 2,
        make=lambda rng: [_f(rng, 3, 4), rng.random((3, 4)) > 0.4, _f(rng, 12)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "view_after_inplace",  # the view's own history is re-derived from the updated base
        lambda T, a, b: (lambda x: (lambda v: (v.add_(b), v * x[:, 1:].sum())[1])(x[1, 1:]))(
            a.clone()
        ),
        lambda a, b: (
            lambda x: (x.__setitem__((1, slice(1, None)), x[1, 1:] + b), x[1, 1:] * x[:, 1:].sum())[
                1
            ]
        )(a.copy()),
        ((3, 4), (3,)),
    ),
    OpSpec(
        "grad_of_getitem",  # create_graph: the index gradients are themselves differentiable
        lambda T, a: _grad_of_getitem(T, a),
        lambda a: _set(
            _set(np.zeros_like(a), (slice(1, None), slice(None, None, 2)), 3 * a[1:, ::2] ** 2),
            0,
            4 * a[0],
        ),
        ((3, 4),),
    ),
    OpSpec(
        "view_inplace_sq",
        lambda T, a, b: (lambda x: (x[1:, 0].add_(b), x**2)[1])(a.clone()),
        lambda a, b: (lambda x: (x.__setitem__((slice(1, None), 0), x[1:, 0] + b), x**2)[1])(
            a.copy()
        ),
        ((3, 4), (2,)),
    ),
    OpSpec(
        "put_sq",
        lambda T, a, i, s: a.put(i, s) ** 2,
        lambda a, i, s: _put_ref(a, i, s, False) ** 2,
        make=lambda rng: [_f(rng, 2, 3), np.array([4, 0, -1]), _f(rng, 3)],
        grad_inputs=(0, 2),
    ),
    OpSpec(
        "scatter_reduce_mean_sq",
        lambda T, a, i, s: a.scatter_reduce(0, i, s, "mean") ** 2,
        lambda a, i, s: _scatter_reduce_ref(a, 0, i, s, "mean", True) ** 2,
        make=lambda rng: [_f(rng, 3, 2), rng.integers(0, 3, (4, 2)), _f(rng, 4, 2)],
        grad_inputs=(0, 2),
    ),
]
