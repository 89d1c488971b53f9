"""ember.autograd.functional against torch.autograd.functional."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.oracle import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is the oracle")


CASES = [
    ("jacobian", lambda T: lambda x: x**2 + x.sum(), lambda T: T.tensor([1.0, 2.0, 3.0]), ()),
    (
        "jacobian",
        lambda T: lambda a, b: a * b.sin(),
        lambda T: (T.tensor([1.0, 2.0]), T.tensor([3.0, 4.0])),
        (),
    ),
    ("hessian", lambda T: lambda x: (x**3).sum() + x.prod(), lambda T: T.tensor([1.0, 2.0]), ()),
    ("vjp", lambda T: lambda x: x.exp(), lambda T: T.tensor([0.5, 1.0]), ("v",)),
    ("jvp", lambda T: lambda x: x.tanh() * 2, lambda T: T.tensor([0.5, 1.0]), ("v",)),
    ("vhp", lambda T: lambda x: (x**4).sum(), lambda T: T.tensor([0.5, 1.0]), ("v",)),
    ("hvp", lambda T: lambda x: (x**4).sum(), lambda T: T.tensor([0.5, 1.0]), ("v",)),
]


@pytest.mark.parametrize(
    "name,fn,inputs,extra", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)]
)
def test_matches_torch(name, fn, inputs, extra):
    res = []
    for T in (ember, torch):
        args = [fn(T), inputs(T)]
        if extra:
            args.append(T.tensor([1.0, -2.0]))
        res.append(getattr(T.autograd.functional, name)(*args))
    e, t = res
    for a, b in zip(_np_all(e), _np_all(t)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _np_all(r):
    out = []

    def walk(x):
        if isinstance(x, tuple | list):
            for y in x:
                walk(y)
        else:
            out.append(x.detach().numpy())

    walk(r)
    return out
