"""Special functions, fused softmax primitives, and in-place random fills.

* erf / erfc / erfcx: W. J. Cody's rational Chebyshev approximations (CALERF, 1969/1993),
  evaluated branch-free on cache-sized blocks; within 1e-15 relative of the true values in
  float64 (erfc in the tail too). float32 erf uses a single-precision rational fit (few ulps).
* erfinv / ndtri: M. Giles' approximation (or the tail asymptote) refined by Halley steps on
  erf (centre) or on erfc in scaled form (tails), so the tails keep full relative precision.
* lgamma (Lanczos; Taylor series at its roots 1 and 2), digamma / polygamma (recurrence up to
  an asymptotic series, reflection below 0), computed in float64 for every input dtype;
  i0 / i1 / i0e / i1e (power series, asymptotic expansion for |x| > 30), sinc, entr, xlog1py,
  ndtr, ndtri, log_ndtr.
* softmax / log_softmax: one node each (max-subtracted, numerically stable), as torch fuses them.
* ``Tensor.normal_`` and friends: fills drawing from ``ember.random`` generators, without float64
  temporaries for float32 tensors.

Array-level helpers (``_erf`` ...) are registered with the backward namespaces, so backward rules
of other ops can call ``F.erf``, ``F.digamma``, ``F.polygamma``... (and differentiate them again).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ember import dtypes
from ember.autograd import engine, tensor_np
from ember.autograd.node import site
from ember.ops._core import (
    Node,
    Tensor,
    _make,
    as_array_operands,
    check_inplace,
    commit_inplace,
    float_array,
    gm,
    record,
    wrap,
)
from ember.ops.elementwise import ZeroGradBackward, _out
from ember.random import _gen
from ember.tensor import tensor_method

__all__ = [
    "erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "i0", "sinc", "softmax",
    "log_softmax",
]  # fmt: skip

_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI
_SQRT_PI_OVER_2 = _SQRT_PI / 2.0
_INV_SQRT_PI = 1.0 / _SQRT_PI
_SQRT2 = math.sqrt(2.0)
_INV_SQRT2 = 1.0 / _SQRT2
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# ================================================================================ array helpers
def _work(a: Any) -> Any:
    """float16/bfloat16 compute in float32 (Cody's polynomials overflow half precision)."""
    return a.astype(np.float32) if a.dtype.itemsize < 4 else a


def _work64(a: Any) -> Any:
    """The gamma family computes in float64: its series cancel too much for float32."""
    return a.astype(np.float64) if a.dtype.itemsize < 8 else a


def _back(r: Any, a: Any) -> Any:
    return r if r.dtype == a.dtype else r.astype(a.dtype)


def _any_rank(fn: Any) -> Any:
    """Let an array function (written for >= 1-d, with masked assignments) take 0-d arrays and
    NumPy scalars too: backward rules call it on whatever their arrays are."""

    def wrapper(*args: Any) -> Any:
        a = args[-1]
        if isinstance(a, np.generic):
            a = np.asarray(a)
        if a.ndim == 0:
            return fn(*args[:-1], a.reshape(1)).reshape(())
        return fn(*args[:-1], a)

    wrapper.__name__ = wrapper.__qualname__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _horner(z: Any, coeffs: tuple[float, ...]) -> Any:
    """c[0] + z*(c[1] + z*(...)), highest degree last; in place on one buffer."""
    r = z * coeffs[-1]
    for c in coeffs[-2:0:-1]:
        r += c
        r *= z
    r += coeffs[0]
    return r


def _ratio(z: Any, num: tuple[float, ...], den: tuple[float, ...], lead: float) -> Any:
    """Cody's form: (n_k z^k + ... + n_0) / (z^k + d_(k-1) z^(k-1) + ... + d_0), in place.

    `num` lists n_(k-1)...n_0 with `lead` = n_k; `den` lists d_(k-1)...d_0 (monic denominator).
    """
    p = z * lead
    q = z.copy()
    for a, b in zip(num[:-1], den[:-1]):
        p += a
        p *= z
        q += b
        q *= z
    p += num[-1]
    q += den[-1]
    p /= q
    return p


# -- Cody's erf/erfc. Range 1: |x| <= 0.46875, erf(x) = x P(x^2) / Q(x^2).
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)  # fmt: skip
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)  # fmt: skip
# Range 2: 0.46875 < y <= 4, erfc(y) = exp(-y^2) P(y) / Q(y).
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)  # fmt: skip
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
# Range 3: y > 4, erfc(y) = exp(-y^2) / y * (1/sqrt(pi) + 1/y^2 R(1/y^2)).
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)  # fmt: skip
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)  # fmt: skip
_THRESH = 0.46875


def _erf_small(x: Any) -> Any:
    """Cody range 1 (|x| <= 0.46875): erf(x) = x * P(x^2) / Q(x^2)."""
    r = _ratio(x * x, _A[:4], _B, _A[4])
    r *= x
    return r


def _erfcx_mid(y: Any) -> Any:
    """Cody range 2 (0.46875 < y <= 4): exp(y^2) erfc(y) = P(y) / Q(y)."""
    return _ratio(y, _C[:8], _D, _C[8])


def _erfcx_big(y: Any) -> Any:
    """Cody range 3 (y > 4): exp(y^2) erfc(y) = (1/sqrt(pi) - z R(z)) / y with z = 1/y^2."""
    z = y * y
    np.reciprocal(z, out=z)
    r = _ratio(z, _P[:5], _Q, _P[5])
    r *= z
    np.subtract(_INV_SQRT_PI, r, out=r)
    r /= y
    return r


def _exp_neg_sq(y: Any) -> Any:
    """exp(-y^2) without the rounding error of y*y: split y = s + d with s = trunc(16 y) / 16."""
    y = np.minimum(y, 28.0)  # erfc(28) underflows to 0; keeps inf from making inf - inf
    s = y * 16.0
    np.trunc(s, out=s)
    s *= 0.0625
    d = y - s
    y += s
    d *= y
    np.negative(d, out=d)
    np.exp(d, out=d)
    np.multiply(s, s, out=s)
    np.negative(s, out=s)
    np.exp(s, out=s)
    s *= d
    return s


def _erf_block(x: Any, kind: int) -> Any:
    """kind 0: erf, 1: erfc, 2: erfcx of a float32/float64 block.

    Every element goes through Cody's ranges 1 and 2 (inputs clipped into them: branch-free and
    cheaper than compressing by masks); range 3 runs on the few elements beyond 4 only.
    """
    y = np.abs(x)
    small = ~(y > _THRESH)  # NaN lands here and propagates through range 1
    r1 = _erf_small(np.clip(x, -_THRESH, _THRESH))
    c = _erfcx_mid(np.clip(y, _THRESH, 4.0))
    big = y > 4.0
    if big.any():
        idx = np.flatnonzero(big)
        c[idx] = _erfcx_big(y[idx])
    if kind == 2:
        # erfcx(-y) = 2 exp(y^2) - erfcx(y); erfcx(x) = exp(x^2) (1 - erf(x)) near 0
        c = np.where(x < 0, 2.0 * np.exp(y * y) - c, c)
        np.subtract(1.0, r1, out=r1)
        r1 *= np.exp(x * x)
    else:
        c *= _exp_neg_sq(y)  # c = erfc(|x|)
        if kind == 0:
            np.subtract(0.5, c, out=c)  # (0.5 - c) + 0.5 rounds better than 1 - c
            c += 0.5
            np.copysign(c, x, out=c)
        else:
            c = np.where(x < 0, 2.0 - c, c)
            np.subtract(1.0, r1, out=r1)
    np.copyto(c, r1, where=small)
    return c


