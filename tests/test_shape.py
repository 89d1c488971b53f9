"""Shape ops beyond the OpSpec battery: views (shared storage and version counter), integer and
bool inputs, error types and messages against torch, grad_fn names, in-place tril_/triu_, and the
double backward of the linear ops' rules (differentiating a VJP with respect to its cotangent).
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops import shape as shape_mod
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")


def _arange(T, *shape, dtype=None):
    n = int(np.prod(shape)) if shape else 1
    return T.arange(n, dtype=dtype or T.float32).reshape(shape)


def _shares(a, b):
    return np.shares_memory(a.numpy(), b.numpy())


# --------------------------------------------------------------------------- views
VIEW_OPS = {
    "split": lambda x: x.split(2, 1),
    "split_sizes": lambda x: ember.split(x, [1, 3], 1),
    "chunk": lambda x: x.chunk(2, 0),
    "tensor_split": lambda x: x.tensor_split([1, 3], 1),
    "unbind": lambda x: x.unbind(1),
    "iter": lambda x: tuple(x),
    "narrow": lambda x: (x.narrow(1, 1, 2),),
    "select": lambda x: (x.select(0, 1),),
    "diagonal": lambda x: (x.diagonal(1),),
    "unfold": lambda x: (x.unfold(1, 2, 1),),
    "meshgrid": lambda x: ember.meshgrid(x.select(0, 0), x.select(0, 1), indexing="ij"),
    "broadcast_tensors": lambda x: ember.broadcast_tensors(x, x.select(0, 0)),
    "atleast_3d": lambda x: (ember.atleast_3d(x),),
}


@pytest.mark.parametrize("name", VIEW_OPS)
def test_views_share_storage_and_version(name):
    base = _arange(ember, 3, 4)
    outs = VIEW_OPS[name](base)
    for v in outs:
        assert _shares(v, base), name
        assert v._version == base._version
    before = [v.numpy().copy() for v in outs]
    base.add_(1)
    for v, b in zip(outs, before):
        assert v._version == base._version == 1
        np.testing.assert_array_equal(v.numpy(), b + 1)


@pytest.mark.parametrize("name", ["split", "unbind", "narrow", "select", "diagonal", "unfold"])
def test_inplace_on_view_writes_base(name):
    base = _arange(ember, 3, 4)
    v = VIEW_OPS[name](base)[0]
    v.mul_(0)
    assert base._version == 1
    expected = _arange(ember, 3, 4)
    expected_v = VIEW_OPS[name](expected)[0]
    expected_v._data[...] = 0
    np.testing.assert_array_equal(base.numpy(), expected.numpy())


def test_view_base_is_root():
    x = ember.randn(4, 6)
    v = x.narrow(0, 1, 2).select(1, 3)
    assert v._base is x
    assert x.unfold(1, 2, 2).diagonal()._base is x


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.flip(0), lambda x: x.roll(1, 1), lambda x: x.tril(), lambda x: x.repeat(1, 1),
        lambda x: ember.cat([x]), lambda x: ember.stack([x]),
        lambda x: x.diag(), lambda x: ember.constant_pad(x, (0, 0)), lambda x: x.tile((1,)),
        lambda x: x.repeat_interleave(1, 0), lambda x: ember.reflect_pad(x, (0, 0)),
    ],
)  # fmt: skip
def test_copies_do_not_share(fn):
    x = _arange(ember, 3, 4)
    assert not _shares(fn(x), x)


def test_split_outputs_share_one_node():
    x = ember.randn(4, 3, requires_grad=True)
    a, b = x.split(2)
    assert a.grad_fn is b.grad_fn and (a.output_nr, b.output_nr) == (0, 1)
    (b * 3).sum().backward()  # a got no gradient: materialised as zeros
    np.testing.assert_array_equal(x.grad.numpy(), np.r_[np.zeros((2, 3)), 3 * np.ones((2, 3))])


def test_unbind_empty_and_iter_0d():
    assert ember.zeros(0, 3).unbind(0) == ()
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(ember.tensor(1.0))


# --------------------------------------------------------------------------- in place
def test_tril_triu_inplace():
    x = _arange(ember, 3, 3)
    r = x.tril_(-1)
    assert r is x and x._version == 1
    np.testing.assert_array_equal(x.numpy(), np.tril(np.arange(9.0).reshape(3, 3), -1))
    y = _arange(ember, 2, 3, 3)
    y.triu_(1)
    np.testing.assert_array_equal(y.numpy(), np.triu(np.arange(18.0).reshape(2, 3, 3), 1))


def test_tril_inplace_autograd():
    leaf = ember.randn(3, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.tril_()
    h = leaf * 2
    h.triu_()
    h.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), 2 * np.triu(np.ones((3, 3))))


# --------------------------------------------------------------------------- int / bool inputs
INT_CASES = {
    "cat": lambda T, x: T.cat([x, x], 1),
    "cat_mixed": lambda T, x: T.cat([x, x.to(T.int32), x.to(T.bool)]),
    "cat_int_bool": lambda T, x: T.cat([x.to(T.int32), x.to(T.bool)]),
    "cat_int8_uint8": lambda T, x: T.cat([x.to(T.int8), x.to(T.uint8)]),
    "stack": lambda T, x: T.stack([x.to(T.bool), x.to(T.bool)]),
    "split": lambda T, x: x.split([1, 2], 1),
    "unbind": lambda T, x: x.unbind(),
    "flip": lambda T, x: x.flip(0, 1),
    "roll": lambda T, x: x.roll(2),
    "tril": lambda T, x: x.to(T.bool).tril(),
    "triu": lambda T, x: x.triu(1),
    "diagonal": lambda T, x: x.diagonal(),
    "diag": lambda T, x: x.diag(),
    "diag_1d": lambda T, x: x.select(0, 0).diag(1),
    "diag_embed": lambda T, x: x.to(T.bool).diag_embed(),
    "trace": lambda T, x: x.trace(),
    "trace_int32": lambda T, x: x.to(T.int32).trace(),
    "trace_uint8": lambda T, x: x.to(T.uint8).trace(),
    "repeat": lambda T, x: x.repeat(2, 1),
    "repeat_interleave": lambda T, x: x.repeat_interleave(T.tensor([1, 2]), 0),
    "repeat_interleave_only": lambda T, x: T.repeat_interleave(T.tensor([1, 0, 3])),
    "unfold": lambda T, x: x.to(T.bool).unfold(1, 2, 1),
    "take": lambda T, x: T.take(x, T.tensor([3, 0])),
    "block_diag": lambda T, x: T.block_diag(x.to(T.int32), T.ones(1, 1, dtype=T.bool)),
    "meshgrid": lambda T, x: T.meshgrid(x.select(0, 0), x.select(0, 1), indexing="xy"),
    "constant_pad": lambda T, x: T.constant_pad_nd(x.to(T.int32), (1, 1), 2.7),
    "constant_pad_bool": lambda T, x: T.constant_pad_nd(x.to(T.bool), (1, 0, 0, 1), 2),
    "hstack": lambda T, x: T.hstack([x, x.to(T.int16)]),
    "cartesian_prod": lambda T, x: T.cartesian_prod(x.select(0, 0), x.select(0, 1)),
}


@needs_torch
@pytest.mark.parametrize("name", INT_CASES)
def test_int_bool_match_torch(name):
    data = np.array([[3, -1, 0], [2, 5, 1]], np.int64)
    t_out = INT_CASES[name](torch, torch.tensor(data))
    e_out = INT_CASES[name](ember, ember.tensor(data))
    t_out = t_out if isinstance(t_out, tuple | list) else (t_out,)
    e_out = e_out if isinstance(e_out, tuple | list) else (e_out,)
    assert len(t_out) == len(e_out)
    for t, e in zip(t_out, e_out):
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_int_pads_match_torch(mode):
    data = np.arange(10).reshape(1, 2, 5).astype(np.int32)
    tf = getattr(torch._C._nn, f"{'reflection' if mode == 'reflect' else 'replication'}_pad1d")
    ef = ember.reflect_pad if mode == "reflect" else ember.replicate_pad
    for pad in [(2, 1), (-1, 3), (3, -2)]:
        t, e = tf(torch.tensor(data), pad), ef(ember.tensor(data), pad)
        assert e.dtype == ember.int32
        np.testing.assert_array_equal(e.numpy(), t.numpy())


# --------------------------------------------------------------------------- errors vs torch
def _a(T):
    return T.ones(2, 3)


ERRORS = {
    "cat_sizes": lambda T: T.cat([_a(T), T.ones(3, 3)], 1),
    "cat_sizes_neg_dim": lambda T: T.cat([_a(T), T.ones(3, 3)], -1),
    "cat_ndim": lambda T: T.cat([_a(T), T.ones(2, 3, 4)]),
    "cat_empty_list": lambda T: T.cat([]),
    "cat_dim_range": lambda T: T.cat([_a(T), _a(T)], 2),
    "cat_0d": lambda T: T.cat([T.tensor(1.0), T.tensor(2.0)]),
    "cat_0d_after_empty": lambda T: T.cat([T.ones(0), T.tensor(2.0)]),
    "cat_non_tensor": lambda T: T.cat((_a(T), [1.0])),
    "cat_tensor_arg": lambda T: T.cat(_a(T)),
    "cat_empty_2d": lambda T: T.cat([_a(T), T.ones(0, 2)]),
    "stack_sizes": lambda T: T.stack([_a(T), T.ones(3, 3)]),
    "stack_empty": lambda T: T.stack([]),
    "stack_dim": lambda T: T.stack([_a(T), _a(T)], 3),
    "hstack_empty": lambda T: T.hstack([]),
    "vstack_empty": lambda T: T.vstack([]),
    "dstack_empty": lambda T: T.dstack([]),
    "column_stack_empty": lambda T: T.column_stack([]),
    "split_zero": lambda T: _a(T).split(0),
    "split_negative": lambda T: _a(T).split(-1),
    "split_sizes_sum": lambda T: _a(T).split([1, 2], 0),
    "split_sizes_negative": lambda T: T.ones(2, 5).split([2, -1], 1),
    "split_0d": lambda T: T.tensor(1.0).split(1),
    "split_dim": lambda T: _a(T).split(1, 5),
    "chunk_zero": lambda T: _a(T).chunk(0),
    "chunk_0d": lambda T: T.tensor(1.0).chunk(1),
    "tensor_split_zero": lambda T: _a(T).tensor_split(0),
    "tensor_split_0d": lambda T: T.tensor(1.0).tensor_split(1),
    "tensor_split_float": lambda T: _a(T).tensor_split(T.tensor([1.0]), 1),
    "tensor_split_2d": lambda T: _a(T).tensor_split(T.tensor([[1]]), 1),
    "unbind_0d": lambda T: T.tensor(1.0).unbind(),
    "unbind_dim": lambda T: _a(T).unbind(2),
    "narrow_length": lambda T: _a(T).narrow(0, 1, 5),
    "narrow_start": lambda T: _a(T).narrow(0, 3, 0),
    "narrow_start_neg": lambda T: _a(T).narrow(0, -3, 1),
    "narrow_negative_length": lambda T: _a(T).narrow(0, 1, -1),
    "narrow_0d": lambda T: T.tensor(1.0).narrow(0, 0, 1),
    "narrow_neg_dim": lambda T: _a(T).narrow(-1, 2, 5),
    "select_range": lambda T: _a(T).select(0, 5),
    "select_neg_range": lambda T: _a(T).select(0, -3),
    "select_neg_dim": lambda T: _a(T).select(-1, 5),
    "select_0d": lambda T: T.tensor(1.0).select(0, 0),
    "flip_dup": lambda T: T.flip(_a(T), (0, -2)),
    "fliplr_1d": lambda T: T.fliplr(T.ones(3)),
    "flipud_0d": lambda T: T.flipud(T.tensor(1.0)),
    "roll_align": lambda T: T.roll(_a(T), (1, 2), 0),
    "roll_align_none": lambda T: T.roll(_a(T), (1, 2)),
    "roll_dim": lambda T: T.roll(_a(T), 1, 5),
    "roll_0d_dim": lambda T: T.roll(T.tensor(1.0), 1, 0),
    "tril_1d": lambda T: T.ones(3).tril(),
    "triu_0d": lambda T: T.tensor(1.0).triu(),
    "diag_3d": lambda T: T.ones(2, 3, 4).diag(),
    "diag_0d": lambda T: T.tensor(1.0).diag(),
    "diagonal_same": lambda T: _a(T).diagonal(0, 0, 0),
    "diagonal_1d": lambda T: T.ones(3).diagonal(),
    "diag_embed_same": lambda T: T.diag_embed(_a(T), 0, -1, 2),
    "trace_3d": lambda T: T.ones(2, 3, 4).trace(),
    "trace_bool": lambda T: T.ones(2, 2, dtype=T.bool).trace(),
    "repeat_few": lambda T: _a(T).repeat(2),
    "repeat_negative": lambda T: _a(T).repeat(-1, 1),
    "tile_negative": lambda T: _a(T).tile(-1),
    "repeat_interleave_negative": lambda T: _a(T).repeat_interleave(-1),
    "repeat_interleave_tensor_negative": lambda T: _a(T).repeat_interleave(T.tensor([1, -2]), 0),
    "repeat_interleave_size": lambda T: _a(T).repeat_interleave(T.tensor([1, 2, 3]), 0),
    "repeat_interleave_2d": lambda T: _a(T).repeat_interleave(T.tensor([[1, 2]]), 0),
    "repeat_interleave_float": lambda T: _a(T).repeat_interleave(T.tensor([1.0, 2.0]), 0),
    "repeat_interleave_output_size": lambda T: _a(T).repeat_interleave(2, 0, output_size=3),
    "repeat_interleave_output_size_t": lambda T: _a(T).repeat_interleave(
        T.tensor([1, 2]), 0, output_size=4
    ),
    "repeat_interleave_0d_dim": lambda T: T.tensor(1.0).repeat_interleave(2, 0),
    "unfold_size": lambda T: _a(T).unfold(1, 4, 1),
    "unfold_step": lambda T: _a(T).unfold(1, 2, 0),
    "unfold_negative_size": lambda T: _a(T).unfold(1, -1, 1),
    "unfold_0d": lambda T: T.tensor(1.0).unfold(0, 2, 1),
    "meshgrid_indexing": lambda T: T.meshgrid(T.ones(2), T.ones(3), indexing="foo"),
    "meshgrid_dtype": lambda T: T.meshgrid(T.ones(2), T.ones(3, dtype=T.float64), indexing="ij"),
    "meshgrid_empty": lambda T: T.meshgrid(indexing="ij"),
    "broadcast_tensors": lambda T: T.broadcast_tensors(_a(T), T.ones(2, 3, 4)),
    "broadcast_shapes": lambda T: T.broadcast_shapes((2, 3), (4,)),
    "broadcast_shapes_negative": lambda T: T.broadcast_shapes((2, 3), (-1,)),
    "broadcast_shapes_negative_1": lambda T: T.broadcast_shapes((2, 1), (-1,)),
    "block_diag_3d": lambda T: T.block_diag(T.ones(2, 3, 4)),
    "cartesian_prod_2d": lambda T: T.cartesian_prod(T.ones(2, 2)),
    "take_range": lambda T: T.take(_a(T), T.tensor([10])),
    "take_neg_range": lambda T: T.take(_a(T), T.tensor([-7])),
    "take_float_index": lambda T: T.take(_a(T), T.tensor([1.0])),
    "constant_pad_odd": lambda T: T.constant_pad_nd(_a(T), (1,)),
    "constant_pad_long": lambda T: T.constant_pad_nd(_a(T), (1, 1, 1, 1, 1, 1)),
    "constant_pad_crop": lambda T: T.constant_pad_nd(_a(T), (-2, -2)),
    "constant_pad_crop_far": lambda T: T.constant_pad_nd(_a(T), (-4, 2)),
}


@needs_torch
@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert type(ee.value).__name__ == type(te.value).__name__, str(ee.value)
    assert str(ee.value).split("\n")[0] == str(te.value).split("\n")[0]


PAD_ERRORS = [
    ("reflect", (3, 1), (2, 3)),
    ("reflect", (1, 1, 2, 1), (1, 2, 3)),
    ("reflect", (1, 1, 1, 1, 2, 1), (1, 2, 2, 3)),
    ("reflect", (-3, 3), (2, 3)),
    ("reflect", (-1, -3), (2, 3)),
    ("reflect", (1, 1), (3,)),
    ("reflect", (1, 1), (2, 3, 4, 5)),
    ("reflect", (1, 1, 1, 1), (0, 2, 3)),
    ("replicate", (1, 1), (0, 3)),
    ("replicate", (1, 1), (2, 0)),
    ("replicate", (-1, -3), (2, 3)),
    ("replicate", (0, 0, -1, -3), (1, 2, 3)),
]


@needs_torch
@pytest.mark.parametrize("mode,pad,shape", PAD_ERRORS)
def test_pad_errors_match_torch(mode, pad, shape):
    k = len(pad) // 2
    tf = getattr(torch._C._nn, f"{'reflection' if mode == 'reflect' else 'replication'}_pad{k}d")
    ef = ember.reflect_pad if mode == "reflect" else ember.replicate_pad
    with pytest.raises(RuntimeError) as te:
        tf(torch.ones(shape), pad)
    with pytest.raises(RuntimeError) as ee:
        ef(ember.ones(shape), pad)
    assert str(ee.value) == str(te.value).split("\n")[0]


def test_meshgrid_2d_error():
    # torch prints the offending tensor with its C++ printer; ember with its repr
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor in the tensor list but got"):
        ember.meshgrid(ember.ones(2, 3), ember.ones(3), indexing="ij")


def test_pad_bool_and_length_errors():
    with pytest.raises(NotImplementedError, match="replication_pad1d"):
        ember.replicate_pad(ember.ones(2, 3, dtype=ember.bool), (1, 1))
    with pytest.raises(RuntimeError, match="padding size"):
        ember.reflect_pad(ember.ones(2, 3), (1,))


# --------------------------------------------------------------------------- behaviour vs torch
@needs_torch
def test_meshgrid_warns_once_without_indexing(monkeypatch):
    monkeypatch.setattr(shape_mod, "_meshgrid_warned", [False])
    a, b = ember.arange(2), ember.arange(3)
    with pytest.warns(UserWarning, match="required to pass the indexing argument"):
        x, y = ember.meshgrid(a, b)
    assert tuple(x.shape) == (2, 3)  # 'ij' by default
    ember.meshgrid(a, b)  # once per process, as torch: no second warning (warnings are errors)


@needs_torch
@pytest.mark.parametrize(
    "shapes",
    [((2,), (3, 1), (1, 1, 1)), (), ((),), (5, (2, 1)), ([3], ember.Size([2, 1])), ((0,), (1,))],
)
def test_broadcast_shapes(shapes):
    tshapes = [torch.Size(s) if isinstance(s, ember.Size) else s for s in shapes]
    r = ember.broadcast_shapes(*shapes)
    assert isinstance(r, ember.Size)
    assert tuple(r) == tuple(torch.broadcast_shapes(*tshapes))


@needs_torch
def test_shapes_and_identity_match_torch():
    for T in (torch, ember):
        a = T.ones(2, 3)
        assert T.broadcast_tensors(a, T.ones(3))[0] is a
        assert T.atleast_2d(a) is a
        assert T.atleast_1d() == ()
        assert tuple(T.block_diag().shape) == (1, 0)
        assert tuple(T.cat([T.ones(0), T.ones(0)], 5).shape) == (0,)
        assert [tuple(t.shape) for t in T.ones(2, 0).chunk(4, 1)] == [(2, 0)] * 4
        assert [tuple(t.shape) for t in T.ones(2, 5).tensor_split([1, 7, 3], 1)] == [
            (2, 1),
            (2, 4),
            (2, 0),
            (2, 2),
        ]
        assert [tuple(t.shape) for t in T.ones(2, 5).tensor_split(T.tensor(2), 1)] == [
            (2, 3),
            (2, 2),
        ]
        assert [tuple(t.shape) for t in T.ones(2, 5).tensor_split(indices=[1], dim=1)] == [
            (2, 1),
            (2, 4),
        ]
        assert [tuple(t.shape) for t in T.ones(2, 5).tensor_split(sections=2, dim=1)] == [
            (2, 3),
            (2, 2),
        ]
        assert tuple(T.tensor(1.0).unfold(0, 1, 1).shape) == (1,)
        assert tuple(T.ones(2, 3).unfold(1, 0, 1).shape) == (2, 4, 0)
        assert tuple(T.diag_embed(T.ones(3, 4), -1, 2, 0).shape) == (5, 3, 5)


@needs_torch
def test_cat_out_and_dtype():
    for T in (torch, ember):
        out = T.empty(0)
        r = T.cat([T.ones(2, 1), T.zeros(2, 2)], 1, out=out)
        assert r is out and tuple(out.shape) == (2, 3)
        assert T.cat([T.empty(0, dtype=T.float64), T.ones(2, 3)]).dtype == T.float64


GRAD_FN = {
    "cat": lambda T, x: T.cat([x, x]),
    "stack": lambda T, x: T.stack([x, x]),
    "hstack": lambda T, x: T.hstack([x, x]),
    "split": lambda T, x: x.split(2)[0],
    "split_sizes": lambda T, x: x.split([1, 3])[1],
    "chunk": lambda T, x: x.chunk(2)[0],
    "tensor_split": lambda T, x: x.tensor_split(2)[0],
    "unbind": lambda T, x: x.unbind()[0],
    "narrow": lambda T, x: x.narrow(0, 1, 2),
    "select": lambda T, x: x.select(0, 1),
    "flip": lambda T, x: x.flip(0),
    "roll": lambda T, x: x.roll(1),
    "tril": lambda T, x: x.tril(),
    "triu": lambda T, x: x.triu(),
    "diagonal": lambda T, x: x.diagonal(),
    "diag": lambda T, x: x.diag(),
    "diag_1d": lambda T, x: x.select(0, 0).diag(),
    "diag_embed": lambda T, x: x.diag_embed(),
    "trace": lambda T, x: x.trace(),
    "repeat": lambda T, x: x.repeat(2, 1),
    "tile": lambda T, x: x.tile(2),
    "repeat_interleave_t": lambda T, x: x.repeat_interleave(T.tensor([1, 2, 0, 1]), 0),
    "unfold": lambda T, x: x.unfold(1, 2, 1),
    "take": lambda T, x: T.take(x, T.tensor([1, 2])),
    "meshgrid": lambda T, x: T.meshgrid(x.select(0, 0), x.select(0, 1), indexing="ij")[0],
    "block_diag": lambda T, x: T.block_diag(x, x),
    "cartesian_prod": lambda T, x: T.cartesian_prod(x.select(0, 0), x.select(0, 1)),
    "constant_pad": lambda T, x: T.constant_pad_nd(x, (1, 2)),
}


@needs_torch
@pytest.mark.parametrize("name", GRAD_FN)
def test_grad_fn_names_match_torch(name):
    t = GRAD_FN[name](torch, torch.ones(4, 6, requires_grad=True))
    e = GRAD_FN[name](ember, ember.ones(4, 6, requires_grad=True))
    assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_pad_grad_fn_names(mode, k):
    shape = (1, 2) + (4,) * k
    name = f"{'reflection' if mode == 'reflect' else 'replication'}_pad{k}d"
    t = getattr(torch._C._nn, name)(torch.ones(shape, requires_grad=True), (1, 1) * k)
    ef = ember.reflect_pad if mode == "reflect" else ember.replicate_pad
    e = ef(ember.ones(shape, requires_grad=True), (1, 1) * k)
    assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__


# --------------------------------------------------------------------------- double backward
LINEAR = {
    "cat": (lambda x: ember.cat([x, x * 1.0], 1), (2, 3)),
    "stack": (lambda x: ember.stack([x, x], -1), (2, 3)),
    "split": (lambda x: x.split([1, 2], 1), (2, 3)),
    "unbind": (lambda x: x.unbind(1), (2, 3)),
    "narrow": (lambda x: x.narrow(1, 1, 2), (2, 3)),
    "select": (lambda x: x.select(0, 1), (2, 3)),
    "tensor_split": (lambda x: x.tensor_split(2, 1), (2, 3)),
    "flip": (lambda x: x.flip(0, 1), (2, 3)),
    "roll": (lambda x: x.roll((1, 2), (0, 1)), (2, 3)),
    "roll_flat": (lambda x: x.roll(4), (2, 3)),
    "tril": (lambda x: x.tril(), (3, 3)),
    "diagonal": (lambda x: x.diagonal(1), (3, 4)),
    "diag": (lambda x: x.diag(), (3, 4)),
    "diag_embed": (lambda x: x.diag_embed(-1), (2, 3)),
    "trace": (lambda x: x.trace(), (3, 4)),
    "repeat": (lambda x: x.repeat(2, 1, 2), (2, 3)),
    "repeat_interleave": (lambda x: x.repeat_interleave(ember.tensor([2, 0, 1]), 1), (2, 3)),
    "unfold": (lambda x: x.unfold(1, 3, 2), (2, 7)),
    "take": (lambda x: ember.take(x, ember.tensor([1, 1, -1])), (2, 3)),
    "block_diag": (lambda x: ember.block_diag(x, x), (2, 3)),
    "constant_pad": (lambda x: ember.constant_pad(x, (1, -1, 2, 0)), (2, 3)),
    "reflect_pad": (lambda x: ember.reflect_pad(x, (2, 1)), (2, 3)),
    "reflect_pad_neg": (lambda x: ember.reflect_pad(x, (-1, 2)), (2, 4)),
    "replicate_pad": (lambda x: ember.replicate_pad(x, (1, 3, 0, 2)), (1, 2, 3)),
}


@pytest.mark.parametrize("name", LINEAR)
def test_vjp_is_differentiable_in_cotangent(name):
    """For linear y = f(x): d/dcot <vjp(cot), v> = f(v), run through the tensor_np rules."""
    f, shape = LINEAR[name]
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal(shape), requires_grad=True)
    ys = f(x)
    ys = list(ys) if isinstance(ys, tuple) else [ys]
    cots = [ember.tensor(rng.standard_normal(tuple(y.shape)), requires_grad=True) for y in ys]
    (g,) = ember.autograd.grad(ys, [x], cots, create_graph=True)
    assert g.requires_grad
    v = rng.standard_normal(shape)
    (g * ember.tensor(v)).sum().backward()
    fv = f(ember.tensor(v))
    fv = list(fv) if isinstance(fv, tuple) else [fv]
    for c, e in zip(cots, fv):
        np.testing.assert_allclose(c.grad.numpy(), e.numpy(), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- segment sums
def test_segment_sum_matches_add_at():
    rng = np.random.default_rng(0)
    for idx in (np.array([2, 2, 0, 1, 2, 4]), np.array([3, 4, 5, 0, 0, 1, 2]), np.arange(5)):
        g = rng.standard_normal((2, idx.size, 3))
        ref = np.zeros((2, 6, 3))
        np.add.at(ref, (slice(None), idx), g)
        np.testing.assert_allclose(shape_mod._segment_sum(g, 1, idx, 6), ref)
