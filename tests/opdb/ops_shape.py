"""OpSpecs for ember/ops/shape.py (joining, splitting, views, flips, triangles, pads...).

Shape ops are linear, so the harness's double-backward check is vacuous for them; every
differentiable spec therefore also gets a ``<name>_sq`` twin (outputs squared) whose second
derivative runs the op's backward rule through the differentiable namespace.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tests.opdb.spec import OpSpec


def _is_ember(T):
    return T.__name__.startswith("ember")


def _pad(mode):
    """reflect/replicate pad on both libraries (torch's primitive accepts negative pads)."""

    def f(T, a, pad):
        if _is_ember(T):
            return (T.reflect_pad if mode == "reflect" else T.replicate_pad)(a, pad)
        k = len(pad) // 2
        name = f"{'reflection' if mode == 'reflect' else 'replication'}_pad{k}d"
        return getattr(T._C._nn, name)(a, pad)

    return f


_reflect, _replicate = _pad("reflect"), _pad("replicate")


def _np_pad(mode):
    def f(a, pad):
        k = len(pad) // 2
        width = [(0, 0)] * (a.ndim - k) + [
            (pad[2 * i], pad[2 * i + 1]) for i in range(k - 1, -1, -1)
        ]
        return np.pad(a, width, mode=mode)

    return f


def _np_cpad(a, pad, value=0.0):
    # crop first (negative pads), then pad
    k = len(pad) // 2
    idx = [slice(None)] * a.ndim
    width = [(0, 0)] * a.ndim
    for i in range(k):
        ax = a.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        idx[ax] = slice(max(-lo, 0), a.shape[ax] - max(-hi, 0))
        width[ax] = (max(lo, 0), max(hi, 0))
    return np.pad(a[tuple(idx)], width, constant_values=value)


def _diag_embed(a, offset, d1, d2):
    n = a.shape[-1]
    m = n + abs(offset)
    out = np.zeros(a.shape[:-1] + (m, m), a.dtype)
    i = np.arange(n)
    r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
    out[..., r, c] = a
    # the two new dims are last: move them to d1, d2 of the output
    nd = a.ndim + 1
    rest = [k for k in range(nd) if k not in (d1, d2)]
    perm = [0] * nd
    for src, dst in enumerate(rest + [d1, d2]):
        perm[dst] = src
    return out.transpose(perm)


def _unfold(a, d, size, step):
    d %= a.ndim
    n = a.shape[d]
    wins = [np.take(a, np.arange(s, s + size), axis=d) for s in range(0, n - size + 1, step)]
    return np.stack([np.moveaxis(w, d, -1) for w in wins], axis=d)


def _block_diag(*xs):
    xs = [x.reshape(1, -1) if x.ndim < 2 else x for x in xs]
    out = np.zeros((sum(x.shape[0] for x in xs), sum(x.shape[1] for x in xs)))
    r = c = 0
    for x in xs:
        out[r : r + x.shape[0], c : c + x.shape[1]] = x
        r, c = r + x.shape[0], c + x.shape[1]
    return out


def _vjp(T, op, shape, c):
    """J^T c for the linear `op` at a zero input: a spec whose graph runs op's backward rule
    differentiably (the nodes of the create_graph path: diagonal/unfold/pad adjoints)."""
    x = T.zeros(shape, dtype=c.dtype, requires_grad=True)
    return T.autograd.grad(op(x), x, c, create_graph=True)[0]


def _diagonal_adj(c):
    out = np.zeros((3, 4), c.dtype)
    out[np.arange(3), np.arange(3) + 1] = c
    return out


def _unfold_adj(c):
    out = np.zeros((2, 7), c.dtype)
    for w in range(c.shape[1]):
        out[:, 2 * w : 2 * w + 3] += c[:, w, :]
    return out


def _reflect_adj(c):
    out = np.zeros((2, 4), c.dtype)
    np.add.at(out, (slice(None), [2, 1, 0, 1, 2, 3, 2]), c)
    return out


def _make_empty_1d(rng):
    return [rng.uniform(-2, 2, (2, 3)), np.zeros((0,)), rng.uniform(-2, 2, (1, 3))]


_BASE = [
    # ---------------------------------------------------------------- joining
    OpSpec("shape_cat", lambda T, a, b: T.cat([a, b]), lambda a, b: np.concatenate([a, b]), ((2, 3), (4, 3))),
    OpSpec("shape_cat_neg_dim", lambda T, a, b, c: T.cat((a, b, c), dim=-1), lambda a, b, c: np.concatenate([a, b, c], -1), ((2, 3), (2, 1), (2, 4))),
    OpSpec("shape_cat_same_input", lambda T, a: T.cat([a, a * 2, a], 1), lambda a: np.concatenate([a, a * 2, a], 1), ((2, 3),)),
    OpSpec("shape_cat_empty_dim", lambda T, a, b: T.cat([a, b]), lambda a, b: np.concatenate([a, b]), ((0, 3), (2, 3))),
    OpSpec("shape_cat_legacy_empty_1d", lambda T, a, b, c: T.cat([a, b, c]), lambda a, b, c: np.concatenate([a, c]), make=_make_empty_1d),
    OpSpec("shape_cat_promote_int", lambda T, a, b: T.cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1), ((2, 3), (2, 2)), dtypes=("float", "int64")),
    OpSpec("shape_cat_promote_bool", lambda T, a, b: T.cat([b, a], 0), lambda a, b: np.concatenate([b, a], 0), ((2, 3), (1, 3)), dtypes=("float", "bool")),
    OpSpec("shape_cat_promote_double", lambda T, a, b: T.cat([a, b.double()], 0), lambda a, b: np.concatenate([a, b]), ((2, 3), (1, 3))),
    OpSpec("shape_concat", lambda T, a, b: T.concat((a, b), dim=1), lambda a, b: np.concatenate([a, b], 1), ((2, 3), (2, 2))),
    OpSpec("shape_concatenate", lambda T, a, b: T.concatenate([a, b], -2), lambda a, b: np.concatenate([a, b], -2), ((2, 1, 3), (2, 2, 3))),
    OpSpec("shape_stack", lambda T, a, b: T.stack([a, b]), lambda a, b: np.stack([a, b]), ((2, 3), (2, 3))),
    OpSpec("shape_stack_last", lambda T, a, b, c: T.stack((a, b, c), dim=-1), lambda a, b, c: np.stack([a, b, c], -1), ((2, 3), (2, 3), (2, 3))),
    OpSpec("shape_stack_0d", lambda T, a, b: T.stack([a, b]), lambda a, b: np.stack([a, b]), ((), ())),
    OpSpec("shape_stack_empty", lambda T, a, b: T.stack([a, b], 1), lambda a, b: np.stack([a, b], 1), ((0, 3), (0, 3))),
    OpSpec("shape_stack_promote", lambda T, a, b: T.stack([b, a], 1), lambda a, b: np.stack([b, a], 1), ((2, 3), (2, 3)), dtypes=("float", "int64")),
    OpSpec("shape_hstack", lambda T, a, b: T.hstack([a, b]), lambda a, b: np.hstack([a, b]), ((2, 3), (2, 1))),
    OpSpec("shape_hstack_1d", lambda T, a, b: T.hstack((a, b)), lambda a, b: np.hstack([a, b]), ((3,), ())),
    OpSpec("shape_vstack", lambda T, a, b: T.vstack([a, b]), lambda a, b: np.vstack([a, b]), ((3,), (2, 3))),
    OpSpec("shape_row_stack", lambda T, a, b: T.row_stack([a, b]), lambda a, b: np.vstack([a, b]), ((3,), (3,))),
    OpSpec("shape_dstack", lambda T, a, b: T.dstack([a, b]), lambda a, b: np.dstack([a, b]), ((2, 3), (2, 3, 2))),
    OpSpec("shape_column_stack", lambda T, a, b, c: T.column_stack([a, b, c]), lambda a, b, c: np.column_stack([a, b, c]), ((3,), (3, 2), (3,))),
    # ---------------------------------------------------------------- splitting
    OpSpec("shape_split_int", lambda T, a: a.split(2, 1), lambda a: tuple(np.split(a, [2, 4], 1)), ((3, 5),)),
    OpSpec("shape_split_sizes", lambda T, a: T.split(a, [1, 3, 0, 1], dim=-1), lambda a: tuple(np.split(a, [1, 4, 4], -1)), ((3, 5),)),
    OpSpec("shape_split_one_output", lambda T, a: a.split(2)[1], lambda a: a[2:4], ((5, 2),)),
    OpSpec("shape_split_big", lambda T, a: T.split(a, 10), lambda a: (a,), ((3, 2),)),
    OpSpec("shape_chunk", lambda T, a: a.chunk(3, 1), lambda a: tuple(np.split(a, [3, 6], 1)), ((2, 7),)),
    OpSpec("shape_chunk_fewer", lambda T, a: T.chunk(a, 4, 0), lambda a: tuple(np.split(a, [2, 4], 0)), ((6, 2),)),
    OpSpec("shape_chunk_empty", lambda T, a: a.chunk(3, 1), lambda a: (a, a, a), ((2, 0),)),
    OpSpec("shape_tensor_split_sections", lambda T, a: T.tensor_split(a, 3, dim=1), lambda a: tuple(np.array_split(a, 3, 1)), ((3, 7),)),
    OpSpec("shape_tensor_split_indices", lambda T, a: a.tensor_split([1, 5, 3, -1], 1), lambda a: (a[:, :1], a[:, 1:5], a[:, 5:3], a[:, 3:-1], a[:, -1:]), ((2, 7),)),
    OpSpec("shape_unbind", lambda T, a: a.unbind(1), lambda a: tuple(np.moveaxis(a, 1, 0)), ((2, 3, 2),)),
    OpSpec("shape_unbind_one_output", lambda T, a: T.unbind(a)[1], lambda a: a[1], ((3, 2),)),
    OpSpec("shape_iter_rows", lambda T, a: tuple(a), lambda a: tuple(a), ((3, 2),)),
    OpSpec("shape_iter_1d", lambda T, a: tuple(a), lambda a: tuple(np.asarray(x) for x in a), ((3,),)),
    OpSpec("shape_narrow", lambda T, a: a.narrow(1, 1, 2), lambda a: a[:, 1:3], ((3, 4),)),
    OpSpec("shape_narrow_neg", lambda T, a: T.narrow(a, -1, -3, 2), lambda a: a[..., 1:3], ((2, 2, 4),)),
    OpSpec("shape_narrow_empty", lambda T, a: a.narrow(0, 3, 0), lambda a: a[3:3], ((3, 4),)),
    OpSpec("shape_select", lambda T, a: a.select(1, 2), lambda a: a[:, 2], ((3, 4),)),
    OpSpec("shape_select_neg", lambda T, a: T.select(a, -1, -1), lambda a: a[..., -1], ((2, 3, 4),)),
    OpSpec("shape_select_1d", lambda T, a: a.select(0, 1), lambda a: a[1], ((3,),)),
    # ---------------------------------------------------------------- reordering
    OpSpec("shape_flip", lambda T, a: a.flip(0, 1), lambda a: a[::-1, ::-1], ((3, 4),)),
    OpSpec("shape_flip_neg_tuple", lambda T, a: T.flip(a, (-1,)), lambda a: a[..., ::-1], ((2, 3, 4),)),
    OpSpec("shape_flip_0d", lambda T, a: T.flip(a, (0,)), lambda a: a, ((),)),
    OpSpec("shape_flip_none", lambda T, a: T.flip(a, ()), lambda a: a, ((2, 3),)),
    OpSpec("shape_fliplr", lambda T, a: T.fliplr(a), np.fliplr, ((3, 4, 2),)),
    OpSpec("shape_flipud", lambda T, a: a.flipud(), np.flipud, ((3,),)),
    OpSpec("shape_roll_flat", lambda T, a: T.roll(a, 5), lambda a: np.roll(a, 5), ((3, 4),)),
    OpSpec("shape_roll_dims", lambda T, a: T.roll(a, (1, -2), (0, -1)), lambda a: np.roll(a, (1, -2), (0, -1)), ((3, 4),)),
    OpSpec("shape_roll_one", lambda T, a: a.roll(-1, 1), lambda a: np.roll(a, -1, 1), ((2, 3, 2),)),
    OpSpec("shape_roll_0d", lambda T, a: T.roll(a, 1), lambda a: a, ((),)),
    # ---------------------------------------------------------------- triangles, diagonals
    OpSpec("shape_tril", lambda T, a: a.tril(), np.tril, ((3, 4),)),
    OpSpec("shape_tril_k", lambda T, a: T.tril(a, diagonal=1), lambda a: np.tril(a, 1), ((2, 3, 4),)),
    OpSpec("shape_triu", lambda T, a: T.triu(a), np.triu, ((4, 3),)),
    OpSpec("shape_triu_neg_k", lambda T, a: a.triu(-1), lambda a: np.triu(a, -1), ((2, 4, 3),)),
    OpSpec("shape_diagonal", lambda T, a: a.diagonal(), lambda a: np.diagonal(a).copy(), ((3, 4),)),
    OpSpec("shape_diagonal_offset", lambda T, a: T.diagonal(a, 1), lambda a: np.diagonal(a, 1).copy(), ((4, 3),)),
    OpSpec("shape_diagonal_swapped_dims", lambda T, a: a.diagonal(-1, 1, 0), lambda a: np.diagonal(a, -1, 1, 0).copy(), ((3, 4),)),
    OpSpec("shape_diagonal_batched", lambda T, a: T.diagonal(a, 0, -2, -1), lambda a: np.diagonal(a, 0, -2, -1).copy(), ((2, 3, 4),)),
    OpSpec("shape_diagonal_dims_0_2", lambda T, a: a.diagonal(offset=-1, dim1=0, dim2=2), lambda a: np.diagonal(a, -1, 0, 2).copy(), ((3, 2, 4),)),
    OpSpec("shape_diagonal_empty", lambda T, a: a.diagonal(5), lambda a: np.diagonal(a, 5).copy(), ((3, 4),)),
    OpSpec("shape_diag_1d", lambda T, a: T.diag(a), np.diag, ((3,),)),
    OpSpec("shape_diag_1d_offset", lambda T, a: a.diag(-2), lambda a: np.diag(a, -2), ((3,),)),
    OpSpec("shape_diag_2d", lambda T, a: T.diag(a, 1), lambda a: np.diag(a, 1), ((3, 4),)),
    OpSpec("shape_diag_embed", lambda T, a: T.diag_embed(a), lambda a: _diag_embed(a, 0, 1, 2), ((2, 3),)),
    OpSpec("shape_diag_embed_offset_dims", lambda T, a: a.diag_embed(1, 0, 2), lambda a: _diag_embed(a, 1, 0, 2), ((2, 3),)),
    OpSpec("shape_diag_embed_neg_swapped", lambda T, a: T.diag_embed(a, -1, 2, 0), lambda a: _diag_embed(a, -1, 2, 0), ((2, 3),)),
    OpSpec("shape_trace", lambda T, a: a.trace(), np.trace, ((3, 4),)),
    OpSpec("shape_trace_tall", lambda T, a: T.trace(a), np.trace, ((4, 2),)),
    # ---------------------------------------------------------------- repetition
    OpSpec("shape_repeat", lambda T, a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), ((3, 2),)),
    OpSpec("shape_repeat_tuple", lambda T, a: a.repeat((1, 2)), lambda a: np.tile(a, (1, 2)), ((2, 3),)),
    OpSpec("shape_repeat_0d", lambda T, a: a.repeat(3), lambda a: np.tile(a, 3), ((),)),
    OpSpec("shape_repeat_zero", lambda T, a: a.repeat(0, 2), lambda a: np.tile(a, (0, 2)), ((2, 3),)),
    OpSpec("shape_tile", lambda T, a: T.tile(a, (2,)), lambda a: np.tile(a, 2), ((2, 3),)),
    OpSpec("shape_tile_long", lambda T, a: a.tile((2, 1, 1)), lambda a: np.tile(a, (2, 1, 1)), ((2, 3),)),
    OpSpec("shape_repeat_interleave", lambda T, a: a.repeat_interleave(2), lambda a: np.repeat(a, 2), ((2, 3),)),
    OpSpec("shape_repeat_interleave_dim", lambda T, a: T.repeat_interleave(a, 3, dim=-1), lambda a: np.repeat(a, 3, -1), ((2, 3),)),
    OpSpec("shape_repeat_interleave_tensor", lambda T, a: a.repeat_interleave(T.tensor([1, 0, 3]), dim=0), lambda a: np.repeat(a, [1, 0, 3], 0), ((3, 4),)),
    OpSpec("shape_repeat_interleave_tensor1", lambda T, a: T.repeat_interleave(a, T.tensor([2]), 1, output_size=6), lambda a: np.repeat(a, 2, 1), ((2, 3),)),
    # ---------------------------------------------------------------- strided views, gathers
    OpSpec("shape_unfold", lambda T, a: a.unfold(1, 3, 1), lambda a: _unfold(a, 1, 3, 1), ((2, 7),)),
    OpSpec("shape_unfold_step", lambda T, a: a.unfold(0, 2, 2), lambda a: _unfold(a, 0, 2, 2), ((5, 3),)),
    OpSpec("shape_unfold_gap", lambda T, a: a.unfold(-1, 2, 3), lambda a: _unfold(a, -1, 2, 3), ((2, 2, 9),)),
    OpSpec("shape_unfold_few_windows", lambda T, a: a.unfold(1, 5, 2), lambda a: _unfold(a, 1, 5, 2), ((2, 7),)),
    OpSpec("shape_take", lambda T, a: T.take(a, T.tensor([[0, 5], [-1, 5]])), lambda a: a.reshape(-1)[[[0, 5], [-1, 5]]], ((2, 3),)),
    OpSpec("shape_diagonal_vjp", lambda T, c: _vjp(T, lambda x: x.diagonal(1), (3, 4), c), _diagonal_adj, ((3,),)),
    OpSpec("shape_unfold_vjp", lambda T, c: _vjp(T, lambda x: x.unfold(1, 3, 2), (2, 7), c), _unfold_adj, ((2, 3, 3),)),
    OpSpec("shape_reflect_pad_vjp", lambda T, c: _vjp(T, lambda x: _reflect(T, x, (2, 1)), (2, 4), c), _reflect_adj, ((2, 7),)),
    # ---------------------------------------------------------------- broadcasting, grids
    OpSpec("shape_meshgrid_ij", lambda T, a, b, c: T.meshgrid(a, b, c, indexing="ij"), lambda a, b, c: tuple(np.meshgrid(a, b, c, indexing="ij")), ((2,), (3,), ())),
    OpSpec("shape_meshgrid_xy", lambda T, a, b, c: T.meshgrid([a, b, c], indexing="xy"), lambda a, b, c: tuple(np.meshgrid(a, b, c, indexing="xy")), ((2,), (3,), (2,))),
    OpSpec("shape_broadcast_tensors", lambda T, a, b, c: T.broadcast_tensors(a, b, c), lambda a, b, c: tuple(np.broadcast_arrays(a, b, c)), ((3, 1), (4,), (2, 1, 1))),
    OpSpec("shape_atleast_1d", lambda T, a: T.atleast_1d(a), np.atleast_1d, ((),)),
    OpSpec("shape_atleast_2d_many", lambda T, a, b: T.atleast_2d(a, b), lambda a, b: tuple(np.atleast_2d(a, b)), ((3,), ())),
    OpSpec("shape_atleast_3d_many", lambda T, a, b, c: T.atleast_3d([a, b, c]), lambda a, b, c: tuple(np.atleast_3d(a, b, c)), ((3,), (2, 3), ())),
    OpSpec("shape_block_diag", lambda T, a, b, c, d: T.block_diag(a, b, c, d), _block_diag, ((2, 3), (2,), (), (2, 2))),
    OpSpec("shape_block_diag_promote", lambda T, a, b: T.block_diag(a, b), _block_diag, ((2, 1), (2, 2)), dtypes=("float", "int64")),
    OpSpec("shape_cartesian_prod", lambda T, a, b: T.cartesian_prod(a, b), lambda a, b: np.array([[x, y] for x in a for y in b]), ((2,), (3,))),
    # ---------------------------------------------------------------- padding
    OpSpec("shape_constant_pad", lambda T, a: T.constant_pad_nd(a, (1, 2, 0, 1), 0.5), lambda a: _np_cpad(a, (1, 2, 0, 1), 0.5), ((2, 3),)),
    OpSpec("shape_constant_pad_crop", lambda T, a: T.constant_pad_nd(a, (-1, 2, 1, -2)), lambda a: _np_cpad(a, (-1, 2, 1, -2)), ((2, 3, 4),)),
    OpSpec("shape_constant_pad_all_dims", lambda T, a: T.constant_pad_nd(a, (1, 1, 2, 0, 0, 1)), lambda a: _np_cpad(a, (1, 1, 2, 0, 0, 1)), ((2, 1, 2),)),
    OpSpec("shape_reflect_pad1d", lambda T, a: _reflect(T, a, (1, 2)), lambda a: _np_pad("reflect")(a, (1, 2)), ((2, 4),)),
    OpSpec("shape_reflect_pad1d_neg", lambda T, a: _reflect(T, a, (-1, 3)), lambda a: np.pad(a, [(0, 0), (0, 0), (0, 3)], mode="reflect")[..., 1:], ((1, 2, 5),)),
    OpSpec("shape_reflect_pad2d", lambda T, a: _reflect(T, a, (1, 2, 2, 1)), lambda a: _np_pad("reflect")(a, (1, 2, 2, 1)), ((1, 2, 3, 4),)),
    OpSpec("shape_reflect_pad3d", lambda T, a: _reflect(T, a, (1, 1, 2, 0, 0, 1)), lambda a: _np_pad("reflect")(a, (1, 1, 2, 0, 0, 1)), ((2, 2, 3, 3),)),
    OpSpec("shape_replicate_pad1d", lambda T, a: _replicate(T, a, (3, 4)), lambda a: _np_pad("edge")(a, (3, 4)), ((2, 3),)),
    OpSpec("shape_replicate_pad1d_neg", lambda T, a: _replicate(T, a, (-2, 1)), lambda a: np.pad(a, [(0, 0), (0, 1)], mode="edge")[:, 2:], ((2, 4),)),
    OpSpec("shape_replicate_pad2d", lambda T, a: _replicate(T, a, (1, 0, 2, 3)), lambda a: _np_pad("edge")(a, (1, 0, 2, 3)), ((2, 2, 3),)),
    OpSpec("shape_replicate_pad3d", lambda T, a: _replicate(T, a, (1, 1, 0, 2, 1, 0)), lambda a: _np_pad("edge")(a, (1, 1, 0, 2, 1, 0)), ((1, 2, 2, 2, 3),)),
]  # fmt: skip


def _squared(spec):
    """The same op with every float output squared: makes the second derivative non-trivial."""

    def fn(T, *xs, _f=spec.fn):
        out = _f(T, *xs)
        if isinstance(out, tuple | list):
            return tuple(o * o if o.is_floating_point() else o for o in out)
        return out * out

    def ref(*xs, _r=spec.ref):
        out = _r(*xs)
        if isinstance(out, tuple | list):
            return tuple(np.asarray(o) ** 2 for o in out)
        return np.asarray(out) ** 2

    return dataclasses.replace(spec, name=spec.name + "_sq", fn=fn, ref=ref, grad_atol=1e-4)


SPECS = _BASE + [_squared(s) for s in _BASE if s.grad]
