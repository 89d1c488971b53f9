"""OpSpecs for ember/ops/special.py (error functions, gamma family, Bessel, softmax) and the
``ember.special`` namespace."""

from __future__ import annotations

import math

import numpy as np

import ember.special  # noqa: F401  (binds the namespace module as ember.special)
from tests.opdb.spec import OpSpec


def _vec(f):
    v = np.vectorize(f, otypes=[np.float64])
    return lambda a: v(a.astype(np.float64))


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(a, axis):
    s = a - a.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _between_poles(shape):
    # negative non-integers, away from the poles 0, -1, -2 (steep there)
    def make(rng):
        centre = rng.choice([-2.5, -1.5, -0.5], shape)
        return [centre + rng.uniform(-0.3, 0.3, shape)]

    return make


def _big(rng):
    # logits of magnitude 80: exp overflows float32 without the max shift
    return [rng.choice([-80.0, 80.0], (3, 5)) + rng.uniform(-2, 2, (3, 5))]


def _with_zeros(rng):
    x = rng.uniform(-2, 2, (3, 4))
    x[0, :2] = 0.0
    return [x]


_ndtr = _vec(lambda v: 0.5 * math.erfc(-v / math.sqrt(2)))
_log_ndtr = _vec(lambda v: math.log(0.5 * math.erfc(-v / math.sqrt(2))))

