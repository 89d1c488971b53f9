"""Special functions (accuracy against math / torch float64), softmax semantics, ember.special."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
import ember.special
from ember.autograd import engine, tensor_np
from ember.ops import special as S
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")


def _rel(got, ref):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    return np.abs(got - ref) / np.abs(ref)


def _torch64(fn, x, *args):
    return fn(*args, torch.from_numpy(np.asarray(x, np.float64))).numpy()


def _points(rng):
    """Many float64 points: the centre, Cody's range boundaries, tails, tiny and huge values."""
    return np.concatenate([
        rng.uniform(-6, 6, 20000), rng.uniform(-0.5, 0.5, 2000), rng.uniform(-27, 27, 5000),
        10.0 ** rng.uniform(-300, 1.4, 2000), -(10.0 ** rng.uniform(-300, 1.4, 2000)),
        [0.46875, np.nextafter(0.46875, 1), 4.0, np.nextafter(4.0, 5), -4.0, 26.5, 27.2, 5e-324],
    ])  # fmt: skip


# ---------------------------------------------------------------------------------- erf family
def test_erf_float64_matches_math_to_1e15():
    x = _points(np.random.default_rng(0))
    got = ember.erf(ember.tensor(x)).numpy()
    ref = np.array([math.erf(v) for v in x])
    nz = ref != 0
    assert _rel(got[nz], ref[nz]).max() < 1e-15
    assert (got[~nz] == 0).all()


def test_erfc_float64_relative_accuracy_in_the_tails():
    x = _points(np.random.default_rng(1))
    got = ember.erfc(ember.tensor(x)).numpy()
    ref = np.array([math.erfc(v) for v in x])
    normal = ref > 1e-300  # subnormal results carry fewer digits
    assert _rel(got[normal], ref[normal]).max() < 2e-15
    assert (got[x > 27.3] == 0).all()


def test_erf_special_values():
    x = ember.tensor([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=ember.float64)
    e = ember.erf(x).numpy()
    np.testing.assert_array_equal(e[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.signbit(e[1]) and np.isnan(e[4])
    c = ember.erfc(x).numpy()
    np.testing.assert_array_equal(c[:4], [1.0, 1.0, 0.0, 2.0])
    assert np.isnan(c[4])


def test_erf_float32_stays_float32_and_is_accurate():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-6, 6, 50000), 10.0 ** rng.uniform(-37, 0.7, 5000)]).astype(
        np.float32
    )
    ref = np.array([math.erf(v) for v in x.astype(np.float64)]).astype(np.float32)
    got = ember.erf(ember.tensor(x))
    assert got.dtype == ember.float32
    ulps = np.abs(got.numpy().astype(np.float64) - ref) / np.spacing(np.abs(ref))
    assert ulps.max() <= 8
    refc = np.array([math.erfc(v) for v in x.astype(np.float64)])
    gotc = ember.erfc(ember.tensor(x)).numpy()
    m = refc > 1e-30
    assert _rel(gotc[m], refc[m]).max() < 2e-6


def test_erf_large_input_is_blocked_consistently():
    # arrays beyond the block size are evaluated in cache-sized pieces: same values
    x = np.random.default_rng(3).uniform(-7, 7, 200_001)
    whole = ember.erf(ember.tensor(x)).numpy()
    pieces = np.concatenate(
        [ember.erf(ember.tensor(x[i : i + 1000])).numpy() for i in range(0, x.size, 1000)]
    )
    np.testing.assert_array_equal(whole, pieces)


def test_erf_half_precision_and_int_inputs():
    assert ember.erf(ember.tensor([0.5], dtype=ember.float16)).dtype == ember.float16
    r = ember.erf(ember.tensor([1, 2]))
    assert r.dtype == ember.float32
    np.testing.assert_allclose(r.numpy(), [math.erf(1), math.erf(2)], rtol=1e-6)


def test_erfinv_round_trip_and_tails():
    rng = np.random.default_rng(4)
    y = np.concatenate([rng.uniform(-1, 1, 20000), 10.0 ** rng.uniform(-300, -0.3, 2000)])
    x = ember.erfinv(ember.tensor(y)).numpy()
    centre = np.abs(y) <= 0.5
    assert _rel(S._erf(x[centre]), y[centre]).max() < 2e-15
    # tails: check erfc(|x|) against 1 - |y| (exact there): the relative error in x is tiny
    q = 1 - np.abs(y[~centre])
    assert _rel(S._erfc(np.abs(x[~centre])), q).max() < 2e-14
    # x -> erf -> erfinv where erf is well conditioned
    x0 = rng.uniform(-2, 2, 5000)
    back = ember.erfinv(ember.erf(ember.tensor(x0))).numpy()
    np.testing.assert_allclose(back, x0, rtol=1e-12, atol=1e-15)