# float32 erf: a single odd/even rational on [-4, 4] (Eigen's / XLA's single-precision fit,
# a few ulps); erf rounds to +-1 in float32 beyond 4
_EA = (-1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04,
       -5.69250639462346e-05, -2.10102402082508e-06, 2.77068142495902e-08,
       -2.72614225801306e-10)  # fmt: skip
_EB = (-1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03,
       -2.13374055278905e-04, -1.45660718464996e-05)  # fmt: skip


def _erf_f32_block(x: Any) -> Any:
    xc = np.clip(x, -4.0, 4.0)
    z = xc * xc
    p = _horner(z, _EA)
    p /= _horner(z, _EB)
    p *= xc  # last: x * alpha_1 alone would go subnormal near the smallest normal
    return p


_BLOCK = 1 << 15  # elements per block: the temporaries of a block stay in cache


def _blocked(fn: Any, x: Any, *more: Any) -> Any:
    """fn(x, *more) elementwise on the flattened arrays (all of x's shape), block by block for
    large CPU arrays: the many passes of a series or a rational then run in cache."""
    flat = x.reshape(-1)
    rest = [m.reshape(-1) for m in more]
    n = flat.size
    if n <= 2 * _BLOCK or x.__class__ is not np.ndarray:
        return fn(flat, *rest).reshape(x.shape)
    out = np.empty_like(flat)
    for i in range(0, n, _BLOCK):
        j = i + _BLOCK
        out[i:j] = fn(flat[i:j], *[m[i:j] for m in rest])
    return out.reshape(x.shape)


@_any_rank
def _erf(a: Any) -> Any:
    """erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt."""
    x = _work(a)
    with np.errstate(all="ignore"):
        if x.dtype == np.float32:
            r = _blocked(_erf_f32_block, x)
        else:
            r = _blocked(lambda b: _erf_block(b, 0), x)
    return _back(r, a)


@_any_rank
def _erfc(a: Any) -> Any:
    """erfc(x) = 1 - erf(x), with full relative accuracy in the right tail."""
    x = _work(a)
    with np.errstate(all="ignore"):
        r = _blocked(lambda b: _erf_block(b, 1), x)
    return _back(r, a)


@_any_rank
def _erfcx(a: Any) -> Any:
    """erfcx(x) = exp(x^2) erfc(x), finite for large x."""
    x = _work(a)
    with np.errstate(all="ignore"):
        r = _blocked(lambda b: _erf_block(b, 2), x)
    return _back(r, a)


# -- erfinv: Giles' single-precision fit as the initial guess, then Halley steps.
_GILES_LO = (1.50140941, 0.246640727, -0.00417768164, -0.00125372503, 0.00021858087,
             -4.39150654e-06, -3.5233877e-06, 3.43273939e-07, 2.81022636e-08)  # fmt: skip
_GILES_HI = (2.83297682, 1.00167406, 0.00943887047, -0.0076224613, 0.00573950773,
             -0.00367342844, 0.00134934322, 0.000100950558, -0.000200214257)  # fmt: skip


def _giles(a: Any, q: Any) -> Any:
    """Giles' single-precision erfinv(a) (a few ulps in float32), branch-free; w = -log(1 - a^2)
    is formed from q = 1 - a. Valid for w < 16, i.e. 1 - a > 6e-8."""
    w = -np.log(q * (1.0 + a))
    p_lo = _horner(w - 2.5, _GILES_LO)
    p_hi = _horner(np.sqrt(w) - 3.0, _GILES_HI)
    return np.where(w < 5.0, p_lo, p_hi) * a


def _erfinv_tail_guess(q: Any) -> Any:
    """erfinv(1 - q) for tiny q: erfc(x) ~ exp(-x^2) / (x sqrt(pi)) (1 - 1/(2 x^2)), solved for
    x^2 by two fixed-point passes."""
    t = -np.log(q)
    x2 = t
    for _ in range(2):
        x2 = t - 0.5 * np.log(np.pi * x2) + np.log1p(-0.5 / x2)
    return np.sqrt(x2)


def _erfinv_f32_block(a: Any, q: Any) -> Any:
    x = _giles(a, q)
    far = np.flatnonzero(q < 6e-8)  # only ndtri's tiny p gets here: refine in float64
    if far.size:
        x[far] = _erfinv_f64_block(a[far].astype(np.float64), q[far].astype(np.float64))
    return x


def _erfinv_f64_block(a: Any, q: Any) -> Any:
    out = np.full_like(a, np.nan)
    np.copyto(out, np.inf, where=q == 0.0)
    ok = np.flatnonzero(q > 0.0)  # on q: a rounds to 1 long before q (ndtri of tiny p) is 0
    a = a[ok]
    q = q[ok]
    x = _giles(a, q)
    far = np.flatnonzero(q < 6e-8)
    if far.size:
        x[far] = _erfinv_tail_guess(q[far])
    # Halley steps (cubic: 1e-7 -> 1e-21): with u = f / f', x -= u / (1 + x u) as f''/f' = -2x
    centre = np.flatnonzero(a <= 0.5)
    xc, ac = x[centre], a[centre]
    for _ in range(2):  # f = erf(x) - a
        u = (_erf(xc) - ac) * (_SQRT_PI_OVER_2 * np.exp(xc * xc))
        xc = xc - u / (1.0 + xc * u)
    x[centre] = xc
    tail = np.flatnonzero(a > 0.5)
    xt = x[tail]
    logq = np.log(q[tail])
    for _ in range(2):  # f = erfc(x) - q, u = sqrt(pi)/2 (q e^(x^2) - erfcx(x)), q e^(x^2) in logs
        u = _SQRT_PI_OVER_2 * (np.exp(xt * xt + logq) - _erfcx(xt))
        xt = xt - u / (1.0 + xt * u)
    x[tail] = xt
    out[ok] = x
    return out


def _erfinv_core(a: Any, q: Any) -> Any:
    """erfinv(a) for a = |y| in [0, 1], given q = 1 - a exactly where a >= 0.5 (the tails work on
    q); q < 0 or NaN gives NaN, q = 0 gives inf. float32: Giles' fit alone (a few ulps)."""
    if a.dtype == np.float32:
        return np.where(q == 0.0, np.float32(np.inf), _blocked(_erfinv_f32_block, a, q))
    return _blocked(_erfinv_f64_block, a, q)