SPECS = [
    # error functions
    OpSpec("erf", lambda T, a: a.erf(), _vec(math.erf), low=-3, high=3),
    OpSpec("erf_int", lambda T, a: T.erf(a), _vec(math.erf), dtypes=("int64",), low=-3, high=3, grad=False),
    OpSpec("erfc", lambda T, a: T.erfc(a), _vec(math.erfc), ((2, 3), ), low=-3, high=3),
    OpSpec("erfinv", lambda T, a: a.erfinv(), None, low=-0.95, high=0.95),
    OpSpec("special_erfcx", lambda T, a: T.special.erfcx(a), _vec(lambda v: math.exp(v * v) * math.erfc(v)), low=-1.5, high=5),
    OpSpec("special_ndtr", lambda T, a: T.special.ndtr(a), _ndtr, low=-4, high=4),
    OpSpec("special_ndtri", lambda T, a: T.special.ndtri(a), None, low=0.02, high=0.98),
    OpSpec("special_log_ndtr", lambda T, a: T.special.log_ndtr(a), _log_ndtr, low=-9, high=5),
    # gamma family
    OpSpec("lgamma", lambda T, a: a.lgamma(), _vec(math.lgamma), low=0.2, high=6),
    OpSpec("lgamma_neg", lambda T, a: T.lgamma(a), _vec(math.lgamma), make=_between_poles((2, 3))),
    OpSpec("special_gammaln", lambda T, a: T.special.gammaln(a), _vec(math.lgamma), ((4,),), low=0.5, high=3),
    OpSpec("digamma", lambda T, a: a.digamma(), None, low=0.3, high=6),
    OpSpec("digamma_neg", lambda T, a: T.digamma(a), None, make=_between_poles((2, 3)), rtol=1e-4),
    OpSpec("polygamma1", lambda T, a: T.polygamma(1, a), None, low=0.3, high=6),
    OpSpec("polygamma2_method", lambda T, a: a.polygamma(2), None, low=0.5, high=6, rtol=1e-4),
    OpSpec("polygamma3_neg", lambda T, a: T.polygamma(3, a), None, make=_between_poles((2, 2)), rtol=1e-4, grad_rtol=1e-3),
    OpSpec("special_multigammaln", lambda T, a: T.special.multigammaln(a, 3), None, ((3,),), low=1.5, high=4),
    # Bessel
    OpSpec("i0", lambda T, a: a.i0(), np.i0, low=-4, high=4),
    OpSpec("special_i0e", lambda T, a: T.special.i0e(a), lambda a: np.exp(-np.abs(a)) * np.i0(a), low=-4, high=4, kinks=(0.0,)),
    OpSpec("special_i1", lambda T, a: T.special.i1(a), None, low=-4, high=4),
    OpSpec("special_i1e", lambda T, a: T.special.i1e(a), None, low=-4, high=4, kinks=(0.0,)),
    # elementary
    OpSpec("sinc", lambda T, a: a.sinc(), np.sinc),
    OpSpec("sinc_zero", lambda T, a: T.sinc(a), np.sinc, make=_with_zeros),
    OpSpec("special_entr", lambda T, a: T.special.entr(a), lambda a: -a * np.log(a), low=0.1, high=2),
    OpSpec("special_xlog1py", lambda T, a, b: T.special.xlog1py(a, b), lambda a, b: a * np.log1p(b), ((3, 4), (4,)), low=-0.5, high=2),
    OpSpec("special_xlog1py_zero", lambda T, a, b: T.special.xlog1py(a, b), lambda a, b: a * np.log1p(b), make=lambda rng: [np.where(rng.random((2, 3)) < 0.4, 0.0, rng.uniform(-2, 2, (2, 3))), rng.uniform(-0.5, 2, (2, 3))]),
    OpSpec("special_xlog1py_scalar", lambda T, b: T.special.xlog1py(2.0, b), lambda b: 2.0 * np.log1p(b), low=-0.5, high=2),
    # softmax family
    OpSpec("softmax", lambda T, a: T.softmax(a, 1), lambda a: _softmax(a, 1)),
    OpSpec("softmax_dim0_method", lambda T, a: a.softmax(0), lambda a: _softmax(a, 0)),
    OpSpec("softmax_negdim", lambda T, a: T.softmax(a, -2), lambda a: _softmax(a, -2), ((2, 3, 4),)),
    OpSpec("softmax_0d", lambda T, a: T.softmax(a, 0), lambda a: np.ones_like(a), ((),)),
    OpSpec("softmax_big", lambda T, a: T.softmax(a, -1), lambda a: _softmax(a, -1), make=_big),
    OpSpec("softmax_dtype", lambda T, a: T.softmax(a, 1, dtype=T.float64), lambda a: _softmax(a.astype(np.float64), 1)),
    OpSpec("softmax_empty", lambda T, a: T.softmax(a, 1), lambda a: a.copy(), ((0, 3),)),
    OpSpec("log_softmax", lambda T, a: T.log_softmax(a, 1), lambda a: _log_softmax(a, 1)),
    OpSpec("log_softmax_dim0_method", lambda T, a: a.log_softmax(0), lambda a: _log_softmax(a, 0)),
    OpSpec("log_softmax_negdim", lambda T, a: T.log_softmax(a, -3), lambda a: _log_softmax(a, -3), ((2, 3, 4),)),
    OpSpec("log_softmax_0d", lambda T, a: a.log_softmax(-1), lambda a: np.zeros_like(a), ((),)),
    OpSpec("log_softmax_big", lambda T, a: T.log_softmax(a, 1), lambda a: _log_softmax(a, 1), make=_big),
    OpSpec("log_softmax_dtype", lambda T, a: a.log_softmax(1, T.float64), lambda a: _log_softmax(a.astype(np.float64), 1)),
    OpSpec("special_softmax", lambda T, a: T.special.softmax(a, 0), lambda a: _softmax(a, 0)),
    OpSpec("special_log_softmax", lambda T, a: T.special.log_softmax(a, -1), lambda a: _log_softmax(a, -1)),
    OpSpec("special_logsumexp", lambda T, a: T.special.logsumexp(a, 1), lambda a: np.log(np.exp(a).sum(1)), ((3, 4),)),
    OpSpec("special_logsumexp_keepdim", lambda T, a: T.special.logsumexp(a, (0, 2), keepdim=True), lambda a: np.log(np.exp(a).sum((0, 2), keepdims=True)), ((2, 3, 4),)),
    OpSpec("special_expit", lambda T, a: T.special.expit(a), lambda a: 1 / (1 + np.exp(-a))),
]  # fmt: skip
