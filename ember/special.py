"""``ember.special``: torch.special's functions (error functions, gamma family, Bessel I0/I1,
normal distribution helpers, softmax & co.).

The primitives live in ``ember/ops/special.py`` (with their gradients); this module is the
namespace, with torch.special's names and signatures.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember.ops.elementwise import exp2, expm1, log1p, logit, round, sigmoid, xlogy
from ember.ops.special import (
    digamma,
    entr,
    erf,
    erfc,
    erfcx,
    erfinv,
    i0,
    i0e,
    i1,
    i1e,
    lgamma,
    log_ndtr,
    log_softmax,
    ndtr,
    ndtri,
    polygamma,
    sinc,
    softmax,
    xlog1py,
)
from ember.tensor import Tensor

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln",
    "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
    "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py",
    "xlogy",
]  # fmt: skip

expit = sigmoid  # 1 / (1 + exp(-x))
gammaln = lgamma  # log |Gamma(x)|
psi = digamma


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log sum_i exp(x_i) over `dim`, shifted by the max so that it cannot overflow."""
    import ember.ops as ops

    fused = getattr(ops, "logsumexp", None)
    if fused is not None:
        return fused(input, dim, keepdim)
    return _logsumexp(input, dim, keepdim)


def _logsumexp(input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    # composite fallback: m is a constant shift (the gradient of log sum exp(x - m) + m does
    # not depend on it), so max needs no gradient; infinite maxima shift by 0 (torch's values)
    from ember.ops._core import _make, float_array

    a = float_array(input._data)
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    nd = max(a.ndim, 1)
    axes = tuple(sorted({int(d) % nd for d in dims})) if a.ndim else None
    kept = () if axes is None else tuple(1 if i in axes else s for i, s in enumerate(a.shape))
    m = np.max(a, axis=axes, keepdims=True) if a.size else np.zeros(kept, a.dtype)
    shift = _make(np.where(np.isinf(m), 0, m).astype(a.dtype))
    with np.errstate(divide="ignore"):  # an empty or all -inf slice gives -inf, as torch
        r = (input - shift).exp().sum(dim=axes, keepdim=True).log() + shift
    if not keepdim and axes is not None:
        r = r.reshape(tuple(s for i, s in enumerate(a.shape) if i not in axes))
    return r


def multigammaln(input: Tensor, p: int) -> Tensor:
    """log of the multivariate gamma function of dimension p:
    p (p - 1) / 4 log(pi) + sum_(j < p) lgamma(x - j / 2) (inf where x <= (p - 1) / 2)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    r = lgamma(input)
    for j in range(1, p):
        r = r + lgamma(input - j / 2)
    return r + p * (p - 1) / 4 * math.log(math.pi)
