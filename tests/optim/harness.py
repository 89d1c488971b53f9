"""One training loop written once against the torch/ember API, run in both libraries.

The model is a 2-layer MLP in raw tensor ops (no ``nn``): ``tanh(x @ w1 + b1) @ w2 + b2`` with a
mean-squared loss, on fixed data and initial weights.
"""

from __future__ import annotations

import numpy as np

import ember
from tests.oracle import torch

SHAPES = [(4, 6), (6,), (6, 3), (3,)]


def data(dtype=np.float64, seed=0):
    """(x, y, initial weights) as NumPy arrays."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 4)).astype(dtype)
    y = rng.standard_normal((16, 3)).astype(dtype)
    w = [(0.5 * rng.standard_normal(s)).astype(dtype) for s in SHAPES]
    return x, y, w


def lib(T):
    """The optimizer namespace of a library (``torch.optim`` or ``ember.optim``)."""
    return T.optim


def params(T, w):
    return [T.tensor(a.copy(), requires_grad=True) for a in w]


def loss_fn(T, ps, x, y):
    w1, b1, w2, b2 = ps
    out = (x @ w1 + b1).tanh() @ w2 + b2
    return ((out - y) ** 2).mean()


def groups(ps, group_kw):
    """Param groups: all params in one group, or [first two with `group_kw`, the rest]."""
    if group_kw is None:
        return ps
    return [{"params": ps[:2], **group_kw}, {"params": ps[2:]}]


def numpy_of(ps):
    return [p.detach().numpy().copy() for p in ps]


def trajectory(T, name, kw, group_kw=None, dtype=np.float64, steps=50, w=None, opt_hook=None):
    """Parameters after each of `steps` optimizer steps (a list of lists of arrays)."""
    x, y, w0 = data(dtype)
    ps = params(T, w0 if w is None else w)
    X, Y = T.tensor(x), T.tensor(y)
    opt = getattr(T.optim, name)(groups(ps, group_kw), **kw)
    out = []
    for i in range(steps):
        opt.zero_grad()
        loss_fn(T, ps, X, Y).backward()
        opt.step()
        out.append(numpy_of(ps))
        if opt_hook is not None:
            opt_hook(i, opt, ps)
    return out


def to_ember_state(sd):
    """A torch optimizer state_dict with every Tensor replaced by an ember Tensor."""
    return _convert(sd, lambda t: ember.tensor(t.detach().numpy().copy()))


def to_torch_state(sd):
    return _convert(sd, lambda t: torch.tensor(t.detach().numpy().copy()))


def _convert(v, f):
    if torch is not None and isinstance(v, torch.Tensor) or isinstance(v, ember.Tensor):
        return f(v)
    if isinstance(v, dict):
        return {k: _convert(x, f) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return type(v)(_convert(x, f) for x in v)
    return v