def test_erfinv_extreme_tail():
    # 1 - 2^-53 is the largest float64 below 1
    x = ember.erfinv(ember.tensor([1 - 2.0**-53, -1 + 2.0**-53], dtype=ember.float64)).numpy()
    np.testing.assert_allclose(x, [5.863584748755168, -5.863584748755168], rtol=1e-15)  # mpmath


def test_erfinv_special_values():
    y = ember.tensor([1.0, -1.0, 1.5, -2.0, np.nan, 0.0, -0.0, 1e-300], dtype=ember.float64)
    r = ember.erfinv(y).numpy()
    assert r[0] == np.inf and r[1] == -np.inf
    assert np.isnan(r[2:5]).all()
    assert r[5] == 0 and np.signbit(r[6])
    np.testing.assert_allclose(r[7], math.sqrt(math.pi) / 2 * 1e-300, rtol=1e-15)


def test_erfinv_float32():
    y = np.random.default_rng(5).uniform(-0.9999, 0.9999, 10000).astype(np.float32)
    r = ember.erfinv(ember.tensor(y))
    assert r.dtype == ember.float32
    ref = S._erfinv(y.astype(np.float64))
    np.testing.assert_allclose(r.numpy(), ref, rtol=2e-6)


@needs_torch
def test_erf_family_matches_torch_float64():
    rng = np.random.default_rng(6)
    x = rng.uniform(-10, 10, 5000)
    y = rng.uniform(-1, 1, 5000)
    np.testing.assert_allclose(
        ember.erf(ember.tensor(x)).numpy(), _torch64(torch.erf, x), rtol=1e-15, atol=1e-300
    )
    np.testing.assert_allclose(
        ember.erfinv(ember.tensor(y)).numpy(), _torch64(torch.erfinv, y), rtol=1e-14
    )
    xc = rng.uniform(-25, 1e4, 5000)
    got = ember.special.erfcx(ember.tensor(xc)).numpy()
    np.testing.assert_allclose(got, _torch64(torch.special.erfcx, xc), rtol=1e-14)


@needs_torch
def test_normal_distribution_helpers():
    rng = np.random.default_rng(7)
    p = np.concatenate(
        [rng.uniform(0, 1, 5000), 10.0 ** rng.uniform(-300, -1, 500), [0.0, 1.0, 0.5]]
    )
    got = ember.special.ndtri(ember.tensor(p)).numpy()
    np.testing.assert_allclose(got, _torch64(torch.special.ndtri, p), rtol=1e-13)
    # the lower tail keeps its relative accuracy: ndtr(ndtri(p)) == p down to 1e-300
    # (ndtr's condition number there is x^2 ~ 1300: 1e-16 in x shows as 1e-13 in p)
    back = ember.special.ndtr(ember.tensor(got[:-3])).numpy()
    np.testing.assert_allclose(back, p[:-3], rtol=1e-12)
    x = rng.uniform(-40, 10, 5000)
    np.testing.assert_allclose(
        ember.special.log_ndtr(ember.tensor(x)).numpy(),
        _torch64(torch.special.log_ndtr, x),
        rtol=1e-13,
    )
    xm = rng.uniform(-5, 8, 5000)  # torch's ndtr is 1 + erf: it loses the far lower tail
    np.testing.assert_allclose(
        ember.special.ndtr(ember.tensor(xm)).numpy(),
        _torch64(torch.special.ndtr, xm),
        rtol=1e-13,
        atol=1e-16,
    )
    assert np.isnan(ember.special.ndtri(ember.tensor([1.5, -0.1])).numpy()).all()


# ---------------------------------------------------------------------------------- gamma family
def test_lgamma_matches_math():
    rng = np.random.default_rng(8)
    x = np.concatenate([rng.uniform(0.01, 30, 5000), 10.0 ** rng.uniform(-10, 10, 500)])
    got = ember.lgamma(ember.tensor(x)).numpy()
    ref = np.array([math.lgamma(v) for v in x])
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-14)
    xn = rng.uniform(-30, 0, 5000)
    xn = xn[np.abs(xn - np.round(xn)) > 1e-3]
    ref = np.array([math.lgamma(v) for v in xn])
    np.testing.assert_allclose(ember.lgamma(ember.tensor(xn)).numpy(), ref, rtol=1e-11, atol=1e-13)