@_any_rank
def _erfinv(a: Any) -> Any:
    """erfinv(y): the x with erf(x) = y; +-inf at +-1, NaN outside [-1, 1]."""
    y = _work(a)
    with np.errstate(all="ignore"):
        m = np.abs(y)
        r = np.copysign(_erfinv_core(m, 1.0 - m), y)
    return _back(r, a)


@_any_rank
def _ndtr(a: Any) -> Any:
    """Standard normal CDF: 0.5 * erfc(-x / sqrt(2))."""
    y = _work(a)
    return _back(0.5 * _erfc(-y * _INV_SQRT2), a)


@_any_rank
def _ndtri(a: Any) -> Any:
    """Inverse of ndtr: sqrt(2) * erfinv(2p - 1), with 1 - |2p - 1| formed exactly (tails)."""
    p = _work(a)
    with np.errstate(all="ignore"):
        lower = p < 0.5
        q = np.where(lower, 2.0 * p, 2.0 * (1.0 - p))
        m = 1.0 - q
        m[q < 0] = np.nan  # p outside [0, 1]
        r = _erfinv_core(m, q) * _SQRT2
        r = np.where(lower, -r, r)
    return _back(r, a)


@_any_rank
def _log_ndtr(a: Any) -> Any:
    """log(ndtr(x)): -x^2/2 + log(erfcx(-x/sqrt 2) / 2) below -1, log1p(-erfc(x/sqrt 2)/2) else."""
    x = _work(a)
    with np.errstate(all="ignore"):
        z = x * _INV_SQRT2
        low = x < -1.0
        out = np.empty_like(x)
        zl = z[low]
        out[low] = np.log(0.5 * _erfcx(-zl)) - zl * zl
        hi = ~low
        out[hi] = np.log1p(-0.5 * _erfc(z[hi]))
    return _back(out, a)


# -- gamma family
_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)  # fmt: skip
# Bernoulli numbers B_2, B_4, ..., B_22 (asymptotic series of digamma / polygamma)
_BERN = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
         43867 / 798, -174611 / 330, 854513 / 138)  # fmt: skip


def _frac_to_int(x: Any) -> Any:
    """x - round(x): exact, in [-0.5, 0.5]; sin(pi x) = +-sin(pi r) without large-argument loss."""
    return x - np.round(x)


def _lgamma_pos(x: Any) -> Any:
    """log Gamma(x) for x >= 0.5 (Lanczos, g = 7): accurate to ~1e-15 absolute."""
    z = x - 1.0
    s = np.full_like(z, _LANCZOS[0])
    d = np.empty_like(z)
    for i in range(1, 9):
        np.add(z, float(i), out=d)
        np.divide(_LANCZOS[i], d, out=d)
        s += d
    np.log(s, out=s)
    t = z + (_LANCZOS_G + 0.5)
    z += 0.5
    z *= np.log(t)
    z -= t
    z += s
    z += _LOG_SQRT_2PI
    return z


def _zeta_table(kmax: int) -> tuple[float, ...]:
    """zeta(k) for k = 2..kmax by Euler-Maclaurin: sum_(n<N) n^-k + N^(1-k)/(k-1) + N^-k/2
    + sum_j B_2j/(2j)! k(k+1)...(k+2j-2) N^(1-k-2j), with N = 20 (error < 1e-17)."""
    big_n = 20
    out = []
    for k in range(2, kmax + 1):
        z = sum(n ** -float(k) for n in range(1, big_n))
        z += big_n ** (1.0 - k) / (k - 1) + 0.5 * big_n ** -float(k)
        rising = float(k)
        for j, b in enumerate(_BERN[:6], start=1):
            z += b / math.factorial(2 * j) * rising * big_n ** (1.0 - k - 2 * j)
            rising *= (k + 2 * j - 1) * (k + 2 * j)
        out.append(z)
    return tuple(out)


_EULER = 0.57721566490153286061
# log Gamma(1 + e) = -gamma e + sum_(k>=2) (-1)^k zeta(k) e^k / k: coefficients of e^1..e^26
_ZETA = _zeta_table(26)
_LG1 = (-_EULER,) + tuple((-1) ** k * z / k for k, z in enumerate(_ZETA, start=2))
# log Gamma(2 + e) = log Gamma(1 + e) + log(1 + e): add (-1)^(k+1) / k
_LG2 = (1 - _EULER,) + tuple(c + (-1) ** (k + 1) / k for k, c in enumerate(_LG1[1:], start=2))


def _lgamma_near_root(e: Any, coeffs: tuple[float, ...]) -> Any:
    """sum_k c_k e^k for |e| <= 0.2: full relative accuracy next to the roots x = 1, 2."""
    r = _horner(e, coeffs)
    r *= e
    r += 0.0  # lgamma(1) = lgamma(2) = +0
    return r


def _lgamma_block(x: Any) -> Any:
    # Lanczos on max(x, 1 - x); below 0.5 the reflection corrects it (both branch-free)
    neg = x < 0.5
    if not neg.any():
        out = _lgamma_pos(x)
    else:
        out = _lgamma_pos(np.where(neg, 1.0 - x, x))
        refl = np.log(np.pi / np.abs(np.sin(np.pi * _frac_to_int(x)))) - out
        np.copyto(out, refl, where=neg)
    for root, coeffs in ((1.0, _LG1), (2.0, _LG2)):
        near = np.flatnonzero(np.abs(x - root) <= 0.2)
        if near.size:
            out[near] = _lgamma_near_root(x[near] - root, coeffs)
    np.copyto(out, np.inf, where=(neg & (x == np.floor(x))) | np.isinf(x))
    return out


@_any_rank
def _lgamma(a: Any) -> Any:
    """log|Gamma(x)|: Lanczos for x >= 0.5, Taylor series around the roots 1 and 2, reflection
    log(pi / |sin(pi x)|) - lgamma(1 - x) below 0.5; inf at the poles and at +-inf."""
    x = _work64(a)
    with np.errstate(all="ignore"):
        out = _blocked(_lgamma_block, x)
    return _back(out, a)


_DIGAMMA_SERIES = tuple(b / (2 * k) for k, b in enumerate(_BERN[:8], start=1))


def _cot_poly(n: int) -> tuple[float, ...]:
    """Coefficients (low to high) of P_n with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x)).

    P_0(c) = c and P_(k+1)(c) = -(1 + c^2) P_k'(c), since d/dx cot(pi x) = -pi (1 + cot^2).
    """
    p = [0.0, 1.0]
    for _ in range(n):
        dp = [i * p[i] for i in range(1, len(p))]
        q = [0.0] * (len(dp) + 2)
        for i, v in enumerate(dp):
            q[i] -= v
            q[i + 2] -= v
        p = q
    return tuple(p)


@_any_rank
def _polygamma_arr(n: int, a: Any) -> Any:
    """psi^(n)(x), n >= 0 (psi = digamma). x < 0 reflects: differentiating
    psi(1 - x) - psi(x) = pi cot(pi x) n times gives
    psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1) P_n(cot(pi x)).
    Poles (x = 0, -1, ...) give torch's values: -+inf / NaN for psi, +-inf for n >= 1."""
    x = _work64(a)
    with np.errstate(all="ignore"):
        r = _blocked(lambda b: _polygamma_block(n, b), x)
    return _back(r, a)


