"""t[index], t[index] = v and in-place ops on views (CopySlices), checked against torch: values,
gradients, node names, which results are views, version counters and error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.ops.indexing import _accumulate
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is the oracle")

_X = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)

GETITEM = [
    "y[0]", "y[1:]", "y[:]", "y[...]", "y[None]", "y[0, 1:]", "y[0, 1, 2]", "y[True]", "y[False]",
    "y[T.tensor(1)]", "y[T.tensor(True)]", "y[[0, 1]]", "y[[0, 0, 2]]", "y[[0, 1], [1, 2]]",
    "y[0, :, [1, 2]]", "y[[0, 1], :, [1, 2]]", "y[:, [0, 1], [1, 2]]", "y[..., None, 0]",
    "y[T.tensor([[True, False, True, False]] * 3)]", "y[:, T.tensor([[True] * 5, [False] * 5] * 2)]",
    "y[np.array([0, 1])]", "y[[True, False, True]]", "y[[]]", "y[T.tensor([-3])]", "y[-3]",
    "y[0, ..., ...]", "y[:, None, [0, 1]]", "y[[0], None, [0, 1]]", "y[1, None, [0, 1]]",
    "y[T.tensor(1), [0, 1]]", "y[slice(T.tensor(1), None)]", "y[3:1]", "y[0, :]", "y[:, 0]",
    "y[0, ...]", "y[None, 0]", "y[0, None]", "y[:, :, :]", "y[0:3]", "y[..., :]",
    "y[1:3, ::2, [4, 0, 4]]", "y[[[0, 1], [2, 2]], 1:, [[1], [3]]]", "y[y > 0.3]",
    "y[:, [3, -1, 3], None, 1::2]", "y[[2, 2, 2], [1, 1, 1], [0, 0, 0]]",
    "y[..., [True, False, True, True, False]]", "y[[0, 1]][0]", "y[:, None, ..., None, 1]",
    "y[1][2][3]", "y[T.tensor([[0, 1], [1, 2]])]", "y[T.tensor(2), 1:, T.tensor([0, 2])]",
    "y[(0, 1)]", "y[T.tensor([1, 0], dtype=T.int32)]",
]  # fmt: skip

GETITEM_ERRORS = [
    "y[::-1]", "y[5]", "y[0, 5]", "y[T.tensor([5])]", "y[T.tensor([0.0])]", "y[1.0]",
    "y[0, 0, 0, 0]", "y[T.tensor([True, False])]", "y[[0, 1], [0, 1, 2]]", "y[-4]",
    "y[T.tensor([-4])]", "y[0:3:0]", "y[:, T.tensor([[True, False, True, False]] * 3)]",
    "y[0, T.tensor([5])]", "y[:, :, T.tensor([7])]", "y[T.tensor([1]), T.tensor([7])]",
    "T.tensor(5.0)[0]", "T.tensor(5.0)[T.tensor([0])]",
]  # fmt: skip


def _run(lib, expr, x):
    return eval(expr, {"y": x * 1, "T": lib, "np": np})


def _is_view(lib, r):
    return (r._base is not None) if lib is torch else (r._base_tensor is not None)


@needs_torch
@pytest.mark.parametrize("expr", GETITEM)
def test_getitem_matches_torch(expr):
    xt, xe = torch.tensor(_X, requires_grad=True), ember.tensor(_X, requires_grad=True)
    rt, re = _run(torch, expr, xt), _run(ember, expr, xe)
    assert tuple(re.shape) == tuple(rt.shape)
    np.testing.assert_array_equal(re.detach().numpy(), rt.detach().numpy())
    assert type(re.grad_fn).__name__ == type(rt.grad_fn).__name__
    assert _is_view(ember, re) == _is_view(torch, rt)
    cot = np.random.default_rng(1).standard_normal(tuple(rt.shape)).astype(np.float32)
    rt.backward(torch.tensor(cot))
    re.backward(ember.tensor(cot))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("expr", GETITEM_ERRORS)
def test_getitem_errors_match_torch(expr):
    with pytest.raises(Exception) as et:
        _run(torch, expr, torch.tensor(_X))
    with pytest.raises(type(et.value)) as ee:
        _run(ember, expr, ember.tensor(_X))
    assert str(ee.value) == str(et.value)


def test_list_of_lists_index_warns_like_torch():
    x = ember.arange(12.0).reshape(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional indexing"):
        r = x[[[0, 1], [1, 2]]]
    assert r.tolist() == [1.0, 6.0]


def test_uint8_mask_warns():
    x = ember.arange(3.0)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        r = x[ember.tensor([1, 0, 1], dtype=ember.uint8)]
    assert r.tolist() == [0.0, 2.0]


def test_basic_index_is_a_view_sharing_version():
    x = ember.zeros(3, 4)
    v = x[1, ::2]
    v2 = x[[0]]
    assert v._base_tensor is x and v2._base_tensor is None
    x[1, 0] = 5.0
    assert v.tolist() == [5.0, 0.0] and v2.tolist() == [[0.0] * 4]
    assert x._version == 1 and v._version == 1


def test_view_of_view_points_at_root():
    x = ember.zeros(3, 4)
    assert x[1:][0]._base_tensor is x


# --------------------------------------------------------------------------- setitem / in-place
SETITEM_CASES = {
    "x0_mul": lambda T, a, b: (lambda x: (x[0].mul_(2), x)[1])(a.clone()),
    "view_add": lambda T, a, b: (lambda x: (x.view(-1).add_(1), x)[1])(a.clone()),
    "col_iadd": lambda T, a, b: (lambda x: (x[:, 1].__iadd__(b), x)[1])(a.clone()),
    "col_set_expr": lambda T, a, b: (lambda x: (x.__setitem__((slice(None), 1), x[:, 1] + b), x)[1])(a.clone()),
    "set_scalar": lambda T, a, b: (lambda x: (x.__setitem__(0, 5.0), x)[1])(a.clone()),
    "set_adv": lambda T, a, b: (lambda x: (x.__setitem__([0, 2], b[:1].exp()[None].expand(2, 4)), x * x)[1])(a.clone()),
    "set_adv_col": lambda T, a, b: (lambda x: (x.__setitem__((slice(None), [1, 3]), b[:, None] * 2), x * x)[1])(a.clone()),
    "set_mask": lambda T, a, b: (lambda x: (x.__setitem__(x > 0, 0.0), x * x)[1])(a.clone()),
    "set_mask_tensor": lambda T, a, b: (lambda x: (x.__setitem__(a > 0, b.sum()), x * x)[1])(a.clone()),
    "set_mixed": lambda T, a, b: (lambda x: (x.__setitem__((1, [0, 2]), b[:2]), x * x)[1])(a.clone()),
    "buffer": lambda T, a, b: (lambda x: (x.__setitem__(1, b.sum() * a[1]), x.__setitem__((slice(None), 0), b), x * x)[2])(T.zeros(3, 4)),
    "sibling_overlap": lambda T, a, b: (lambda x: (lambda v1: (x[0].mul_(3), v1 * v1)[1])(x[:, 0]))(a.clone()),
    "view_of_view": lambda T, a, b: (lambda x: (lambda v: (v[1].add_(b[1]), v.sum() + (x * x).sum())[1])(x[1:]))(a.clone()),
    "chain": lambda T, a, b: (lambda x: (x[0].mul_(2), x[:, 1].add_(b), x[1:, 2:].exp_(), x * x)[-1])(a.clone()),
    "setitem_on_view": lambda T, a, b: (lambda x: (lambda v: (v.__setitem__(0, b[1] * 2), v * 1 + x.sum())[1])(x[1:]))(a.clone()),
    "adv_on_view": lambda T, a, b: (lambda x: (lambda v: (v.__setitem__([0, 0], b[1] * 2), v * 1 + x.sum())[1])(x[:, 1:]))(a.clone()),
    "unsqueeze_inplace": lambda T, a, b: (lambda x: (x.unsqueeze(0)[0, 1].sub_(b[0]), x)[1])(a.clone()),
    "transpose_copy": lambda T, a, b: (lambda x: (x.t()[1].copy_(b), x * x)[1])(a.clone()),
    "noncontiguous_base": lambda T, a, b: (lambda x: (x[0].add_(b[0]), x * x)[1])(a.t().contiguous().t().clone()),
    "scalar_view": lambda T, a, b: (lambda x: (x[1, 2].mul_(3), x[2, 1].add_(b[0]), x)[2])(a.clone()),
    "fortran_base": lambda T, a, b: (lambda x: (x[0].add_(b[1]), x[:, 1:3].mul_(2), x * x)[2])(a * 1),
    "setitem_leading_ones": lambda T, a, b: (lambda x: (x.__setitem__(0, b[None, :1].expand(1, 4) * 3), x)[1])(a.clone()),
    "setitem_cast_value": lambda T, a, b: (lambda x: (x.__setitem__(2, b[:1].double()), x)[1])(a.clone()),
    "index_add_on_view": lambda T, a, b: (lambda x: (x[1:].index_add_(1, T.tensor([0, 0, 3]), b[:2, None].expand(2, 3)), x * x)[1])(a.clone()),
    "masked_fill_on_view": lambda T, a, b: (lambda x: (x[:, :2].masked_fill_(a[:, :2] > 0, 1.5), x * x)[1])(a.clone()),
}  # fmt: skip


@needs_torch
@pytest.mark.parametrize("name", list(SETITEM_CASES))
def test_setitem_and_view_inplace_match_torch(name):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 4)).astype(np.float32)
    B = rng.standard_normal((3,)).astype(np.float32)
    f = SETITEM_CASES[name]
    res = {}
    for lib in (torch, ember):
        a, b = lib.tensor(A, requires_grad=True), lib.tensor(B, requires_grad=True)
        if lib is ember and name == "fortran_base":  # a base whose storage is column-major
            a._data = np.asfortranarray(A)
        out = f(lib, a, b)
        cot = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32)
        out.backward(lib.tensor(cot))
        grads = [None if t.grad is None else t.grad.numpy() for t in (a, b)]
        res[lib] = (out.detach().numpy().copy(), grads, type(out.grad_fn).__name__)
    (ot, gt, nt), (oe, ge, ne) = res[torch], res[ember]
    np.testing.assert_allclose(oe, ot, rtol=1e-5, atol=1e-6)
    for t_, e_ in zip(gt, ge):
        if t_ is None:
            assert e_ is None or not e_.any()
        else:
            np.testing.assert_allclose(e_, t_, rtol=1e-5, atol=1e-6)
    assert ne == nt


def test_base_grad_fn_after_inplace_on_view():
    a = ember.randn(3, 4, requires_grad=True)
    x = a.clone()
    v = x[0]
    v.mul_(2)
    assert type(x.grad_fn).__name__ == "CopySlices"
    assert type(v.grad_fn).__name__ == "AsStridedBackward0"
    assert x._version == 1 and v._version == 1


def test_setitem_grad_fn_names():
    a = ember.randn(3, 4, requires_grad=True)
    x = a.clone()
    x[[0, 1]] = 1.0
    assert type(x.grad_fn).__name__ == "IndexPutBackward0"
    x = a.clone()
    x[0] = 1.0
    assert type(x.grad_fn).__name__ == "CopySlices"
    x = a.clone()
    x[0, [0, 1]] = 1.0
    assert type(x.grad_fn).__name__ == "CopySlices"


def test_setitem_on_leaf_requiring_grad():
    a = ember.randn(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        a[0] = 1.0
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
        a[[0]] = 1.0
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        a[0].mul_(2)
    with ember.no_grad():
        a[0] = 1.0
        a[[1]] = 2.0
    assert a._version == 2 and a.grad_fn is None and a.requires_grad
    assert a[0].tolist() == [1.0] * 4 and a[1].tolist() == [2.0] * 4


def test_setitem_version_counter():
    x = ember.zeros(3, 4)
    v = x[1:]
    for k, idx in enumerate([0, (slice(None), 1), [0, 2], x > 5, (1, [0, 3])]):
        x[idx] = 1.0
        assert x._version == k + 1 == v._version


def test_saved_tensor_checks_see_setitem():
    a = ember.randn(3, requires_grad=True)
    x = a.clone()
    y = x.exp()  # saves its output, not x
    z = x * x  # saves x
    x[0] = 2.0
    y.sum().backward()  # fine
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


@needs_torch
@pytest.mark.parametrize(
    "expr",
    [
        "z.__setitem__(0, T.ones(3))", "z.__setitem__([0, 1], T.ones(3))",
        "z.__setitem__(0, T.ones(2, 4))", "z.__setitem__(slice(None), 'a')",
        "z.__setitem__(5, 1)", "z.__setitem__(T.tensor([5]), 1)",
        "z.__setitem__([0], T.tensor([1.0], dtype=T.float64))",
        "z.__setitem__((0, [0]), T.tensor([1.0], dtype=T.float64))",
    ],
)  # fmt: skip
def test_setitem_errors_match_torch(expr):
    with pytest.raises(Exception) as et:
        eval(expr, {"z": torch.zeros(3, 4), "T": torch})
    with pytest.raises(type(et.value)) as ee:
        eval(expr, {"z": ember.zeros(3, 4), "T": ember})
    assert str(ee.value) == str(et.value)


@needs_torch
@pytest.mark.parametrize(
    "expr",
    [
        "z.__setitem__(0, T.ones(1, 4))", "z.__setitem__([0], T.ones(1, 1, 4))",
        "z.__setitem__(0, T.ones(4, dtype=T.float64))", "z.__setitem__(0, T.arange(4))",
        "z.__setitem__(z > 5, T.tensor([1.0], dtype=T.float64))", "z.__setitem__(z > 5, 1)",
        "z.__setitem__(z > 5, T.tensor(2))", "z.__setitem__([0, 0], T.tensor([[1.0, 2, 3, 4], [5, 6, 7, 8]])[1:])",
        "z.__setitem__(Ellipsis, 3.0)", "z.__setitem__(None, 3.0)", "z.__setitem__((None, 0), T.ones(1, 4))",
        "z.__setitem__((None, [0]), T.ones(1, 4))", "z.__setitem__((slice(None), [1, 2]), T.tensor([[7.0], [8], [9]]))",
        "z.__setitem__((slice(1, None), slice(None, None, 2)), T.tensor([3.0, 4.0]))",
        "z.int().__setitem__(0, 2.7)", "z.bool().__setitem__(1, 2)",
    ],
)  # fmt: skip
def test_setitem_values_match_torch(expr):
    zt, ze = torch.arange(12.0).reshape(3, 4), ember.arange(12.0).reshape(3, 4)
    eval(expr, {"z": zt, "T": torch})
    eval(expr, {"z": ze, "T": ember})
    np.testing.assert_array_equal(ze.numpy(), zt.numpy())
    assert ze._version == zt._version


# --------------------------------------------------------------------------- other ops
OP_CALLS = [
    "y.gather(1, T.tensor([[0, 3, 3], [1, 1, 0], [2, 0, 0]]))",
    "y.scatter(0, T.tensor([[0, 1, 2, 0]]), 2.5)",
    "y.scatter(1, T.tensor([[0, 1], [2, 3], [3, 3]]), T.arange(6.0).reshape(3, 2))",
    "y.scatter_add(1, T.tensor([[0, 0, 0], [1, 3, 3], [2, 2, 2]]), T.ones(3, 3))",
    "y.scatter(1, T.tensor([[0, 0], [1, 3], [2, 2]]), 3.0, reduce='multiply')",
    "y.scatter_reduce(1, T.tensor([[0, 0, 1], [3, 3, 3], [2, 2, 0]]), T.arange(9.0).reshape(3, 3), 'amax', include_self=False)",
    "y.scatter_reduce(0, T.tensor([[0, 0, 1, 2], [0, 2, 2, 2]]), T.arange(8.0).reshape(2, 4) - 3, 'prod')",
    "y.scatter_reduce(0, T.tensor([[0, 0, 1, 2], [0, 2, 2, 2]]), T.arange(8.0).reshape(2, 4) - 3, 'mean', include_self=False)",
    "y.int().scatter_reduce(1, T.tensor([[0, 0]]), T.tensor([[-3, -4]], dtype=T.int32), 'mean', include_self=False)",
    "y.index_select(1, T.tensor([3, 0, 3]))", "y.index_select(1, T.tensor(2))",
    "y.index_add(0, T.tensor([2, 2]), T.ones(2, 4), alpha=-2)",
    "y.index_copy(1, T.tensor([0, 2]), T.zeros(3, 2))", "y.index_fill(1, T.tensor([-1, 0]), 7.0)",
    "y.index_fill(0, T.tensor(1), T.tensor(7.0))",
    "y.index_put((T.tensor([0, 0]), T.tensor([1, 1])), T.tensor(1.0), accumulate=True)",
    "y.index_put((T.tensor([True, False, True]),), T.tensor([1.0, 2, 3, 4]))",
    "y.masked_fill(y > 5, -1.0)", "y.masked_fill(T.tensor([[True], [False], [True]]).unsqueeze(0), 1.0)",
    "y.int().masked_fill(y > 3, 2.7)", "y.masked_scatter(y > 4, T.arange(20.0))",
    "T.masked_select(y, T.tensor([True, False, True, False]))",
    "T.take(y, T.tensor([[0, 11], [-1, 3]]))", "T.take_along_dim(y, T.tensor([[0, 1]]), 1)",
    "T.take_along_dim(y, T.tensor([0, 11]))", "T.nonzero(y > 4)", "T.argwhere(y > 4)",
    "T.nonzero(y > 4, as_tuple=True)", "T.nonzero(T.tensor(1.0), as_tuple=True)", "T.nonzero(T.tensor(0.0))",
    "T.where(y > 4)", "y.put(T.tensor([0, 0]), T.tensor([1.0, 2.0]), accumulate=True)",
    "y.put(T.tensor([-1, 0]), T.tensor([1.0, 2.0]))", "T.tensor(5.0).gather(0, T.tensor([0, 0]))",
    "T.tensor(5.0).index_select(0, T.tensor([0]))", "T.tensor(5.0).take(T.tensor(0))",
    "T.tensor(5.0).masked_fill(T.tensor(True), 1)", "T.tensor(5.0).index_fill(0, T.tensor([0]), 1)",
    "T.zeros(3).index_select(0, T.tensor([], dtype=T.int64))",
    "y.clone().index_put_((T.tensor([1, 1, 2]),), T.ones(4), accumulate=True)",
    "y.clone().put_(T.tensor([[0, 1]]), T.tensor([[1.0], [2.0]]))",
    "y.clone().masked_scatter_(T.tensor([[True], [False], [True]]), T.arange(12.0) * 2)",
    "y.clone().scatter_(1, T.tensor([[0, 1]]), -1.0)", "T.zeros(3).scatter_(0, T.tensor([1]), T.tensor(1.5))",
    "y.scatter_reduce(0, T.tensor([[0, 0]]), T.tensor([[-5.0, 50]]), 'max')",
    "y.clone().scatter_reduce_(1, T.tensor([[0, 0, 1]]), T.tensor([[1.0, 2, 3]]), 'sum', include_self=False)",
    "y.t().clone().t().put_(T.tensor([1, 4]), T.tensor([-1.0, -2.0]))",
]  # fmt: skip


@needs_torch
@pytest.mark.parametrize("expr", OP_CALLS)
def test_ops_match_torch(expr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rt = eval(expr, {"y": torch.arange(12.0).reshape(3, 4), "T": torch})
        re = eval(expr, {"y": ember.arange(12.0).reshape(3, 4), "T": ember})
    rts, res = (rt, re) if isinstance(rt, tuple) else ((rt,), (re,))
    assert len(rts) == len(res)
    for t_, e_ in zip(rts, res):
        assert str(e_.dtype).split(".")[-1] == str(t_.dtype).split(".")[-1]
        assert tuple(e_.shape) == tuple(t_.shape)
        np.testing.assert_allclose(e_.numpy(), t_.numpy())


OP_ERRORS = [
    "y.gather(1, T.tensor([[0], [4]]))", "y.gather(1, T.tensor([0, 1]))",
    "y.gather(1, T.tensor([[0.0]]))", "y.gather(1, T.tensor([[0]] * 4))", "y.gather(2, T.tensor([[0]]))",
    "y.gather(1, T.tensor([[-1]]))", "y.scatter(0, T.tensor([[0, 1]]), T.ones(2, 2, dtype=T.float64))",
    "y.scatter(0, T.tensor([[0, 1, 2]]), T.ones(1, 2))", "y.scatter(0, T.tensor([[5]]), 1.0)",
    "y.scatter(0, T.tensor([[0]]), T.ones(1, 1), reduce='foo')",
    "y.scatter_reduce(0, T.tensor([[0]]), T.ones(1, 1), 'add')",
    "y.clone().scatter_(1, T.tensor([[0, 1]]), T.tensor(-1.0))",
    "T.zeros(3).scatter_(0, T.tensor([[0]]), T.tensor([[1.5]]))",
    "y.index_select(1, T.tensor([[2]]))", "y.index_select(1, T.tensor([5]))",
    "y.index_select(1, T.tensor([0.0]))", "y.index_select(1, T.tensor([-1]))",
    "y.index_add(1, T.tensor([0, 0]), T.ones(3, 3))", "y.index_add(1, T.tensor([0, 9]), T.ones(3, 2))",
    "y.index_add(1, T.tensor([[0]]), T.ones(3, 1))", "y.index_add(1, T.tensor([0]), T.ones(2, 1))",
    "y.index_add(1, T.tensor([0, 1]), T.ones(3, 2, dtype=T.float64))",
    "y.index_copy(1, T.tensor([7]), T.ones(3, 1))", "y.index_copy(1, T.tensor([[0]]), T.ones(3, 1))",
    "y.index_copy(1, T.tensor([0]), T.ones(3, 2))", "y.index_copy(1, T.tensor([0]), T.ones(3, 1, dtype=T.float64))",
    "y.index_fill(1, T.tensor([0, 2]), T.tensor([2.0]))", "y.index_fill(1, T.tensor([[0]]), 1)",
    "y.index_fill(1, T.tensor([7]), 0.0)", "y.index_fill(1, T.tensor([0.0]), 0.0)",
    "y.index_put((T.tensor([0, 0]),), T.ones(4, dtype=T.float64))",
    "y.index_put((T.tensor([0, 5]),), T.ones(4))", "y.index_put((T.tensor([0, 1]),), T.ones(3))",
    "y.index_put((T.tensor([0, 1]), T.tensor([0, 1, 1])), T.ones(2))",
    "y.index_put((T.tensor([0]), T.tensor([0]), T.tensor([0])), T.ones(1))",
    "y.index_put((T.tensor([0.0]),), T.ones(1))",
    "y.masked_fill(y > 0, T.tensor([1.0]))", "y.masked_fill(y, 1.0)", "y.masked_fill((y > 0).int(), 1.0)",
    "y.masked_fill(T.ones(3, 4, dtype=T.int64), 0.0)", "y.masked_fill(T.ones(3, 4, dtype=T.uint8), 0.0)",
    "T.zeros(3, 2).masked_fill_(T.tensor([True, False, True]), 1.0)",
    "T.zeros(1, 2).masked_fill_(T.tensor([[True], [False]]), 1.0)",
    "y.masked_scatter(y > 0, T.arange(1.0))", "y.masked_scatter(T.ones(3, 4, dtype=T.uint8), y)",
    "y.masked_scatter(y > 0, T.arange(12.0, dtype=T.float64))",
    "y.masked_select(T.ones(3, 4, dtype=T.int64))", "T.take(y, T.tensor([12]))",
    "T.take(y, T.tensor([0], dtype=T.int32))", "y.take_along_dim(T.tensor([0]), 0)",
    "y.put(T.tensor([0, 1]), T.tensor([1.0]))", "T.arange(4).put(T.tensor([0]), T.tensor([1.0]))",
    "y.put_(T.tensor([20]), T.tensor([1.0]))",
]  # fmt: skip


@needs_torch
@pytest.mark.parametrize("expr", OP_ERRORS)
def test_op_errors_match_torch(expr):
    with pytest.raises(Exception) as et:
        eval(expr, {"y": torch.arange(12.0).reshape(3, 4), "T": torch})
    with pytest.raises(type(et.value)) as ee:
        eval(expr, {"y": ember.arange(12.0).reshape(3, 4), "T": ember})
    assert str(ee.value) == str(et.value)


def test_scatter_reduce_arg_warns_and_has_no_derivative():
    x = ember.zeros(3, requires_grad=True)
    src = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="reduce argument of torch.scatter with Tensor src"):
        y = x.scatter(0, ember.tensor([0, 0]), src, reduce="add")
    assert y.tolist() == [2.0, 0.0, 0.0]
    assert type(y.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        y.sum().backward()


def test_src_larger_than_index_gets_zero_grad_outside():
    src = ember.arange(12.0).reshape(3, 4).requires_grad_()
    x = ember.zeros(4, 4)
    y = x.scatter_add(0, ember.tensor([[0, 1], [3, 3]]), src)
    assert y[3].tolist() == [4.0, 5.0, 0.0, 0.0]
    y.sum().backward()
    exp = np.zeros((3, 4), np.float32)
    exp[:2, :2] = 1
    np.testing.assert_array_equal(src.grad.numpy(), exp)


@pytest.mark.parametrize(
    "name", ["index_add_", "index_copy_", "index_fill_", "masked_fill_", "scatter_", "put_"]
)
def test_inplace_ops_bump_version_and_respect_leaf_rule(name):
    calls = {
        "index_add_": lambda t: t.index_add_(0, ember.tensor([1]), ember.ones(1, 4)),
        "index_copy_": lambda t: t.index_copy_(0, ember.tensor([1]), ember.ones(1, 4)),
        "index_fill_": lambda t: t.index_fill_(1, ember.tensor([1]), 2.0),
        "masked_fill_": lambda t: t.masked_fill_(ember.tensor([True, False, False, True]), 2.0),
        "scatter_": lambda t: t.scatter_(1, ember.tensor([[1]]), 2.0),
        "put_": lambda t: t.put_(ember.tensor([1]), ember.tensor([2.0])),
    }
    t = ember.zeros(3, 4)
    assert calls[name](t) is t and t._version == 1 and t.sum().item() != 0
    leaf = ember.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        calls[name](leaf)
    with ember.no_grad():
        calls[name](leaf)
    assert leaf._version == 1


@pytest.mark.parametrize(
    ("shape", "index_shape", "rows"),
    [
        ((1000, 8), (50,), 1000),
        ((10, 3), (5000,), 10),
        ((100,), (20000,), 100),
        ((7, 6, 5), (4, 3), 6),
    ],
)
def test_accumulate_paths_match_add_at(shape, index_shape, rows):
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64, np.int64):
        idx = rng.integers(-rows, rows, index_shape)
        index = (idx,) if len(shape) < 3 else (slice(None), idx)
        vals_shape = (
            index_shape + shape[1:] if len(shape) < 3 else (shape[0],) + index_shape + shape[2:]
        )
        vals = (rng.standard_normal(vals_shape) * 10).astype(dtype)
        got, want = np.zeros(shape, dtype), np.zeros(shape, dtype)
        _accumulate(got, index, vals)
        np.add.at(want, index, vals)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_accumulate_separated_advanced_dims():
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, 3, (8,)), rng.integers(0, 5, (8,))
    vals = rng.standard_normal((8, 4))
    got, want = np.zeros((3, 4, 5)), np.zeros((3, 4, 5))
    _accumulate(got, (i, slice(None), j), vals)
    np.add.at(want, (i, slice(None), j), vals)
    np.testing.assert_allclose(got, want)


def test_create_graph_through_index_gradients():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x[[0, 0, 2]] ** 3).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [6.0, 0.0, 27.0]
    g.sum().backward()
    assert x.grad.tolist() == [12.0, 0.0, 18.0]