def test_lgamma_poles_and_float32():
    r = ember.lgamma(ember.tensor([0.0, -1.0, -2.0, np.inf, -np.inf, 1.0, 2.0])).numpy()
    np.testing.assert_array_equal(r, [np.inf] * 5 + [0.0, 0.0])
    assert not np.signbit(r[5:]).any()
    x = np.random.default_rng(9).uniform(-5, 5, 2000).astype(np.float32)
    got = ember.lgamma(ember.tensor(x))
    assert got.dtype == ember.float32
    ref = np.array([math.lgamma(v) for v in x.astype(np.float64)])
    np.testing.assert_allclose(got.numpy(), ref, rtol=2e-7, atol=1e-7)


@needs_torch
def test_digamma_polygamma_match_torch():
    rng = np.random.default_rng(10)
    x = np.concatenate([rng.uniform(0.01, 30, 3000), 10.0 ** rng.uniform(-5, 8, 300)])
    xn = rng.uniform(-20, 0, 2000)
    xn = xn[np.abs(xn - np.round(xn)) > 1e-2]
    # away from digamma's root 1.4616..., where relative error means nothing
    far = np.abs(x - 1.4616321449683622) > 1e-3
    np.testing.assert_allclose(
        ember.digamma(ember.tensor(x[far])).numpy(), _torch64(torch.digamma, x[far]), rtol=1e-12
    )
    np.testing.assert_allclose(
        ember.digamma(ember.tensor(xn)).numpy(), _torch64(torch.digamma, xn), rtol=1e-9, atol=1e-12
    )
    for n in (1, 2, 3, 5):
        # torch's trigamma is itself good to ~1e-9 only
        tol = 1e-8 if n == 1 else 1e-12
        np.testing.assert_allclose(
            ember.polygamma(n, ember.tensor(x)).numpy(), _torch64(torch.polygamma, x, n), rtol=tol
        )
        np.testing.assert_allclose(
            ember.polygamma(n, ember.tensor(xn)).numpy(),
            _torch64(torch.polygamma, xn, n),
            rtol=1e-8,
        )


def test_trigamma_known_values():
    # psi'(1) = pi^2/6, psi'(1/2) = pi^2/2, psi'(-1/2) = pi^2/2 + 4
    r = ember.polygamma(1, ember.tensor([1.0, 0.5, -0.5], dtype=ember.float64)).numpy()
    np.testing.assert_allclose(r, [math.pi**2 / 6, math.pi**2 / 2, math.pi**2 / 2 + 4], rtol=1e-15)
    assert ember.tensor([2.0]).polygamma(0).item() == pytest.approx(
        1 - 0.5772156649015329, rel=1e-7
    )


def test_digamma_polygamma_poles():
    d = ember.digamma(ember.tensor([0.0, -0.0, -1.0, -2.0])).numpy()
    assert d[0] == -np.inf and d[1] == np.inf and np.isnan(d[2:]).all()
    assert (ember.polygamma(1, ember.tensor([0.0, -1.0])).numpy() == np.inf).all()
    assert (ember.polygamma(2, ember.tensor([0.0, -3.0])).numpy() == -np.inf).all()
    with pytest.raises(RuntimeError, match="does not support negative n"):
        ember.polygamma(-1, ember.tensor([1.0]))


def test_multigammaln():
    x = ember.tensor([2.0, 3.5], dtype=ember.float64)
    ref = [
        3 * 2 / 4 * math.log(math.pi) + sum(math.lgamma(v - j / 2) for j in range(3))
        for v in (2.0, 3.5)
    ]
    np.testing.assert_allclose(ember.special.multigammaln(x, 3).numpy(), ref, rtol=1e-14)
    with pytest.raises(RuntimeError, match="greater than or equal to 1"):
        ember.special.multigammaln(x, 0)


# ---------------------------------------------------------------------------------- Bessel
@needs_torch
@pytest.mark.parametrize("name", ["i0", "i1", "i0e", "i1e"])
def test_bessel_matches_torch(name):
    x = np.concatenate(
        [np.random.default_rng(11).uniform(-40, 40, 5000), [0.0, 29.99, 30.01, 700.0, -705.0]]
    )
    got = getattr(ember.special, name)(ember.tensor(x)).numpy()
    np.testing.assert_allclose(
        got, _torch64(getattr(torch.special, name), x), rtol=5e-15, atol=1e-300
    )