def _polygamma_block(n: int, x: Any) -> Any:
    neg = np.flatnonzero(x < 0)
    r = _polygamma_pos(n, np.abs(x) + (x < 0))  # 1 - x where x < 0
    if neg.size:
        xn = x[neg]
        f = xn - np.round(xn)  # exact; cot(pi x) = cot(pi f) without large-argument loss
        rn = r[neg]
        if n % 2:
            rn = -rn
        rn -= math.pi ** (n + 1) * _horner(1.0 / np.tan(np.pi * f), _cot_poly(n))
        rn[f == 0] = np.nan if n == 0 else (np.inf if n % 2 else -np.inf)
        r[neg] = rn
    zero = np.flatnonzero(x == 0)
    if zero.size:
        # psi(+0) = -inf, psi(-0) = +inf (torch); odd n: +inf, even n >= 2: -inf
        r[zero] = np.copysign(np.inf, -x[zero]) if n == 0 else (np.inf if n % 2 else -np.inf)
    return r


def _polygamma_pos(n: int, x: Any) -> Any:
    """psi^(n)(x) for x >= 0: shift x by T = 10 + 2n steps of the recurrence
    psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n+1) n! / x^(n+1), then the asymptotic series
    psi(x) ~ log x - 1/(2x) - sum_k B_2k / (2k x^2k), and for n >= 1
    psi^(n)(x) ~ (-1)^(n+1) [(n-1)!/x^n + n!/(2 x^(n+1)) + sum_k B_2k (2k+n-1)!/(2k)! / x^(2k+n)].
    """
    shifts = 10 + 2 * n
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
    fact = float(math.factorial(n))
    # every element is shifted by the same T steps (no masks: an x already past T only gets
    # more accurate), so each step is a few branch-free passes over the block
    shape = x.shape
    z = x.reshape(-1).copy()
    acc = np.zeros_like(z)
    t = np.empty_like(z)
    for _ in range(shifts):
        np.reciprocal(z, out=t)
        if n:
            np.power(t, n + 1, out=t)
        acc += t
        z += 1.0
    if n:
        acc *= fact
    inv = 1.0 / z
    inv2 = inv * inv
    if n == 0:
        s = _horner(inv2, _DIGAMMA_SERIES)
        s *= inv2
        s += 0.5 * inv
        s += acc
        return (np.log(z) - s).reshape(shape)
    # (n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)!/(2k)! / z^(2k+n)
    s = _horner(inv2, tuple(b * (math.factorial(2 * k + n - 1) / math.factorial(2 * k))
                            for k, b in enumerate(_BERN, start=1)))  # fmt: skip
    s *= inv2
    lead = s + (float(math.factorial(n - 1)) + (0.5 * fact) * inv)
    return (sign * (lead * inv**n) + sign * acc).reshape(shape)


@_any_rank
def _digamma(a: Any) -> Any:
    """psi(x) = d/dx log Gamma(x)."""
    return _polygamma_arr(0, a)


# -- modified Bessel functions of the first kind
def _bessel_i(nu: int, a: Any, scaled: bool = False) -> Any:
    """I_nu(x) (times exp(-|x|) if `scaled`), nu in {0, 1}: the power series
    sum (x/2)^(2k+nu) / (k! (k+nu)!) (positive terms: no cancellation) for |x| <= 30, and
    e^|x| / sqrt(2 pi |x|) sum_k (-1)^k prod_j (4nu^2 - (2j-1)^2) / (k! (8|x|)^k) beyond."""
    x = _work(a)
    with np.errstate(all="ignore"):
        out = _blocked(lambda b: _bessel_block(nu, b, scaled), x)
    return _back(out, a)


def _bessel_block(nu: int, x: Any, scaled: bool) -> Any:
    y = np.abs(x)
    big = np.flatnonzero(y > 30.0)
    if big.size:
        out = np.empty_like(x)
        small = np.flatnonzero(~(y > 30.0))  # NaN stays here
        out[small] = _bessel_series(nu, y[small], scaled)
        out[big] = _bessel_asymptotic(nu, y[big], scaled)
    else:
        out = _bessel_series(nu, y, scaled)
    return np.copysign(out, x) if nu == 1 else out


def _bessel_series(nu: int, y: Any, scaled: bool) -> Any:
    q = 0.25 * y * y
    term = 0.5 * y if nu else np.ones_like(y)
    s = term.copy()
    eps = np.finfo(y.dtype).eps * 0.25
    k = 0
    while True:  # until the last term is below eps of the sum everywhere (checked every 8)
        k += 1
        term *= q
        term *= 1.0 / (k * (k + nu))
        s += term
        if k % 8 == 0 and not (term > eps * s).any():
            break
    if scaled:
        s *= np.exp(-y)
    return s


def _bessel_asymptotic(nu: int, y: Any, scaled: bool) -> Any:
    mu = 4.0 * nu * nu
    inv8 = 1.0 / (8.0 * y)
    t = np.ones_like(y)
    s = t.copy()
    for k in range(1, 30):
        t *= inv8
        t *= -(mu - (2 * k - 1) ** 2) / k
        s += t
    s /= np.sqrt(2.0 * np.pi * y)
    if not scaled:
        h = np.exp(0.5 * y)  # e^y in two halves: finite up to the true overflow point
        s *= h
        s *= h
        s[y == np.inf] = np.inf  # not 0 * inf
    return s


@_any_rank
def _i0(a: Any) -> Any:
    return _bessel_i(0, a)


@_any_rank
def _i1(a: Any) -> Any:
    return _bessel_i(1, a)


@_any_rank
def _i0e(a: Any) -> Any:
    return _bessel_i(0, a, True)


@_any_rank
def _i1e(a: Any) -> Any:
    return _bessel_i(1, a, True)


for _n, _f in (
    ("erf", _erf), ("erfc", _erfc), ("erfcx", _erfcx), ("erfinv", _erfinv), ("ndtr", _ndtr),
    ("ndtri", _ndtri), ("log_ndtr", _log_ndtr), ("lgamma", _lgamma), ("gammaln", _lgamma),
    ("digamma", _digamma), ("polygamma", _polygamma_arr), ("i0", _i0), ("i1", _i1),
    ("i0e", _i0e), ("i1e", _i1e),
):  # fmt: skip
    engine.register_array_fn(_n, _f)


@_any_rank
def _sinc(a: Any) -> Any:
    """sin(pi x) / (pi x), 1 at 0."""
    with np.errstate(all="ignore"):
        px = a * np.pi
        r = np.sin(px)
        r /= px
    r[a == 0] = 1.0
    return r


@_any_rank
def _entr(a: Any) -> Any:
    """-x log x for x > 0, 0 at 0, -inf below 0 (NaN propagates)."""
    with np.errstate(all="ignore"):
        r = -a * np.log(a)
    r[a == 0] = 0.0
    r[a < 0] = -np.inf
    return r


