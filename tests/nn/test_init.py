"""nn.init: distributions (statistics and bounds), fans, gains, in-place/no-grad contract."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.nn as enn
from ember.nn import init
from tests.nn.helpers import needs_torch
from tests.oracle import torch


def _np(t):
    return t.detach().numpy()


@needs_torch
@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5), (6, 2, 3, 3), (2, 4, 2, 2, 2)])
def test_fans_match_torch(shape) -> None:
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == (
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    )


@needs_torch
@pytest.mark.parametrize(
    "args",
    [
        ("linear",),
        ("conv2d",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("selu",),
    ],
)
def test_calculate_gain_matches_torch(args) -> None:
    assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_calculate_gain_errors() -> None:
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        init.xavier_uniform_(ember.empty(5))


def test_initialisers_are_in_place_under_no_grad_and_return_the_tensor() -> None:
    p = enn.Parameter(ember.empty(50, 40))
    for fn in (
        lambda t: init.uniform_(t, -1, 1),
        lambda t: init.normal_(t),
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
        init.trunc_normal_,
        init.orthogonal_,
        init.zeros_,
        init.ones_,
        lambda t: init.constant_(t, 0.5),
        init.eye_,
        lambda t: init.sparse_(t, 0.3),
    ):
        v = p._version
        assert fn(p) is p
        assert p.requires_grad and p.is_leaf and p.grad_fn is None and p._version > v


def _uniform_ok(a, bound):
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    assert np.abs(a).max() > 0.98 * bound
    np.testing.assert_allclose(a.var(), bound * bound / 3, rtol=0.05)
    assert abs(a.mean()) < 0.02 * bound * 5


def test_uniform_normal_and_constants() -> None:
    ember.manual_seed(0)
    t = ember.empty(300, 300)
    _uniform_ok(_np(init.uniform_(t, -0.3, 0.3)), 0.3)
    a = _np(init.normal_(t, 1.0, 2.0))
    assert abs(a.mean() - 1.0) < 0.03 and abs(a.std() - 2.0) < 0.03
    assert (_np(init.constant_(t, 0.25)) == 0.25).all()
    assert (_np(init.zeros_(t)) == 0).all() and (_np(init.ones_(t)) == 1).all()
    e = _np(init.eye_(ember.empty(3, 5)))
    np.testing.assert_array_equal(e, np.eye(3, 5))


def test_xavier_and_kaiming_scales() -> None:
    ember.manual_seed(1)
    t = ember.empty(200, 100, 3, 3)
    fan_in, fan_out = 100 * 9, 200 * 9
    _uniform_ok(_np(init.xavier_uniform_(t, gain=2.0)), 2.0 * math.sqrt(6 / (fan_in + fan_out)))
    std = _np(init.xavier_normal_(t)).std()
    np.testing.assert_allclose(std, math.sqrt(2 / (fan_in + fan_out)), rtol=0.02)
    _uniform_ok(_np(init.kaiming_uniform_(t, a=math.sqrt(5))), 1 / math.sqrt(fan_in))
    _uniform_ok(
        _np(init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")),
        math.sqrt(2) * math.sqrt(3 / fan_out),
    )
    std = _np(init.kaiming_normal_(t, nonlinearity="relu")).std()
    np.testing.assert_allclose(std, math.sqrt(2 / fan_in), rtol=0.02)
    with pytest.raises(ValueError, match="Mode fan_mid not supported"):
        init.kaiming_normal_(t, mode="fan_mid")
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(ember.empty(0, 3))


@pytest.mark.parametrize("a,b", [(-2.0, 2.0), (0.5, 1.5), (-0.1, 0.1)])
def test_trunc_normal_bounds_and_moments(a, b) -> None:
    ember.manual_seed(2)
    x = _np(init.trunc_normal_(ember.empty(200, 200), mean=0.2, std=1.0, a=a, b=b))
    assert x.min() >= a and x.max() <= b
    # moments of the truncated normal
    alpha, beta = (a - 0.2), (b - 0.2)
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    zmass = cdf(beta) - cdf(alpha)
    mean = 0.2 + (phi(alpha) - phi(beta)) / zmass
    assert abs(x.mean() - mean) < 0.02 * max(1.0, b - a)


def test_orthogonal_and_sparse_and_dirac() -> None:
    ember.manual_seed(3)
    for shape in [(6, 4), (4, 6), (5, 2, 3)]:
        q = _np(init.orthogonal_(ember.empty(*shape), gain=2.0)).reshape(shape[0], -1)
        small = min(q.shape)
        gram = q @ q.T if q.shape[0] == small else q.T @ q
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)
    s = _np(init.sparse_(ember.empty(10, 30), sparsity=0.3))
    assert ((s == 0).sum(0) >= 3).all()
    d = _np(init.dirac_(ember.empty(4, 2, 3, 3), groups=2))
    assert d.sum() == 4 and d[0, 0, 1, 1] == 1 and d[2, 0, 1, 1] == 1 and d[1, 1, 1, 1] == 1
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(ember.empty(3))


def test_generator_argument_reproduces() -> None:
    g1, g2 = ember.Generator().manual_seed(5), ember.Generator().manual_seed(5)
    a = _np(init.normal_(ember.empty(10), generator=g1)).copy()
    b = _np(init.normal_(ember.empty(10), generator=g2))
    np.testing.assert_array_equal(a, b)


def test_deprecated_aliases_warn() -> None:
    with pytest.warns(
        FutureWarning, match=r"`nn.init.normal` is now deprecated in favor of `nn.init.normal_`"
    ):
        init.normal(ember.empty(2))
