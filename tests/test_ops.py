"""Every OpSpec gets the same battery: NumPy forward, float64 numerical gradient with a random
cotangent, double backward, non-contiguous inputs, and torch (forward + backward) when installed.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.opdb import OPS
from tests.oracle import torch

by_name = pytest.mark.parametrize("spec", OPS, ids=lambda s: s.name)


def _f32(x):
    return x.astype(np.float32) if x.dtype.kind == "f" else x


def _outs(r):
    return list(r) if isinstance(r, tuple | list) else [r]


def _float_outs(r):
    return [o for o in _outs(r) if isinstance(o, ember.Tensor) and o.is_floating_point()]


@by_name
def test_forward_matches_numpy(spec):
    if spec.ref is None:
        pytest.skip("no NumPy reference (checked against torch)")
    xs = [_f32(x) for x in spec.inputs()]
    out = spec.fn(ember, *[ember.tensor(x) for x in xs])
    ref = spec.ref(*xs)
    for o, r in zip(_outs(out), _outs(ref)):
        np.testing.assert_allclose(
            o.numpy(), r, rtol=max(spec.rtol, 1e-5), atol=max(spec.atol, 1e-6)
        )


@by_name
def test_noncontiguous_inputs(spec):
    if not spec.noncontig:
        pytest.skip("op requires contiguous input (as torch)")
    xs = [_f32(x) for x in spec.inputs()]
    cont = spec.fn(ember, *[ember.tensor(x) for x in xs])
    ts = []
    for x in xs:
        t = ember.tensor(np.asfortranarray(x)) if x.ndim >= 2 else ember.tensor(x)
        if x.ndim >= 2:
            t._data = np.asfortranarray(x)
        ts.append(t)
    nonc = spec.fn(ember, *ts)
    for a, b in zip(_outs(cont), _outs(nonc)):
        if isinstance(a, ember.Tensor):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)


def _numerical_vjp(spec, xs, cots, idx, eps=1e-6):
    def f(vals):
        out = _float_outs(spec.fn(ember, *[ember.tensor(v) for v in vals]))
        return sum(float((o.numpy().astype(np.float64) * c).sum()) for o, c in zip(out, cots))

    grads = []
    for i in idx:
        g = np.zeros_like(xs[i])
        flat = xs[i].reshape(-1)
        gf = g.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            hi = f(xs)
            flat[j] = orig - eps
            lo = f(xs)
            flat[j] = orig
            gf[j] = (hi - lo) / (2 * eps)
        grads.append(g)
    return grads


@by_name
def test_backward_matches_numerical(spec):
    if not spec.grad:
        pytest.skip("not differentiable")
    xs = spec.inputs()
    idx = spec.diff_inputs(xs)
    ts = [ember.tensor(x, requires_grad=i in idx) for i, x in enumerate(xs)]
    outs = _float_outs(spec.fn(ember, *ts))
    rng = np.random.default_rng(1)
    cots = [rng.standard_normal(o.shape) for o in outs]
    ember.autograd.backward(outs, [ember.tensor(c) for c in cots])
    expected = _numerical_vjp(spec, xs, cots, idx)
    for i, e in zip(idx, expected):
        got = ts[i].grad
        assert got is not None, f"input {i}: no gradient"
        assert got.dtype == ember.float64
        np.testing.assert_allclose(
            got.numpy(), e, rtol=spec.grad_rtol, atol=spec.grad_atol, err_msg=f"input {i}"
        )


@by_name
def test_double_backward(spec):
    """d/dx <vjp(x, cot), v> via create_graph against central differences of the first vjp."""
    if not (spec.grad and spec.gradgrad):
        pytest.skip("no double backward")
    xs = spec.inputs()
    idx = spec.diff_inputs(xs)
    rng = np.random.default_rng(2)

    def first(vals, graph):
        ts = [ember.tensor(v, requires_grad=i in idx) for i, v in enumerate(vals)]
        outs = _float_outs(spec.fn(ember, *ts))
        cots = [ember.tensor(np.random.default_rng(1).standard_normal(o.shape)) for o in outs]
        gs = ember.autograd.grad(
            outs, [ts[i] for i in idx], cots, create_graph=graph, allow_unused=True
        )
        return ts, gs

    vs = [rng.standard_normal(xs[i].shape) for i in idx]
    ts, gs = first(xs, True)
    total = None
    for g, v in zip(gs, vs):
        if g is not None and g.requires_grad:
            term = (g * ember.tensor(v)).sum()
            total = term if total is None else total + term
    if total is None:
        pytest.skip("first derivative does not depend on the inputs")
    total.backward()
    eps = 1e-6
    for i in idx:
        got = ts[i].grad.numpy() if ts[i].grad is not None else np.zeros_like(xs[i])
        num = np.zeros_like(xs[i])
        flat, nf = xs[i].reshape(-1), num.reshape(-1)
        for j in range(flat.size):
            o = flat[j]
            vals = []
            for d in (eps, -eps):
                flat[j] = o + d
                _, g2 = first(xs, False)
                vals.append(
                    sum(float((gg.numpy() * v).sum()) for gg, v in zip(g2, vs) if gg is not None)
                )
            flat[j] = o
            nf[j] = (vals[0] - vals[1]) / (2 * eps)
        np.testing.assert_allclose(got, num, rtol=1e-3, atol=1e-4, err_msg=f"input {i}")


@by_name
@pytest.mark.skipif(torch is None, reason="torch is an optional oracle")
def test_matches_torch(spec):
    if not spec.torch:
        pytest.skip("no torch counterpart")
    xs = [_f32(x) for x in spec.inputs()]
    idx = spec.diff_inputs(xs) if spec.grad else ()
    tt = [torch.tensor(x, requires_grad=i in idx) for i, x in enumerate(xs)]
    et = [ember.tensor(x, requires_grad=i in idx) for i, x in enumerate(xs)]
    t_out, e_out = _outs(spec.fn(torch, *tt)), _outs(spec.fn(ember, *et))
    assert len(t_out) == len(e_out)
    for t, e in zip(t_out, e_out):
        if isinstance(t, torch.Tensor):
            assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (
                f"dtype {e.dtype} vs {t.dtype}"
            )
            assert tuple(e.shape) == tuple(t.shape)
            np.testing.assert_allclose(
                e.detach().numpy(),
                t.detach().numpy(),
                rtol=max(spec.rtol, 1e-5),
                atol=max(spec.atol, 1e-5),
            )
        else:
            assert e == t
    if not idx:
        return
    pairs = [
        (t, e) for t, e in zip(t_out, e_out) if isinstance(t, torch.Tensor) and t.requires_grad
    ]
    rng = np.random.default_rng(1)
    cots = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t, _ in pairs]
    torch.autograd.backward([t for t, _ in pairs], [torch.tensor(c) for c in cots])
    ember.autograd.backward([e for _, e in pairs], [ember.tensor(c) for c in cots])
    for i in idx:
        tg, eg = tt[i].grad, et[i].grad
        if tg is None:
            assert eg is None or not eg.numpy().any()
            continue
        np.testing.assert_allclose(
            eg.numpy(), tg.numpy(), rtol=1e-4, atol=1e-5, err_msg=f"input {i}"
        )