# ================================================================================ unary ops
def _unary_op(name: str, node: str, fwd: Any, bwd: Any, save: str = "x", doc: str = "") -> Any:
    """Build op ``name`` (function + Tensor method + in-place ``name_``) with node class ``node``.

    ``bwd(F, g, x, y)`` gets the saved input and/or output (``save``: 'x', 'y' or 'xy').
    """

    def backward(self: Node, F: Any, g: Any, *saved: Any) -> tuple:
        if save == "xy":
            return (bwd(F, g, saved[0], saved[1]),)
        if save == "x":
            return (bwd(F, g, saved[0], None),)
        return (bwd(F, g, None, saved[0]),)

    cls = type(node, (Node,), {"__slots__": (), "backward": backward, "__module__": __name__})
    globals()[node] = cls

    def op(input: Tensor, *, out: Any = None) -> Tensor:
        r = wrap(fwd(float_array(input._data)))
        if gm.enabled and input._rg:
            sv = (input,) if save == "x" else (r,) if save == "y" else (input, r)
            record(cls, r, (input,), saved=sv)
        return _out(out, r) if out is not None else r

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _method(name: str, op: Any) -> None:
    tensor_method(op, name=name)
    setattr(Tensor, name + "_", _inplace(name + "_", op))


def _inplace(name: str, op: Any) -> Any:
    """``t.<op>_()``: the op on t, written back into t. In a graph the op runs on a clone, so
    that what its node saves is not the tensor being overwritten (torch does the same)."""

    def inplace(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        check_inplace(self, name)
        src = self.clone() if gm.enabled and self._rg else self
        return commit_inplace(self, op(src, *args, **kwargs), name)

    inplace.__name__ = inplace.__qualname__ = name
    return inplace


erf = _unary_op(
    "erf", "ErfBackward0", _erf, lambda F, g, x, y: g * _TWO_OVER_SQRT_PI * F.exp(-(x * x)),
    doc="erf(x) = 2/sqrt(pi) int_0^x exp(-t^2) dt; d/dx = 2/sqrt(pi) exp(-x^2).",
)  # fmt: skip
erfc = _unary_op(
    "erfc", "ErfcBackward0", _erfc, lambda F, g, x, y: g * -_TWO_OVER_SQRT_PI * F.exp(-(x * x)),
    doc="erfc(x) = 1 - erf(x) (accurate in the right tail); d/dx = -2/sqrt(pi) exp(-x^2).",
)  # fmt: skip
erfinv = _unary_op(
    "erfinv", "ErfinvBackward0", _erfinv, lambda F, g, x, y: g * _SQRT_PI_OVER_2 * F.exp(y * y),
    save="y", doc="Inverse of erf on [-1, 1] (+-inf at +-1); d/dy = sqrt(pi)/2 exp(erfinv(y)^2).",
)  # fmt: skip
lgamma = _unary_op(
    "lgamma", "LgammaBackward0", _lgamma, lambda F, g, x, y: g * F.digamma(x),
    doc="log|Gamma(x)| (inf at the poles 0, -1, ...); d/dx = digamma(x).",
)  # fmt: skip
digamma = _unary_op(
    "digamma", "DigammaBackward0", _digamma, lambda F, g, x, y: g * F.polygamma(1, x),
    doc="digamma(x) = d/dx log Gamma(x); d/dx = polygamma(1, x).",
)  # fmt: skip
i0 = _unary_op(
    "i0", "I0Backward0", _i0, lambda F, g, x, y: g * F.i1(x),
    doc="Modified Bessel function of the first kind, order 0: sum (x/2)^(2k) / (k!)^2.",
)  # fmt: skip


def _i1_bwd(F: Any, g: Any, x: Any, y: Any) -> Any:
    # I1'(x) = I0(x) - I1(x) / x, and 1/2 at x = 0
    z = x == 0
    return g * F.where(z, 0.5, F.i0(x) - y / F.where(z, 1.0, x))


def _sinc_bwd(F: Any, g: Any, x: Any, y: Any) -> Any:
    # d/dx sin(pi x)/(pi x) = (cos(pi x) - sinc(x)) / x, 0 at x = 0
    z = x == 0
    # at 0 the branch is -pi^2/3 x: zero, with the right slope for double backward
    return g * F.where(z, x * (-(math.pi**2) / 3.0), (F.cos(x * math.pi) - y) / F.where(z, 1.0, x))


def _entr_bwd(F: Any, g: Any, x: Any, y: Any) -> Any:
    # -(1 + log x): +inf at 0, NaN below 0 (torch's values)
    with np.errstate(divide="ignore", invalid="ignore"):  # also quiets the ops of create_graph
        return g * -(F.log(x) + 1.0)


i1 = _unary_op("i1", "SpecialI1Backward0", _i1, _i1_bwd, save="xy",
               doc="Modified Bessel function of the first kind, order 1.")  # fmt: skip
sinc = _unary_op("sinc", "SincBackward0", _sinc, _sinc_bwd, save="xy",
                 doc="Normalised sinc: sin(pi x) / (pi x), 1 at 0.")  # fmt: skip
erfcx = _unary_op(
    "erfcx", "SpecialErfcxBackward0", _erfcx,
    lambda F, g, x, y: g * (2.0 * x * y - _TWO_OVER_SQRT_PI), save="xy",
    doc="Scaled complementary error function exp(x^2) erfc(x); d/dx = 2x erfcx(x) - 2/sqrt(pi).",
)  # fmt: skip
ndtr = _unary_op(
    "ndtr", "SpecialNdtrBackward0", _ndtr,
    lambda F, g, x, y: g * _INV_SQRT_2PI * F.exp(x * x * -0.5),
    doc="Standard normal CDF 0.5 erfc(-x/sqrt 2); d/dx = exp(-x^2/2) / sqrt(2 pi).",
)  # fmt: skip
ndtri = _unary_op(
    "ndtri", "SpecialNdtriBackward0", _ndtri, lambda F, g, x, y: g * _SQRT_2PI * F.exp(y * y * 0.5),
    save="y", doc="Inverse of ndtr (probit); d/dp = sqrt(2 pi) exp(ndtri(p)^2 / 2).",
)  # fmt: skip
log_ndtr = _unary_op(
    "log_ndtr", "SpecialLogNdtrBackward0", _log_ndtr,
    lambda F, g, x, y: g * _INV_SQRT_2PI * F.exp(x * x * -0.5 - y), save="xy",
    doc="log(ndtr(x)), accurate in both tails; d/dx = exp(-x^2/2 - log_ndtr(x)) / sqrt(2 pi).",
)  # fmt: skip
entr = _unary_op("entr", "SpecialEntrBackward0", _entr, _entr_bwd,
                 doc="Elementwise entropy -x log x (0 at 0, -inf below 0).")  # fmt: skip


def _i0e_bwd(F: Any, g: Any, x: Any, y: Any) -> Any:
    # d/dx e^-|x| I0(x) = i1e(x) - sign(x) i0e(x)
    return g * (F.i1e(x) - F.sign(x) * y)


def _i1e_bwd(F: Any, g: Any, x: Any, y: Any) -> Any:
    # d/dx e^-|x| I1(x) = i0e(x) - i1e(x) (sign(x) + 1/x), and 1/2 at x = 0
    z = x == 0
    return g * F.where(z, 0.5, F.i0e(x) - y * (F.sign(x) + 1.0 / F.where(z, 1.0, x)))


i0e = _unary_op("i0e", "SpecialI0EBackward0", _i0e, _i0e_bwd, save="xy",
                doc="Exponentially scaled modified Bessel function exp(-|x|) I0(x).")  # fmt: skip
i1e = _unary_op("i1e", "SpecialI1EBackward0", _i1e, _i1e_bwd, save="xy",
                doc="Exponentially scaled modified Bessel function exp(-|x|) I1(x).")  # fmt: skip
for _n in ("erf", "erfc", "erfinv", "lgamma", "digamma", "i0", "sinc"):
    _method(_n, globals()[_n])


class PolygammaBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any) -> tuple:
        return (g * F.polygamma(self.args + 1, x),)