def test_bessel_overflow_and_nan():
    r = ember.i0(ember.tensor([800.0, np.nan, np.inf], dtype=ember.float64)).numpy()
    assert r[0] == np.inf and np.isnan(r[1]) and r[2] == np.inf
    assert ember.special.i0e(ember.tensor([np.inf], dtype=ember.float64)).item() == 0.0
    d = ember.digamma(ember.tensor([np.inf], dtype=ember.float64)).item()
    assert d == np.inf and ember.polygamma(2, ember.tensor([np.inf])).item() == 0.0


# ---------------------------------------------------------------------------------- elementary
@needs_torch
def test_sinc_entr_xlog1py_edges_match_torch():
    x = np.array([0.0, -0.0, 0.5, 1.0, -2.5, 1e-20, 3.0])
    np.testing.assert_allclose(
        ember.sinc(ember.tensor(x)).numpy(), _torch64(torch.sinc, x), rtol=1e-14, atol=1e-16
    )
    e = np.array([-1.0, 0.0, 0.5, 2.0, np.nan])
    np.testing.assert_array_equal(
        ember.special.entr(ember.tensor(e)).numpy(), _torch64(torch.special.entr, e)
    )
    a = np.array([0.0, 0.0, 1.0, 2.0, 0.0])
    b = np.array([-1.0, np.nan, 1.0, -1.0, 3.0])
    got = ember.special.xlog1py(ember.tensor(a), ember.tensor(b)).numpy()
    ref = torch.special.xlog1py(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_array_equal(got, ref)
    assert ember.special.xlog1py(ember.tensor([0, 1]), ember.tensor([2, 3])).dtype == ember.float32


@needs_torch
def test_xlog1py_and_entr_gradients_at_edges_match_torch():
    a, b = [0.0, 0.0, 0.5, 2.0], [-1.0, 1.0, 1.0, -1.0]
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ember.special.xlog1py(ea, eb).sum().backward()
    torch.special.xlog1py(ta, tb).sum().backward()
    np.testing.assert_array_equal(ea.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(eb.grad.numpy(), tb.grad.numpy())
    x = [-1.0, 0.0, 0.5]
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ember.special.entr(ex).sum().backward()
    torch.special.entr(tx).sum().backward()
    np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())


def test_inplace_methods_and_versions():
    t = ember.tensor([0.1, 0.5])
    v0 = t._version
    assert t.erf_() is t and t._version == v0 + 1
    np.testing.assert_allclose(t.numpy(), [math.erf(0.1), math.erf(0.5)], rtol=1e-6)
    for name in ("erfc_", "erfinv_", "lgamma_", "digamma_", "i0_", "sinc_"):
        getattr(ember.tensor([0.3]), name)()
    assert ember.tensor([0.5]).polygamma_(1).item() == pytest.approx(math.pi**2 / 2, rel=1e-6)
    leaf = ember.tensor([0.3], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.erf_()
    y = leaf * 1
    y.erf_()
    y.backward()
    np.testing.assert_allclose(
        leaf.grad.numpy(), [2 / math.sqrt(math.pi) * math.exp(-0.09)], rtol=1e-6
    )


def test_grad_fn_names():
    x = ember.tensor([0.2, 0.4], requires_grad=True)
    names = {
        "ErfBackward0": x.erf(), "ErfcBackward0": x.erfc(), "ErfinvBackward0": x.erfinv(),
        "LgammaBackward0": x.lgamma(), "DigammaBackward0": x.digamma(),
        "PolygammaBackward0": x.polygamma(1), "I0Backward0": x.i0(), "SincBackward0": x.sinc(),
        "SoftmaxBackward0": x.softmax(0), "LogSoftmaxBackward0": x.log_softmax(0),
        "SpecialErfcxBackward0": ember.special.erfcx(x), "SpecialEntrBackward0": ember.special.entr(x),
        "SpecialNdtriBackward0": ember.special.ndtri(x), "SpecialLogNdtrBackward0": ember.special.log_ndtr(x),
        "SpecialI1Backward0": ember.special.i1(x), "SpecialXlog1PyBackward0": ember.special.xlog1py(x, x),
        "SigmoidBackward0": ember.special.expit(x), "LgammaBackward0 ": ember.special.gammaln(x),
    }  # fmt: skip
    for name, t in names.items():
        assert t.grad_fn.name() == name.strip()


def test_backward_namespaces_know_the_special_functions():
    a = np.array([0.3, 0.7])
    np.testing.assert_allclose(engine._NP.erf(a), [math.erf(0.3), math.erf(0.7)], rtol=1e-15)
    for name in ("erfc", "erfinv", "digamma", "lgamma", "i0", "i1", "ndtri"):
        assert callable(getattr(engine._NP, name))
    t = ember.tensor([0.5], requires_grad=True)
    assert tensor_np.polygamma(1, t).grad_fn.name() == "PolygammaBackward0"
    assert tensor_np.erfc(t).grad_fn.name() == "ErfcBackward0"


def test_erf_gradient_of_gradient():
    # F.erf (the backward namespace) differentiates again: d2/dx2 erf = -2x * 2/sqrt(pi) e^-x^2
    x = ember.tensor([0.7], dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(ember.erf(x), x, create_graph=True)
    (h,) = ember.autograd.grad(g, x)
    np.testing.assert_allclose(
        h.numpy(), [-2 * 0.7 * 2 / math.sqrt(math.pi) * math.exp(-0.49)], rtol=1e-14
    )


# ---------------------------------------------------------------------------------- softmax
def test_softmax_is_stable_for_huge_logits():
    x = ember.tensor([[1000.0, 0.0, -1000.0], [-1e30, -1e30, 0.0]])
    s = ember.softmax(x, 1).numpy()
    np.testing.assert_allclose(s, [[1, 0, 0], [0, 0, 1]], atol=0)
    ls = ember.log_softmax(x, 1).numpy()
    np.testing.assert_allclose(ls[0], [0.0, -1000.0, -2000.0])
    assert np.isfinite(ls).all() or np.isneginf(ls).any()


def test_softmax_infinities_follow_torch():
    x = ember.tensor([[-np.inf, 0.0], [-np.inf, -np.inf], [np.inf, 0.0]])
    s = ember.softmax(x, 1).numpy()
    np.testing.assert_array_equal(s[0], [0.0, 1.0])
    assert np.isnan(s[1:]).all()
    ls = ember.log_softmax(x, 1).numpy()
    assert ls[0, 0] == -np.inf and ls[0, 1] == 0.0 and np.isnan(ls[1:]).all()


def test_softmax_argument_errors_match_torch():
    x = ember.tensor([[1.0, 2.0]])
    with pytest.raises(TypeError, match="missing|positional"):
        ember.softmax(x)  # type: ignore[call-arg]
    with pytest.raises(
        TypeError, match=r"softmax\(\): argument 'dim' \(position 2\) must be int, not NoneType"
    ):
        ember.softmax(x, None)
    with pytest.raises(
        IndexError,
        match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)",
    ):
        x.log_softmax(2)
    with pytest.raises(
        NotImplementedError, match="\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"
    ):
        ember.softmax(ember.tensor([1, 2]), 0)
    with pytest.raises(
        NotImplementedError, match="\"log_softmax_kernel_impl\" not implemented for 'Long'"
    ):
        ember.log_softmax(ember.tensor([[1, 2]]), 0)


def test_softmax_dtype_argument():
    x = ember.tensor([1, 2, 3])
    r = ember.softmax(x, 0, dtype=ember.float64)
    assert r.dtype == ember.float64
    xf = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    r = xf.log_softmax(0, ember.float64)
    assert r.dtype == ember.float64 and r.grad_fn.name() == "LogSoftmaxBackward0"
    r.backward(ember.tensor([1.0, 0.0, 0.0], dtype=ember.float64))
    assert xf.grad.dtype == ember.float32


def test_softmax_half_precision_and_empty():
    x = ember.tensor([[1.0, 2.0, 3.0]], dtype=ember.float16)
    r = ember.softmax(x, 1)
    assert r.dtype == ember.float16
    np.testing.assert_allclose(r.numpy().astype(np.float64), [[0.0900, 0.2447, 0.6652]], atol=1e-3)
    assert ember.softmax(ember.zeros(0, 3), 1).shape == (0, 3)


def test_softmax_float32_no_upcast():
    x = ember.tensor(
        np.random.default_rng(12).standard_normal((4, 5)).astype(np.float32), requires_grad=True
    )
    y = x.softmax(1)
    assert y.dtype == ember.float32 and y._data.dtype == np.float32
    y.backward(ember.ones(4, 5))
    assert x.grad._data.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), 0, atol=1e-6)  # rows of softmax sum to 1


