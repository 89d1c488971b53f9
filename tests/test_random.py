"""Seeding, Generator objects, and the in-place random fills (Tensor.normal_ & co.)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")

N = 200_000  # draws for the moment checks: standard errors ~ 1 / sqrt(N) ~ 0.002

FILLS = {
    "normal_": (), "uniform_": (), "bernoulli_": (), "exponential_": (), "geometric_": (0.3,),
    "log_normal_": (), "cauchy_": (), "random_": (10,),
}  # fmt: skip


# ---------------------------------------------------------------------------------- seeding
@pytest.mark.parametrize("name", sorted(FILLS))
def test_manual_seed_makes_fills_reproducible(name):
    args = FILLS[name]
    ember.manual_seed(123)
    a = getattr(ember.empty(50), name)(*args).numpy().copy()
    ember.manual_seed(123)
    b = getattr(ember.empty(50), name)(*args).numpy().copy()
    np.testing.assert_array_equal(a, b)
    c = getattr(ember.empty(50), name)(*args).numpy()
    assert not np.array_equal(a, c)  # the stream moved on


def test_generator_objects_are_independent_streams():
    g1 = ember.Generator().manual_seed(7)
    g2 = ember.Generator().manual_seed(7)
    ember.manual_seed(0)
    state = ember.get_rng_state()
    a = ember.empty(20).normal_(generator=g1).numpy().copy()
    b = ember.empty(20).normal_(generator=g2).numpy().copy()
    np.testing.assert_array_equal(a, b)
    # drawing from explicit generators leaves the default one untouched
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), state.numpy())
    g1.manual_seed(8)
    assert not np.array_equal(
        ember.empty(20).uniform_(generator=g1).numpy(),
        ember.empty(20).uniform_(generator=g2).numpy(),
    )
    assert g1.initial_seed() == 8


def test_fork_rng_and_state_round_trip():
    ember.manual_seed(5)
    s = ember.get_rng_state()
    a = ember.empty(10).uniform_().numpy().copy()
    ember.set_rng_state(s)
    np.testing.assert_array_equal(ember.empty(10).uniform_().numpy(), a)
    with ember.random.fork_rng():
        ember.empty(10).normal_()
    b = ember.empty(10).cauchy_().numpy().copy()
    ember.set_rng_state(s)
    ember.empty(10).uniform_()
    np.testing.assert_array_equal(ember.empty(10).cauchy_().numpy(), b)


# ---------------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("name", sorted(FILLS))
def test_fills_keep_dtype_shape_and_storage(name, dtype):
    t = ember.empty(4, 5, dtype=getattr(ember, dtype))
    arr = t._data
    v = t._version
    r = getattr(t, name)(*FILLS[name])
    assert r is t and t.dtype == getattr(ember, dtype) and t.shape == (4, 5)
    assert t._data is arr  # filled in place
    assert t._version == v + 1
    assert np.isfinite(t.numpy().astype(np.float64)).all() or name == "cauchy_"


def test_float32_normal_is_drawn_in_float32():
    # float32 draws come from NumPy's float32 sampler: the same stream as drawing float32 directly
    g = ember.Generator().manual_seed(3)
    t = ember.empty(1000).normal_(generator=g)
    ref = np.random.Generator(np.random.PCG64(3)).standard_normal(1000, dtype=np.float32)
    np.testing.assert_array_equal(t.numpy(), ref)


def test_integer_and_bool_fills():
    assert set(np.unique(ember.empty(1000, dtype=ember.int64).bernoulli_(0.5).numpy())) == {0, 1}
    b = ember.empty(1000, dtype=ember.bool).bernoulli_(0.5)
    assert b.dtype == ember.bool and 0.3 < b.numpy().mean() < 0.7
    g = ember.empty(1000, dtype=ember.int32).geometric_(0.5)
    assert g.dtype == ember.int32 and g.numpy().min() >= 1
    u8 = ember.empty(5000, dtype=ember.uint8).random_().numpy()
    assert u8.min() == 0 and u8.max() == 255
    i8 = ember.empty(5000, dtype=ember.int8).random_(-5, 5).numpy()
    assert i8.min() == -5 and i8.max() == 4
    assert set(np.unique(ember.empty(100, dtype=ember.bool).random_().numpy())) == {False, True}


def test_empty_and_0d_tensors():
    assert ember.empty(0).normal_().shape == (0,)
    t = ember.tensor(0.0)
    t.uniform_(2, 3)
    assert 2 <= t.item() < 3 and t.shape == ()


def test_non_contiguous_views_fill_their_base():
    base = ember.zeros(4, 6)
    v = base.t()
    v.normal_()
    assert (base.numpy() != 0).all()
    assert base._version == v._version == 1


# ---------------------------------------------------------------------------------- moments
def test_normal_moments():
    x = ember.empty(N).normal_(2.0, 3.0).numpy().astype(np.float64)
    assert abs(x.mean() - 2.0) < 0.03 and abs(x.std() - 3.0) < 0.03
    x = ember.empty(N, dtype=ember.float64).normal_(mean=-1.0, std=0.5).numpy()
    assert abs(x.mean() + 1.0) < 0.005 and abs(x.std() - 0.5) < 0.005


def test_uniform_range_and_moments():
    x = ember.empty(N).uniform_(-2.0, 4.0).numpy().astype(np.float64)
    assert x.min() >= -2.0 and x.max() < 4.0
    assert abs(x.mean() - 1.0) < 0.02 and abs(x.var() - 36 / 12) < 0.03
    y = ember.empty(1000).uniform_(**{"from": 5, "to": 6}).numpy()  # torch's keyword `from`
    assert 5 <= y.min() and y.max() < 6
    np.testing.assert_array_equal(ember.empty(3).uniform_(2, 2).numpy(), [2, 2, 2])


def test_bernoulli_moments_and_tensor_p():
    x = ember.empty(N).bernoulli_(0.3).numpy()
    assert set(np.unique(x)) == {0.0, 1.0} and abs(x.mean() - 0.3) < 0.005
    p = ember.tensor([0.0, 1.0, 0.25])
    x = ember.empty(N // 10, 3).bernoulli_(p).numpy()  # p broadcasts over the rows
    assert (x[:, 0] == 0).all() and (x[:, 1] == 1).all() and abs(x[:, 2].mean() - 0.25) < 0.02
    assert ember.empty(N // 10, dtype=ember.float64).bernoulli_(
        ember.tensor([0.5], dtype=ember.float64)
    ).numpy().mean() == pytest.approx(0.5, abs=0.02)


def test_exponential_geometric_lognormal_cauchy_moments():
    e = ember.empty(N).exponential_(2.0).numpy().astype(np.float64)
    assert e.min() > 0 and abs(e.mean() - 0.5) < 0.01 and abs(e.std() - 0.5) < 0.01
    g = ember.empty(N).geometric_(0.25).numpy()
    assert g.min() == 1 and (g == np.round(g)).all() and abs(g.mean() - 4.0) < 0.05
    ln = ember.empty(N, dtype=ember.float64).log_normal_(1.0, 0.5).numpy()
    assert (
        ln.min() > 0 and abs(np.log(ln).mean() - 1.0) < 0.01 and abs(np.log(ln).std() - 0.5) < 0.01
    )
    c = ember.empty(N, dtype=ember.float64).cauchy_(1.0, 2.0).numpy()
    q1, med, q3 = np.quantile(c, [0.25, 0.5, 0.75])
    assert abs(med - 1.0) < 0.05 and abs((q3 - q1) - 4.0) < 0.1  # IQR of Cauchy = 2 sigma


def test_random_ranges():
    x = ember.empty(N).random_(10).numpy()
    assert set(np.unique(x)) == set(range(10)) and abs(x.mean() - 4.5) < 0.05
    y = ember.empty(1000).random_(3, 7).numpy()
    assert set(np.unique(y)) == {3, 4, 5, 6}
    z = ember.empty(1000).random_().numpy()
    assert z.min() >= 0 and z.max() <= 2**24 and (z == np.round(z)).all()
    w = ember.empty(1000, dtype=ember.float64).random_(to=4).numpy()
    assert set(np.unique(w)) == {0, 1, 2, 3}
    big = ember.empty(1000, dtype=ember.int64).random_().numpy()
    assert big.min() >= 0 and big.max() > 2**60


# ---------------------------------------------------------------------------------- autograd
def test_leaf_requiring_grad_fills_under_no_grad_only():
    w = ember.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.normal_()
    with ember.no_grad():
        w.normal_(0, 0.02)  # what nn.init does
        w.uniform_(-0.1, 0.1)
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    assert (np.abs(w.detach().numpy()) <= 0.1).all() and w._version == 2


def test_non_leaf_fill_gets_a_zero_gradient_node():
    a = ember.ones(3, requires_grad=True)
    for name, args, node in [
        ("normal_", (), "NormalBackward0"), ("uniform_", (), "UniformBackward0"),
        ("bernoulli_", (), "BernoulliBackward2"), ("bernoulli_", (ember.tensor([0.5] * 3),), "BernoulliBackward1"),
        ("exponential_", (), "ExponentialBackward0"), ("geometric_", (0.5,), "GeometricBackward0"),
        ("log_normal_", (), "LogNormalBackward0"), ("cauchy_", (), "CauchyBackward0"),
        ("random_", (), "RandomBackward2"), ("random_", (5,), "RandomBackward1"), ("random_", (1, 5), "RandomBackward0"),
    ]:  # fmt: skip
        b = a * 2
        getattr(b, name)(*args)
        assert b.grad_fn.name() == node
        (b * 3).sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), 0)
        a.grad = None


def test_fill_invalidates_saved_tensors():
    a = ember.ones(3, requires_grad=True)
    b = a * 1
    c = b * b  # saves b
    with ember.no_grad():
        b.normal_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


# ---------------------------------------------------------------------------------- errors
ERROR_CASES = [
    ("normal_", ("float32",), (0, -1), {}), ("uniform_", ("float32",), (3, 2), {}),
    ("uniform_", ("float32",), (0, math.inf), {}), ("bernoulli_", ("float32",), (1.5,), {}),
    ("exponential_", ("float32",), (0,), {}), ("exponential_", ("int64",), (), {}),
    ("geometric_", ("float32",), (0,), {}), ("geometric_", ("float32",), (1,), {}),
    ("geometric_", ("bool",), (0.5,), {}), ("log_normal_", ("float32",), (0, 0), {}),
    ("log_normal_", ("int64",), (), {}), ("cauchy_", ("float32",), (0, -1), {}),
    ("cauchy_", ("int64",), (), {}), ("normal_", ("int64",), (), {}), ("normal_", ("bool",), (), {}),
    ("uniform_", ("int64",), (), {}), ("random_", ("float32",), (10, 3), {}),
    ("random_", ("uint8",), (0, 300), {}), ("random_", ("uint8",), (-5, 5), {}),
    ("random_", ("int16",), (0, 40000), {}), ("random_", ("bool",), (0, 3), {}),
    ("random_", ("float32",), (2.5, 7.9), {}), ("uniform_", ("float32",), (), {"foo": 1}),
    ("uniform_", ("float32",), (1, 2, 3), {}),
]  # fmt: skip


@needs_torch
@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: f"{c[0]}{c[2]}{c[1][0]}")
def test_errors_match_torch(case):
    name, (dtype,), args, kwargs = case
    with pytest.raises(Exception) as te:
        getattr(torch.empty(5, dtype=getattr(torch, dtype)), name)(*args, **kwargs)
    with pytest.raises(type(te.value)) as ee:
        getattr(ember.empty(5, dtype=getattr(ember, dtype)), name)(*args, **kwargs)
    tmsg, emsg = str(te.value), str(ee.value)
    if isinstance(te.value, TypeError) and "invalid combination" in tmsg:
        assert "invalid combination" in emsg
    else:
        assert emsg == tmsg.split(" (Triggered internally")[0]


@needs_torch
def test_bernoulli_tensor_p_errors_match_torch():
    for p_t, p_e in [
        (torch.full((5,), 1.5), ember.full((5,), 1.5)),
        (torch.tensor([1, 0, 1, 0, 1]), ember.tensor([1, 0, 1, 0, 1])),
        (torch.rand(2, 5), ember.rand(2, 5)),
    ]:
        with pytest.raises(Exception) as te:
            torch.empty(5).bernoulli_(p_t)
        with pytest.raises(type(te.value)) as ee:
            ember.empty(5).bernoulli_(p_e)
        assert str(ee.value) == str(te.value)


@needs_torch
def test_random_float_precision_warning_matches_torch():
    with pytest.warns(UserWarning) as tw:
        torch.empty(3).random_(0, 2**30)
    with pytest.warns(UserWarning) as ew:
        ember.empty(3).random_(0, 2**30)
    assert str(ew[0].message) == str(tw[0].message).split(" (Triggered internally")[0]


def _cuda() -> bool:
    from ember.backends import cuda

    try:
        return cuda.is_available()
    except Exception:
        return False


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda(), reason="needs CuPy and an NVIDIA GPU")
@pytest.mark.parametrize("name", sorted(FILLS))
def test_cuda_fills(name):
    t = ember.empty(3000, device="cuda")
    ember.manual_seed(4)
    getattr(t, name)(*FILLS[name])
    assert t.device.type == "cuda" and t._version == 1
    cpu = ember.empty(3000)
    ember.manual_seed(4)
    getattr(cpu, name)(*FILLS[name])
    np.testing.assert_array_equal(t.cpu().numpy(), cpu.numpy())  # same stream, any device
    v = ember.zeros(4, 6, device="cuda").t()
    getattr(v, name)(*FILLS[name])  # a non-contiguous view
    assert v.shape == (6, 4)