def polygamma(n: int, input: Tensor, *, out: Any = None) -> Tensor:
    """n-th derivative of digamma, n >= 0; d/dx = polygamma(n + 1, x)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    r = wrap(_polygamma_arr(int(n), float_array(input._data)))
    if gm.enabled and input._rg:
        record(PolygammaBackward0, r, (input,), saved=(input,), args=int(n))
    return _out(out, r) if out is not None else r


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    return polygamma(n, self)


Tensor.polygamma = _polygamma_method  # type: ignore[attr-defined]
Tensor.polygamma_ = _inplace("polygamma_", _polygamma_method)  # type: ignore[attr-defined]


# ================================================================================ binary: xlog1py
class SpecialXlog1PyBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, y: Any) -> tuple:
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):  # y <= -1: torch's inf / NaN
            if self.edges[0] is not None:
                # torch: xlog1py(g, y), zeroed where x == 0 and y <= -1
                gx = F.where((x == 0) & (y <= -1), 0.0, g * F.log1p(y))
            if self.edges[1] is not None:
                gy = g * x / (y + 1.0)
        return gx, gy


def xlog1py(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """x * log1p(y), 0 where x == 0 (unless y is NaN); either may be a scalar."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlog1py(): expected at least one Tensor argument")
    xa, ya = as_array_operands(input, other, true_div=True)  # ints compute in the default float
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.multiply(xa, np.log1p(ya))
        r = np.where((xa == 0) & ~np.isnan(ya), 0.0, r).astype(r.dtype, copy=False)
    r = wrap(r)
    ti = input if isinstance(input, Tensor) else None
    to = other if isinstance(other, Tensor) else None
    if gm.enabled and ((ti is not None and ti._rg) or (to is not None and to._rg)):
        xs = ti if ti is not None and ti._data is xa else xa if ti is None else _make(xa)
        ys = to if to is not None and to._data is ya else ya if to is None else _make(ya)
        record(SpecialXlog1PyBackward0, r, (ti, to), saved=(xs, ys))
    return _out(out, r) if out is not None else r


for _n, _f in (
    ("erfc", erfc), ("erfinv", erfinv), ("lgamma", lgamma), ("gammaln", lgamma),
    ("digamma", digamma), ("polygamma", polygamma), ("i0", i0), ("i1", i1), ("sinc", sinc),
    ("i0e", i0e), ("i1e", i1e),
    ("erfcx", erfcx), ("ndtr", ndtr), ("ndtri", ndtri), ("log_ndtr", log_ndtr), ("entr", entr),
    ("xlog1py", xlog1py),
):  # fmt: skip
    tensor_np.register(_n, _f)


# ================================================================================ softmax
def _softmax_dim(dim: Any, ndim: int, fname: str) -> int:
    if dim is None or isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(
            f"{fname}(): argument 'dim' (position 2) must be int, not {type(dim).__name__}"
        )
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return int(dim) % n


