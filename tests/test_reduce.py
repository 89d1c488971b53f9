"""Reductions, sorting and ember.linalg beyond the OpSpecs: named tuples, indices, dtypes, ties,
NaN handling, empty inputs and error messages (expected values are torch's; when torch is
installed the same calls are also run on it).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")
NAN = float("nan")


def _run(fn, lib, *arrays, rg=False):
    return fn(lib, *[lib.tensor(a, requires_grad=rg) for a in arrays])


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _same(e, t):
    """Compare an ember result with a torch one: tensors (values, dtype, shape) or tuples."""
    if isinstance(t, tuple):
        assert isinstance(e, tuple) and len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b)
        return
    if isinstance(t, torch.Tensor):
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(_np(e), _np(t), rtol=1e-5, atol=1e-6, equal_nan=True)
    else:
        assert e == t


# --------------------------------------------------------------------------- named tuples
def test_named_tuple_fields_and_unpacking():
    x = ember.tensor([[1.0, 3.0, 2.0], [4.0, 0.0, 4.0]])
    r = x.max(1)
    assert type(r).__name__ == "max" and type(r).__module__ == "ember.return_types"
    values, indices = r
    assert values is r.values and indices is r.indices and r[0] is values
    assert indices.dtype == ember.int64 and values.dtype == ember.float32
    assert r.indices.tolist() == [1, 0]  # ties: the first occurrence
    assert repr(r).startswith("torch.return_types.max(\nvalues=tensor(")
    mm = x.aminmax()
    assert mm.min.item() == 0.0 and mm.max.item() == 4.0 and mm._fields == ("min", "max")
    for name, res in [
        ("sort", x.sort()), ("topk", x.topk(1)), ("kthvalue", x.kthvalue(1)),
        ("median", x.median(1)), ("nanmedian", x.nanmedian(1)), ("mode", x.mode()),
        ("cummax", x.cummax(0)), ("cummin", x.cummin(1)), ("min", x.min(0)),
    ]:  # fmt: skip
        assert type(res).__name__ == name and res._fields == ("values", "indices")
        assert res.indices.dtype == ember.int64
    assert ember.ops.reduce.return_types.max is type(r)


def test_indices_are_not_differentiable():
    x = ember.tensor([[1.0, 3.0, 2.0], [4.0, 0.0, 5.0]], requires_grad=True)
    for r in (x.max(1), x.sort(), x.topk(2), x.cummax(1), x.median(1), x.kthvalue(2)):
        assert not r.indices.requires_grad and r.indices.grad_fn is None
        assert r.values.requires_grad


@needs_torch
def test_grad_fn_names_match_torch():
    calls = [
        lambda T, x: x.sum(), lambda T, x: x.nansum(), lambda T, x: x.prod(),
        lambda T, x: x.prod(1), lambda T, x: x.max(), lambda T, x: x.max(1).values,
        lambda T, x: x.min(), lambda T, x: x.amax(1), lambda T, x: x.amin(), lambda T, x: x.var(),
        lambda T, x: x.std(1), lambda T, x: x.norm(), lambda T, x: x.logsumexp(1),
        lambda T, x: x.cumsum(0), lambda T, x: x.cumprod(1), lambda T, x: x.cummax(1).values,
        lambda T, x: x.cummin(1).values, lambda T, x: x.sort().values,
        lambda T, x: x.topk(1).values, lambda T, x: x.kthvalue(1).values,
        lambda T, x: x.median(), lambda T, x: x.median(1).values, lambda T, x: x.mode().values,
        lambda T, x: x.nanmedian(), lambda T, x: T.linalg.vector_norm(x, 3),
        lambda T, x: T.linalg.inv(x[:, :2]), lambda T, x: T.linalg.det(x[:, :2]),
    ]  # fmt: skip
    a = np.array([[1.0, 3.0, 2.0], [4.0, 0.5, 5.0]])
    for fn in calls:
        e, t = _run(fn, ember, a, rg=True), _run(fn, torch, a, rg=True)
        assert e.grad_fn.name() == t.grad_fn.name()


# --------------------------------------------------------------------------- dtypes
def test_result_dtypes():
    i32 = ember.tensor([[1, 2], [3, 4]], dtype=ember.int32)
    b = ember.tensor([True, False, True])
    assert i32.sum().dtype == ember.int64 and b.sum().dtype == ember.int64
    assert i32.prod().dtype == ember.int64 and b.prod().dtype == ember.int64
    assert i32.cumsum(0).dtype == ember.int64 and b.cumprod(0).dtype == ember.int64
    assert i32.cumsum(0, dtype=ember.float32).dtype == ember.float32
    assert i32.nansum().dtype == ember.int64
    assert i32.max().dtype == ember.int32 and i32.amax(0).dtype == ember.int32
    assert i32.median().dtype == ember.int32 and i32.aminmax().max.dtype == ember.int32
    assert i32.argmax().dtype == ember.int64 and i32.count_nonzero().dtype == ember.int64
    assert i32.logsumexp(0).dtype == ember.float32
    assert b.max().dtype == ember.bool and b.sort().values.dtype == ember.bool
    assert i32.all().dtype == ember.bool and i32.any(0).dtype == ember.bool
    u8 = ember.tensor([1, 0], dtype=ember.uint8)
    assert u8.all().dtype == ember.uint8 and u8.any(0).dtype == ember.uint8  # as torch
    f = ember.tensor([1.0, 2.0])
    assert f.norm(dtype=ember.float64).dtype == ember.float64
    assert f.prod(0, dtype=ember.float64).dtype == ember.float64
    assert f.sum(dtype=ember.float64).dtype == ember.float64


# --------------------------------------------------------------------------- values and ties
CASES = {
    "max_dim_ties": lambda T, x: T.max(x, 1, keepdim=True),
    "min_dim": lambda T, x: x.min(0),
    "argmax_flat": lambda T, x: x.argmax(),
    "argmax_keepdim_none": lambda T, x: T.argmax(x, keepdim=True),
    "argmin_dim_keepdim": lambda T, x: x.argmin(1, keepdim=True),
    "sort_desc_ties": lambda T, x: x.sort(descending=True),
    "sort_stable": lambda T, x: T.sort(x, dim=0, stable=True),
    "argsort_desc": lambda T, x: x.argsort(descending=True),
    "msort": lambda T, x: x.msort(),
    "topk_sorted": lambda T, x: x.topk(1, 1),
    "cummax_ties": lambda T, x: x.cummax(1),
    "cummin_ties": lambda T, x: x.cummin(1),
    "median_lower": lambda T, x: x.median(),
    "median_dim": lambda T, x: x.median(0),
    "mode_ties": lambda T, x: x.mode(1),
    "aminmax_dim": lambda T, x: T.aminmax(x, dim=0, keepdim=True),
    "all_dims": lambda T, x: x.all(dim=(0, 1)),
    "any_dim": lambda T, x: T.any(x > 2, 1, keepdim=True),
    "count_nonzero_dims": lambda T, x: T.count_nonzero(x, dim=(0, 1)),
    "count_nonzero_dim": lambda T, x: x.count_nonzero(1),
    "unique": lambda T, x: T.unique(x),
    "unique_inverse_counts": lambda T, x: x.unique(return_inverse=True, return_counts=True),
    "unique_dim": lambda T, x: T.unique(x, return_inverse=True, return_counts=True, dim=0),
    "unique_consecutive": lambda T, x: T.unique_consecutive(
        x, return_counts=True, return_inverse=True
    ),
    "diff_bool": lambda T, x: (x > 2).diff(),
    "diff_int": lambda T, x: x.long().diff(dim=0),
    "var_unbiased_pos": lambda T, x: T.var(x, 0, False, True),
    "std_correction": lambda T, x: T.std(x, dim=1, correction=0.5),
    "var_mean_keepdim": lambda T, x: T.var_mean(x, 1, keepdim=True),
    "std_mean_legacy": lambda T, x: T.std_mean(x, False),
    "norm_p0": lambda T, x: x.norm(0),
    "logsumexp_int": lambda T, x: x.long().logsumexp(1),
    "prod_int": lambda T, x: x.int().prod(0),
    "sum_empty_dim": lambda T, x: x[:0].sum(0),
    "prod_empty": lambda T, x: x[:0].prod(),
    "amax_empty_ok": lambda T, x: x[:0].amax(1),
    "max_dim_empty_ok": lambda T, x: x[:0].max(1),
    "median_empty": lambda T, x: x[:0].median(),
    "sort_empty": lambda T, x: x[:0].sort(0),
    "nansum_empty": lambda T, x: x[:0].nansum(),
    "logsumexp_empty": lambda T, x: x[:0].logsumexp(0),
    "norm_empty": lambda T, x: x[:0].norm(),
    "max_0d_dim": lambda T, x: x[0, 0].max(0),
    "sort_0d": lambda T, x: x[0, 0].sort(),
    "topk_0d": lambda T, x: x[0, 0].topk(1),
    "kthvalue_0d": lambda T, x: x[0, 0].kthvalue(1),
    "argmax_0d": lambda T, x: x[0, 0].argmax(0),
    "cumsum_0d": lambda T, x: x[0, 0].cumsum(0),
    "count_nonzero_0d": lambda T, x: x[0, 0].count_nonzero(),
    "unique_0d": lambda T, x: x[0, 0].unique(return_inverse=True),
    "max_binary_promote": lambda T, x: T.max(x, T.tensor(2)),
}
X = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 3.0, 1.0, 3.0], [2.0, 0.0, 2.0, 5.0]], np.float32)


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_torch(name):
    fn = CASES[name]
    _same(_run(fn, ember, X), _run(fn, torch, X))


def test_ties_and_stability_without_torch():
    x = ember.tensor(X)
    assert x.max(1).indices.tolist() == [1, 1, 3]  # the first maximum
    assert x.sort(descending=True).indices[0].tolist() == [1, 2, 0, 3]  # stable
    assert x.cummax(1).indices[0].tolist() == [0, 1, 2, 2]  # ties move the index
    assert x.mode(1).values.tolist() == [3.0, 3.0, 2.0]
    assert x.mode(1).indices.tolist() == [2, 3, 2]  # the last occurrence
    assert x.median().item() == 2.0  # lower median of 12 values
    v, inv, cnt = x.unique(return_inverse=True, return_counts=True)
    assert v.tolist() == [0.0, 1.0, 2.0, 3.0, 5.0] and cnt.tolist() == [2, 2, 3, 4, 1]
    assert inv.shape == x.shape and inv.dtype == ember.int64


NAN_CASES = {
    "max_nan": lambda T, x: x.max(),
    "max_dim_nan": lambda T, x: x.max(1),
    "min_dim_nan": lambda T, x: x.min(1),
    "argmax_nan": lambda T, x: x.argmax(1),
    "amax_nan": lambda T, x: x.amax(0),
    "sort_nan": lambda T, x: x.sort(1),
    "sort_nan_desc": lambda T, x: x.sort(1, descending=True),
    "topk_nan": lambda T, x: (lambda r: (r.values, r.indices[[0, 2]]))(x.topk(2, 1)),  # NaN ties
    "median_nan": lambda T, x: x.median(1),
    "median_all_nan": lambda T, x: x.median(),
    "nanmedian": lambda T, x: (lambda r: (r.values, r.indices[[0, 2]]))(x.nanmedian(1)),
    "nanmedian_all": lambda T, x: x.nanmedian(),
    "cummax_nan": lambda T, x: x.cummax(1),
    "cummin_nan": lambda T, x: x.cummin(1),
    "nansum": lambda T, x: x.nansum(1),
    "nanmean": lambda T, x: x.nanmean(1),
    "all_nan": lambda T, x: x.all(1),
}
XN = np.array([[1.0, NAN, 0.0, NAN], [NAN, NAN, NAN, NAN], [3.0, 1.0, 2.0, 0.5]], np.float32)


@needs_torch
@pytest.mark.parametrize("name", sorted(NAN_CASES))
def test_nan_handling_matches_torch(name):
    fn = NAN_CASES[name]
    _same(_run(fn, ember, XN), _run(fn, torch, XN))


def test_nan_handling_without_torch():
    x = ember.tensor(XN)
    r = x.median(1)
    assert math.isnan(r.values[0].item()) and r.indices.tolist()[0] == 1  # the first NaN
    n = x.nanmedian(1)  # (torch's index for an all-NaN row is an artefact of its selection)
    assert n.values[0].item() == 0.0 and n.indices[0].item() == 2 and math.isnan(n.values[1])
    assert x.cummin(1).indices[0].tolist() == [0, 1, 1, 3]  # later NaNs move the index
    assert x.sort(1, descending=True).indices[2].tolist() == [0, 2, 1, 3]


# --------------------------------------------------------------------------- gradients
@needs_torch
@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: x.max(),  # ties share the gradient
        lambda T, x: x.max(1).values,  # ties: the selected index only
        lambda T, x: x.amin(1),
        lambda T, x: x.median(),
        lambda T, x: x.median(0).values,
        lambda T, x: x.norm(float("inf"), 1),
        lambda T, x: x.cummax(1).values,  # repeated indices accumulate
        lambda T, x: x.mode(1).values,
        lambda T, x: x.prod(),
        lambda T, x: x.cumprod(0),
        lambda T, x: x.std(0),
        lambda T, x: x.norm(dim=0),
    ],
)
def test_gradients_with_ties_and_zeros_match_torch(fn):
    a = np.array([[0.0, 3.0, 3.0, 0.0], [2.0, 3.0, 0.0, 3.0], [2.0, 0.0, 2.0, 5.0]])
    te, ee = torch.tensor(a, requires_grad=True), ember.tensor(a, requires_grad=True)
    yt, ye = fn(torch, te), fn(ember, ee)
    cot = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    (tg,) = torch.autograd.grad(yt, te, torch.tensor(cot))
    (eg,) = ember.autograd.grad(ye, ee, ember.tensor(cot))
    np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=1e-6, atol=1e-8)


def test_max_all_ties_split_evenly_without_torch():
    x = ember.tensor([[1.0, 5.0], [5.0, 2.0]], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [[0.0, 0.5], [0.5, 0.0]]
    y = ember.tensor([[1.0, 5.0], [5.0, 2.0]], requires_grad=True)
    y.max(1).values.sum().backward()
    assert y.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_prod_gradient_with_zeros():
    x = ember.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 24.0, 0.0, 0.0]
    y = ember.tensor([[2.0, 0.0, 0.0], [1.0, 2.0, 3.0]], requires_grad=True)
    y.prod(1).sum().backward()
    assert y.grad.tolist() == [[0.0, 0.0, 0.0], [6.0, 3.0, 2.0]]
    z = ember.tensor([2.0, 0.0, 3.0], requires_grad=True)
    z.cumprod(0).sum().backward()
    assert z.grad.tolist() == [1.0, 8.0, 0.0]  # d/dx1 (2 x1 + 2 x1 x2) = 2 + 6


def test_norm_gradient_at_zero_is_zero():
    x = ember.zeros(3, requires_grad=True)
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    y = ember.zeros(3, requires_grad=True)
    y.std().backward()
    assert y.grad.tolist() == [0.0, 0.0, 0.0]


@needs_torch
def test_det_of_singular_matrix_float64_matches_torch():
    a = np.array([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.0, 1.0, 1.5]])
    fn = lambda T, x: T.linalg.det(x)  # noqa: E731
    te, ee = torch.tensor(a, requires_grad=True), ember.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad(fn(torch, te), te, create_graph=True)
    (eg,) = ember.autograd.grad(fn(ember, ee), ee, create_graph=True)
    np.testing.assert_allclose(eg.detach().numpy(), tg.detach().numpy(), atol=1e-10)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), te)
    (egg,) = ember.autograd.grad((eg * eg).sum(), ee)
    np.testing.assert_allclose(egg.numpy(), tgg.numpy(), atol=1e-8)


# --------------------------------------------------------------------------- errors
ERRORS = [
    (lambda T: T.zeros(0, 3).max(), RuntimeError, "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."),
    (lambda T: T.zeros(0, 3).min(), RuntimeError, "min(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."),
    (lambda T: T.zeros(0, 3).amax(), RuntimeError, "amax(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."),
    (lambda T: T.zeros(0, 3).max(0), IndexError, "max(): Expected reduction dim 0 to have non-zero size."),
    (lambda T: T.zeros(3, 0, 2).amax((2, 1)), IndexError, "amax(): Expected reduction dim 1 to have non-zero size."),
    (lambda T: T.zeros(0, 3).amin(0), IndexError, "amin(): Expected reduction dim 0 to have non-zero size."),
    (lambda T: T.zeros(0, 3).argmax(), IndexError, "argmax(): Expected reduction dim to be specified for input.numel() == 0."),
    (lambda T: T.zeros(0, 3).argmin(0), IndexError, "argmin(): Expected reduction dim 0 to have non-zero size."),
    (lambda T: T.zeros(0, 3).aminmax(), RuntimeError, "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."),
    (lambda T: T.zeros(0, 3).aminmax(dim=0), IndexError, "aminmax: Expected reduction dim 0 to have non-zero size."),
    (lambda T: T.zeros(0, 3).median(0), IndexError, "median(): Expected reduction dim 0 to have non-zero size."),
    (lambda T: T.zeros(0, 3).kthvalue(1, 0), IndexError, "kthvalue(): Expected reduction dim 0 to have non-zero size."),
    (lambda T: T.zeros(0, 3).mode(0), IndexError, "mode(): Expected reduction dim 0 to have non-zero size."),
    (lambda T: T.ones(3).kthvalue(4), RuntimeError, "kthvalue(): selected number k out of range for dimension 0"),
    (lambda T: T.ones(3).topk(4), RuntimeError, "selected index k out of range"),
    (lambda T: T.ones(3, 2).sum(dim=(0, 0)), RuntimeError, "dim 0 appears multiple times in the list of dims"),
    (lambda T: T.ones(3, 2).max(2), IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda T: T.tensor(3.0).max(1), IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    (lambda T: T.ones(3, dtype=T.long).var(), RuntimeError, "std and var only support floating point and complex dtypes"),
    (lambda T: T.ones(3, dtype=T.long).mean(), RuntimeError, "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long"),
    (lambda T: T.ones(3, dtype=T.int32).nanmean(), RuntimeError, "nanmean(): expected input to have floating point or complex dtype but got Int"),
    (lambda T: T.ones(3, dtype=T.long).norm(), RuntimeError, "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"),
    (lambda T: T.zeros(0, 3).norm(float("inf")), RuntimeError, "linalg.vector_norm cannot compute the inf norm on an empty tensor because the operation does not have an identity"),
    (lambda T: T.linalg.vector_norm(T.zeros(0, 3), float("-inf"), dim=0), RuntimeError, "linalg.vector_norm cannot compute the -inf norm on the dimension 0because this dimension is empty and the operation does not have an identity"),
    (lambda T: T.ones(2, 2).norm(p="abc"), RuntimeError, "linalg.matrix_norm: Order abc not supported."),
    (lambda T: T.ones(2, 2).norm(p="nuc", dim=1), RuntimeError, "linalg.matrix_norm: dim must be a 2-tuple. Got 1"),
    (lambda T: T.linalg.matrix_norm(T.ones(2, 2, 2), dim=(0, 1, 2)), RuntimeError, "linalg.matrix_norm: dim must be a 2-tuple. Got 0 1 2"),
    (lambda T: T.linalg.matrix_norm(T.ones(2, 2, 2), dim=(0, 0)), RuntimeError, "linalg.matrix_norm: dims must be different. Got (0, 0)"),
    (lambda T: T.linalg.matrix_norm(T.eye(2), 3), RuntimeError, "linalg.matrix_norm: Order 3 not supported."),
    (lambda T: T.linalg.matrix_norm(T.ones(2)), RuntimeError, "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."),
    (lambda T: T.linalg.norm(T.ones(2, 2, 2), ord=3), RuntimeError, "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got 3D."),
    (lambda T: T.linalg.inv(T.tensor([[1.0, 2.0], [2.0, 4.0]])), RuntimeError, "linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because the input matrix is singular."),
    (lambda T: T.linalg.inv(T.stack([T.eye(2), T.tensor([[1.0, 2.0], [2.0, 4.0]])])), RuntimeError, "linalg.inv: (Batch element 1): The diagonal element 2 is zero, the inversion could not be completed because the input matrix is singular."),
    (lambda T: T.linalg.inv(T.ones(2, 3)), RuntimeError, "linalg.inv: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (lambda T: T.linalg.inv(T.ones(3)), RuntimeError, "linalg.inv: The input tensor A must have at least 2 dimensions."),
    (lambda T: T.linalg.inv(T.ones(2, 2, dtype=T.long)), RuntimeError, "linalg.inv: Expected a floating point or complex tensor as input. Got Long"),
    (lambda T: T.linalg.det(T.ones(2, 3)), RuntimeError, "linalg.det: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (lambda T: T.linalg.solve(T.tensor([[1.0, 2.0], [2.0, 4.0]]), T.ones(2)), RuntimeError, "torch.linalg.solve: The solver failed because the input matrix is singular."),
    (lambda T: T.linalg.solve(T.eye(2), T.ones(3)), RuntimeError, "linalg.solve: Incompatible shapes of A and B for the equation AX = B (2x2 and 3x1)"),
    (lambda T: T.linalg.cholesky(T.tensor([[1.0, 2.0], [2.0, 1.0]])), RuntimeError, "linalg.cholesky: The factorization could not be completed because the input is not positive-definite (the leading minor of order 2 is not positive-definite)."),
    (lambda T: T.linalg.cholesky(T.tensor([[-1.0, 2.0], [2.0, 1.0]])), RuntimeError, "linalg.cholesky: The factorization could not be completed because the input is not positive-definite (the leading minor of order 1 is not positive-definite)."),
]  # fmt: skip


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_error_messages(i):
    fn, exc, msg = ERRORS[i]
    with pytest.raises(exc) as e:
        fn(ember)
    assert str(e.value) == msg
    if torch is not None:
        with pytest.raises(exc) as t:
            fn(torch)
        assert str(t.value) == msg


def test_linalg_errors_are_linalg_errors():
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.inv(ember.zeros(2, 2))
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)


def test_var_warns_on_nonpositive_degrees_of_freedom():
    msg = "var(): degrees of freedom is <= 0"
    with pytest.warns(UserWarning, match=msg.replace("(", r"\(").replace(")", r"\)")):
        r = ember.ones(1).var()
    assert math.isnan(r.item())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.ones(1).var(correction=0).item() == 0.0


def test_var_argument_conflicts():
    x = ember.ones(3, 2)
    with pytest.raises(TypeError):
        ember.var(x, 0, True, correction=1)
    with pytest.raises(TypeError):
        x.prod((0, 1))
    with pytest.raises(TypeError):
        x.max(dim=(0, 1))


# --------------------------------------------------------------------------- out= and linalg
def test_out_argument():
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = ember.empty(2)
    r = ember.sum(x, 1, out=out)
    assert r is out and out.tolist() == [3.0, 7.0]
    ember.amax(x, 0, out=out)
    assert out.tolist() == [3.0, 4.0]


def test_linalg_forward_without_torch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    A = ember.tensor(a)
    np.testing.assert_allclose(ember.linalg.inv(A).numpy() @ a, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(ember.linalg.det(A).item(), np.linalg.det(a))
    q, r = ember.linalg.qr(A)
    np.testing.assert_allclose((q @ r).numpy(), a, atol=1e-12)
    u, s, vh = ember.linalg.svd(A)
    np.testing.assert_allclose((u * s.unsqueeze(0)).matmul(vh).numpy(), a, atol=1e-12)
    w, v = ember.linalg.eigh(A + A.mT)
    np.testing.assert_allclose((v * w.unsqueeze(0)).matmul(v.mT).numpy(), a + a.T, atol=1e-12)
    assert ember.linalg.matmul is ember.matmul
    m = ember.linalg.multi_dot([A, A, A])
    np.testing.assert_allclose(m.numpy(), a @ a @ a, atol=1e-10)
    sign, logabs = ember.linalg.slogdet(A)
    np.testing.assert_allclose(sign.item() * math.exp(logabs.item()), np.linalg.det(a))


# --------------------------------------------------------------------------- performance
def test_large_reductions_are_vectorised():
    import time

    x = ember.randn(1000, 1000, requires_grad=True)
    t0 = time.perf_counter()
    (
        x.sort(1).values.sum()
        + x.max(1).values.sum()
        + x.cummax(1).values.sum()
        + x.topk(5, 1).values.sum()
        + x.median(1).values.sum()
        + x.norm()
        + x.std(0).sum()
    ).backward()
    assert time.perf_counter() - t0 < 5.0


def test_inplace_scans():
    x = ember.tensor([1, 2, 3], dtype=ember.int32)
    assert x.cumsum_(0) is x and x.tolist() == [1, 3, 6] and x.dtype == ember.int32
    a = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    b.cumprod_(0)  # the backward needs the original input: kept, as torch
    b.sum().backward()
    assert b.tolist() == [1.0, 2.0, 6.0] and a.grad.tolist() == [9.0, 4.0, 2.0]


def test_log_step_scan_matches_ufunc_accumulate():
    """The scan used where the array module lacks maximum.accumulate (CuPy)."""
    from types import SimpleNamespace

    from ember.ops.reduce import _accumulate

    fake = SimpleNamespace(moveaxis=np.moveaxis)  # anything but NumPy itself takes the scan
    a = np.random.default_rng(0).standard_normal((3, 9, 2))
    a[1, 4, 0] = np.nan
    for fn in (np.maximum, np.minimum):
        for axis in (0, 1, 2):
            np.testing.assert_array_equal(_accumulate(fake, fn, a, axis), fn.accumulate(a, axis))