def test_implicit_softmax_dim_warns_like_torch():
    with pytest.warns(
        UserWarning, match="Implicit dimension choice for softmax has been deprecated"
    ):
        assert S.implicit_softmax_dim("softmax", 2) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [S.implicit_softmax_dim("log_softmax", n) for n in range(5)] == [0, 0, 1, 0, 1]


@needs_torch
def test_softmin_matches_torch():
    a = np.random.default_rng(13).standard_normal((3, 4)).astype(np.float32)
    got = S.softmin(ember.tensor(a), 1).numpy()
    np.testing.assert_allclose(
        got, torch.nn.functional.softmin(torch.from_numpy(a), 1).numpy(), rtol=1e-6
    )
    assert not hasattr(ember, "softmin")  # torch has no torch.softmin either


@needs_torch
def test_logsumexp_matches_torch():
    a = np.random.default_rng(14).standard_normal((3, 4, 2)) * 50
    for dim, keep in ((1, False), ((0, 2), True), (-1, False)):
        got = ember.special.logsumexp(ember.tensor(a), dim, keepdim=keep).numpy()
        ref = torch.special.logsumexp(torch.from_numpy(a), dim, keepdim=keep).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-14)
    inf = ember.tensor([[-np.inf, -np.inf], [np.inf, 0.0]])
    np.testing.assert_array_equal(ember.special.logsumexp(inf, 1).numpy(), [-np.inf, np.inf])