def implicit_softmax_dim(name: str, ndim: int, stacklevel: int = 3) -> int:
    """torch's legacy ``dim=None`` of nn.functional.softmax & co: warn, then 0 for 0-, 1- and
    3-d inputs, else 1 (for nn.functional; ``ember.softmax`` itself requires ``dim``)."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input: Tensor, dim: Any, dtype: Any, fname: str) -> tuple[Tensor, Any, Any]:
    """(input cast to `dtype`, the array to compute on, the axis or None for 0-d)."""
    if dtype is not None:
        input = input.to(dtypes.as_dtype(dtype))  # a recorded cast: grads flow back through it
    a = input._data
    ax = _softmax_dim(dim, a.ndim, fname)
    if a.dtype.kind != "f" and a.dtype.name != "bfloat16":
        kernel = (
            f"{fname}_lastdim_kernel_impl"
            if ax == a.ndim - 1 or a.ndim == 0
            else (f"{fname}_kernel_impl")
        )
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_tname(dtypes.from_np(a.dtype))}'"
        )
    return input, a, (ax if a.ndim else None)


def _softmax_arr(a: Any, ax: Any, log: bool) -> Any:
    """exp(a - max) / sum(exp(a - max)) or (a - max) - log(sum(exp(a - max))) along ax."""
    w = _work(a)  # half precision accumulates in float32, as torch's kernels do
    if w.size == 0:
        return a.copy()
    if ax is None:  # 0-d: one element, softmax 1 and log_softmax 0 (NaN/inf propagate)
        return _softmax_arr(a.reshape(1), 0, log).reshape(())
    with np.errstate(invalid="ignore"):  # rows of -inf give NaN, as torch
        e = np.subtract(w, w.max(axis=ax, keepdims=True), dtype=w.dtype)
        if log:
            s = np.exp(e).sum(axis=ax, keepdims=True)
            np.log(s, out=s)
            e -= s
        else:
            np.exp(e, out=e)
            e /= e.sum(axis=ax, keepdims=True)
    return _back(e, a)


class SoftmaxBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, y: Any) -> tuple:
        ax = self.args
        if ax is None:  # 0-d: y == 1 whatever x is
            return (F.zeros_like(g),)
        # dx = y * (g - sum(g * y))
        if isinstance(g, Tensor):  # create_graph: differentiable ops
            gy = g * y
            return (gy - y * F.sum(gy, axis=ax, keepdims=True),)
        gy = F.multiply(g, y)  # the one full-size temporary; the rest happens in it
        s = F.sum(gy, axis=ax, keepdims=True)
        F.subtract(g, s, out=gy)
        F.multiply(gy, y, out=gy)
        return (gy,)


class LogSoftmaxBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, y: Any) -> tuple:
        ax = self.args
        if ax is None:  # 0-d: y == 0 whatever x is
            return (F.zeros_like(g),)
        # dx = g - softmax * sum(g), softmax = exp(y)
        if isinstance(g, Tensor):
            return (g - F.exp(y) * F.sum(g, axis=ax, keepdims=True),)
        e = F.exp(y)
        F.multiply(e, F.sum(g, axis=ax, keepdims=True), out=e)
        F.subtract(g, e, out=e)
        return (e,)


@tensor_method
def softmax(input: Tensor, dim: Any, dtype: Any = None) -> Tensor:
    """exp(x_i - max) / sum_j exp(x_j - max) along `dim` (cast to `dtype` first if given)."""
    input, a, ax = _softmax_input(input, dim, dtype, "softmax")
    r = wrap(_softmax_arr(a, ax, False))
    if gm.enabled and input._rg:
        record(SoftmaxBackward0, r, (input,), saved=(r,), args=ax)
    return r


@tensor_method
def log_softmax(input: Tensor, dim: Any, dtype: Any = None) -> Tensor:
    """(x_i - max) - log sum_j exp(x_j - max) along `dim` (cast to `dtype` first if given)."""
    input, a, ax = _softmax_input(input, dim, dtype, "log_softmax")
    r = wrap(_softmax_arr(a, ax, True))
    if gm.enabled and input._rg:
        record(LogSoftmaxBackward0, r, (input,), saved=(r,), args=ax)
    return r


def softmin(input: Tensor, dim: Any, dtype: Any = None) -> Tensor:
    """softmax(-input) (nn.functional.softmin; torch has no torch.softmin)."""
    if dtype is not None:
        input = input.to(dtypes.as_dtype(dtype))
    return softmax(-input, dim)


def _tname(d: dtypes.dtype) -> str:
    return {
        "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
        "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
        "bool": "Bool",
    }[d.name]  # fmt: skip


# ================================================================================ random fills
# Tensor.normal_ & co. draw from an ``ember.random`` Generator (the default one unless
# ``generator=``). Float32 and float64 tensors get draws of their own dtype written straight into
# their storage when it is C-contiguous (NumPy's ``out=``); half precision draws in float32.
_CT = {"uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
       "int64": "long int", "bool": "bool"}  # fmt: skip
_FT = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16"}
_DIGITS = {"float32": 24, "float64": 53, "float16": 11, "bfloat16": 8}


def _is_float(a: Any) -> bool:
    return a.dtype.kind == "f" or a.dtype.name == "bfloat16"


def _need_float(t: Tensor, kernel: str) -> None:
    a = t._data
    if not _is_float(a):
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_tname(dtypes.from_np(a.dtype))}'"
        )


def _fill(t: Tensor, name: str, node: str, draw: Any) -> Tensor:
    """Fill `t` in place with ``draw(shape, np_dtype, out)`` (out: t's own array or None).

    A leaf that requires grad may be filled under no_grad (nn.init); a non-leaf in a graph gets
    a zero-gradient node named as torch's (``NormalBackward0`` ...), like any in-place op.
    """
    check_inplace(t, name)
    ta = t._data
    if gm.enabled and t._rg:
        r = _make(_to_like(draw(ta.shape, ta.dtype, None), ta))
        record(ZeroGradBackward, r, (t,), args=node)
        return commit_inplace(t, r, name)
    if ta.__class__ is np.ndarray and ta.flags.c_contiguous and ta.flags.writeable:
        v = draw(ta.shape, ta.dtype, ta)
        if v is not ta:
            ta[...] = v
    else:
        ta[...] = _to_like(draw(ta.shape, ta.dtype, None), ta)
    vc = t._vc
    vc[0] += 1
    vc[1] = (name, site(3))
    return t


def _to_like(v: Any, like: Any) -> Any:
    if like.__class__ is np.ndarray:
        return v
    from ember.backends import xp_of

    return xp_of(like).asarray(v)


def _native(dt: Any) -> bool:
    return dt == np.float32 or dt == np.float64


def _float_draw(method: str, shape: tuple, dt: Any, out: Any, g: Any) -> Any:
    """Draws of Generator `method` in `dt` if float32/64 (into `out` when given), else float32."""
    fn = getattr(g, method)
    if _native(dt):
        if out is not None:
            return fn(dtype=dt, out=out)
        return fn(shape, dtype=dt)
    return fn(shape, dtype=np.float32)


def _finish(v: Any, dt: Any) -> Any:
    return v if v.dtype == dt else v.astype(dt)


def _normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with N(mean, std^2) samples."""
    _need_float(self, "normal_kernel_cpu")
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    g = _gen(generator)

    def draw(shape: tuple, dt: Any, out: Any) -> Any:
        v = _float_draw("standard_normal", shape, dt, out, g)
        if std != 1.0:
            v *= std
        if mean != 0.0:
            v += mean
        return _finish(v, dt)

    return _fill(self, "normal_", "NormalBackward0", draw)


def _uniform_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """Fill with U[from, to) samples; torch's signature ``uniform_(from=0, to=1, *, generator)``."""
    lo, hi = _from_to(args, kwargs, "uniform_", (0.0, 1.0))
    _need_float(self, "check_uniform_bounds")
    fname = _FT.get(self._data.dtype.name, "float")
    if not math.isfinite(lo):
        raise RuntimeError(f"from is out of bounds for {fname}")
    if not math.isfinite(hi):
        raise RuntimeError(f"to is out of bounds for {fname}")
    if lo > hi:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={lo} > to={hi}"
        )
    g = _gen(generator)

    def draw(shape: tuple, dt: Any, out: Any) -> Any:
        v = _float_draw("random", shape, dt, out, g)
        if hi - lo != 1.0:
            v *= hi - lo
        if lo != 0.0:
            v += lo
        return _finish(v, dt)

    return _fill(self, "uniform_", "UniformBackward0", draw)


def _from_to(args: tuple, kwargs: dict, fname: str, defaults: tuple) -> tuple[Any, Any]:
    """torch's ``(from=..., to=...)``: `from` is a Python keyword, so it arrives in **kwargs."""
    if len(args) > 2:
        raise TypeError(
            f"{fname}() takes from 0 to 2 positional arguments but {len(args)} were given"
        )
    extra = set(kwargs) - {"from", "to"}
    if extra:
        raise TypeError(f"{fname}() got an unexpected keyword argument '{sorted(extra)[0]}'")
    vals = list(defaults)
    for i, v in enumerate(args):
        vals[i] = v
    if "from" in kwargs:
        vals[0] = kwargs["from"]
    if "to" in kwargs:
        vals[1] = kwargs["to"]
    return vals[0], vals[1]


def _bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Fill with 1 with probability p (a float, or a tensor broadcastable to self), else 0."""
    shape = self._data.shape
    if isinstance(p, Tensor):
        pa = p._data
        if not _is_float(pa):
            raise NotImplementedError(
                '"bernoulli_tensor_cpu_p_" not implemented for '
                f"'{_tname(dtypes.from_np(pa.dtype))}'"
            )
        if bool(((pa < 0) | (pa > 1)).any()):
            raise RuntimeError(
                "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                "message be improved?  If so, please report an enhancement request to PyTorch.)"
            )
        pa = _expand_p(pa, shape)
        pa = pa.get() if pa.__class__ is not np.ndarray else pa
        ud = np.float64 if pa.dtype == np.float64 else np.float32
    else:
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        pa = p
        ud = np.float64 if self._data.dtype == np.float64 else np.float32
    g = _gen(generator)

    def draw(shape: tuple, dt: Any, out: Any) -> Any:
        u = g.random(shape, dtype=ud)
        if out is not None:
            np.less(u, pa, out=out)  # bool -> out's dtype, no intermediate
            return out
        return np.less(u, pa).astype(dt)

    node = "BernoulliBackward1" if isinstance(p, Tensor) else "BernoulliBackward2"
    return _fill(self, "bernoulli_", node, draw)


def _expand_p(pa: Any, shape: tuple) -> Any:
    try:
        return np.broadcast_to(pa, shape) if pa.__class__ is np.ndarray else pa
    except ValueError:
        pass
    pt = f"{_tname(dtypes.from_np(pa.dtype))}Tensor{{{list(pa.shape)}}}"
    if pa.ndim > len(shape):
        raise RuntimeError(
            f"expand(torch.{pt}, size={list(shape)}): the number of sizes provided ({len(shape)}) "
            f"must be greater or equal to the number of dimensions in the tensor ({pa.ndim})"
        )
    for i in range(1, pa.ndim + 1):
        if pa.shape[-i] not in (1, shape[-i]):
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[-i]}) must match the existing size "
                f"({pa.shape[-i]}) at non-singleton dimension {len(shape) - i}.  Target sizes: "
                f"{list(shape)}.  Tensor sizes: {list(pa.shape)}"
            )
    raise RuntimeError(f"cannot expand p of shape {list(pa.shape)} to {list(shape)}")


def _exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with Exp(lambd) samples (density lambd e^(-lambd x)); never exactly 0, as torch."""
    if not _is_float(self._data):
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {_tname(dtypes.from_np(self._data.dtype))}"
        )
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_num(lambd)}")
    g = _gen(generator)

    def draw(shape: tuple, dt: Any, out: Any) -> Any:
        v = _float_draw("standard_exponential", shape, dt, out, g)
        if lambd != 1.0:
            v *= 1.0 / lambd
        v = _finish(v, dt)
        zero = v == 0
        if zero.any():  # torch's support is (0, inf)
            v[zero] = np.finfo(v.dtype).tiny
        return v

    return _fill(self, "exponential_", "ExponentialBackward0", draw)


def _num(x: Any) -> str:
    """torch prints whole-valued doubles without a fractional part (lambda=0, std=2)."""
    return str(int(x)) if float(x).is_integer() else str(x)


def _geometric_(self: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success: 1, 2, ..."""
    if self._data.dtype == np.bool_:
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_num(p)}")
    g = _gen(generator)

    def draw(shape: tuple, dt: Any, out: Any) -> Any:
        return g.geometric(p, shape).astype(dt, copy=False)

    return _fill(self, "geometric_", "GeometricBackward0", draw)


def _log_normal_(
    self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None
) -> Tensor:
    """Fill with exp(N(mean, std^2)) samples (mean/std of the underlying normal)."""
    _need_float(self, "log_normal_cpu")
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_num(std)}")
    g = _gen(generator)

    def draw(shape: tuple, dt: Any, out: Any) -> Any:
        v = _float_draw("standard_normal", shape, dt, out, g)
        v *= std
        v += mean
        np.exp(v, out=v)
        return _finish(v, dt)

    return _fill(self, "log_normal_", "LogNormalBackward0", draw)


def _cauchy_(
    self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None
) -> Tensor:
    """Fill with Cauchy samples median + sigma tan(pi (u - 1/2)), u ~ U[0, 1)."""
    if not _is_float(self._data):
        raise RuntimeError(
            "Cauchy distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {_CT.get(self._data.dtype.name, 'long int')}"
        )
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_num(sigma)}")
    g = _gen(generator)

    def draw(shape: tuple, dt: Any, out: Any) -> Any:
        v = _float_draw("random", shape, dt, out, g)
        v -= 0.5
        v *= math.pi
        np.tan(v, out=v)
        if sigma != 1.0:
            v *= sigma
        if median != 0.0:
            v += median
        return _finish(v, dt)

    return _fill(self, "cauchy_", "CauchyBackward0", draw)


def _random_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """Fill with integers uniform on [from, to - 1]; ``random_(to)``; without `to`, up to the
    dtype's max (floats: 2^mantissa digits, so every value is exact)."""
    nargs = len(args) + len(kwargs)
    if len(args) == 1 and "to" not in kwargs and "from" not in kwargs:
        args, kwargs = (), {"to": args[0]}  # random_(to)
    lo, hi = _from_to(args, kwargs, "random_", (0, None))
    for v in (lo, hi):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer)):
            raise TypeError(
                "random_() received an invalid combination of arguments - got "
                f"({', '.join(type(a).__name__ for a in (lo, hi))}), but expected one of: "
                "(*, Generator generator), (int from, int to, *, Generator generator), "
                "(int to, *, Generator generator)"
            )
    a = self._data
    name = a.dtype.name
    if _is_float(a):
        d = _DIGITS[name]
        top = 1 << d
        for what, v in (("from", lo), ("to - 1", None if hi is None else hi - 1)):
            if v is not None and not -top <= v <= top:
                warnings.warn(
                    f"{what} is out of bounds [-(2^{d}), 2^{d}]. Due to precision limitations "
                    f"{_FT[name]} can support discrete uniform distribution only within this "
                    "range. This warning will become an error in version 1.7 release, please fix "
                    "the code in advance",
                    UserWarning,
                    stacklevel=2,
                )
        last = top if hi is None else hi - 1
    else:
        info = (
            (0, 1) if name == "bool" else (int(np.iinfo(a.dtype).min), int(np.iinfo(a.dtype).max))
        )
        if not info[0] <= lo <= info[1]:
            raise RuntimeError(f"from is out of bounds for {_CT[name]}")
        if hi is not None and not info[0] <= hi - 1 <= info[1]:
            raise RuntimeError(f"to - 1 is out of bounds for {_CT[name]}")
        last = info[1] if hi is None else hi - 1
    if hi is not None and lo >= hi:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}"
        )
    g = _gen(generator)
    lo, last = int(lo), int(last)

    def draw(shape: tuple, dt: Any, out: Any) -> Any:
        idt = np.int64
        if dt.kind in "iu":
            idt = dt  # NumPy draws straight in int8/uint8/...
        elif lo >= -(1 << 31) and last < (1 << 31):
            idt = np.int32  # halves the temporary for float tensors
        v = g.integers(lo, last, shape, dtype=idt, endpoint=True)
        return v.astype(dt, copy=False)

    # torch's node names by overload: random_(from, to), random_(to), random_()
    node = (
        "RandomBackward2" if nargs == 0 else "RandomBackward1" if nargs == 1 else "RandomBackward0"
    )
    return _fill(self, "random_", node, draw)


for _n, _f in (
    ("normal_", _normal_), ("uniform_", _uniform_), ("bernoulli_", _bernoulli_),
    ("exponential_", _exponential_), ("geometric_", _geometric_), ("log_normal_", _log_normal_),
    ("cauchy_", _cauchy_), ("random_", _random_),
):  # fmt: skip
    _f.__name__ = _f.__qualname__ = _n
    setattr(Tensor, _n, _f)