# ---------------------------------------------------------------------------------- namespace
@needs_torch
def test_special_namespace_names_exist_in_torch():
    for name in ember.special.__all__:
        assert hasattr(torch.special, name), name
        assert callable(getattr(ember.special, name))
    tops = ("erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "i0", "sinc", "softmax")
    for name in (*tops, "log_softmax"):
        assert callable(getattr(ember, name)) and hasattr(torch, name)


# ---------------------------------------------------------------------------------- GPU
def _cuda() -> bool:
    from ember.backends import cuda

    try:
        return cuda.is_available()
    except Exception:
        return False


needs_cuda = pytest.mark.skipif(not _cuda(), reason="needs CuPy and an NVIDIA GPU")


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize(
    "name",
    [
        "erf",
        "erfc",
        "erfcx",
        "ndtr",
        "log_ndtr",
        "sinc",
        "i0",
        "i1",
        "i0e",
        "i1e",
        "digamma",
        "gammaln",
    ],
)
def test_cuda_matches_cpu_forward_and_backward(name):
    x = np.random.default_rng(15).uniform(-3, 3, (64, 100))
    f = getattr(ember.special, name)
    xc = ember.tensor(x, device="cuda", requires_grad=True)
    xh = ember.tensor(x, requires_grad=True)
    rc, rh = f(xc), f(xh)
    assert rc.device.type == "cuda"
    (gc,) = ember.autograd.grad(rc.sum(), xc)
    (gh,) = ember.autograd.grad(rh.sum(), xh)
    np.testing.assert_allclose(rc.detach().cpu().numpy(), rh.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(gc.cpu().numpy(), gh.numpy(), rtol=1e-12, atol=1e-300)


@pytest.mark.gpu
@needs_cuda
def test_cuda_inverse_functions_polygamma_and_softmax():
    rng = np.random.default_rng(16)
    for name, lo, hi in (("erfinv", -0.99, 0.99), ("ndtri", 0.01, 0.99), ("entr", 0.1, 2.0)):
        x = rng.uniform(lo, hi, (5, 7))
        got = getattr(ember.special, name)(ember.tensor(x, device="cuda")).cpu().numpy()
        ref = getattr(ember.special, name)(ember.tensor(x)).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-13)
    x = rng.uniform(0.5, 3, (4, 6))
    got = ember.polygamma(2, ember.tensor(x, device="cuda")).cpu().numpy()
    np.testing.assert_allclose(got, ember.polygamma(2, ember.tensor(x)).numpy(), rtol=1e-13)
    for d in (1, 0, -1):
        grads = []
        for dev in ("cuda", "cpu"):
            t = ember.tensor(x, device=dev, requires_grad=True)
            y, z = ember.log_softmax(t, d), ember.softmax(t, d)
            grads.append(ember.autograd.grad((y * y).sum() + (z * z).sum(), t)[0].cpu().numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
        sc = ember.softmax(ember.tensor(x, device="cuda"), d).cpu().numpy()
        np.testing.assert_allclose(sc, ember.softmax(ember.tensor(x), d).numpy(), rtol=1e-14)
