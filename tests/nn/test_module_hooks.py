"""Module hooks: forward (pre) hooks, full backward (pre) hooks, global hooks, against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
from ember.nn.modules import module as emodule
from tests.nn.helpers import close, copy_weights, et, needs_torch, rng, tt
from tests.oracle import torch


def test_forward_pre_and_post_hooks_order_kwargs_and_removal() -> None:
    m = enn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append("pre1"))
    m.register_forward_pre_hook(lambda mod, args: calls.append("pre0"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kw: (args, kw), with_kwargs=True)
    h2 = m.register_forward_hook(lambda mod, args, out: out * 0)
    m.register_forward_hook(lambda mod, args, kw, out: calls.append(("kw", kw)), with_kwargs=True)
    y = m(ember.ones(1, 2))
    assert calls == ["pre0", "pre1", ("kw", {})]
    assert float(y.abs().sum()) == 0
    h1.remove()
    h2.remove()
    with h2:
        pass
    calls.clear()
    assert float(m(ember.ones(1, 2)).abs().sum()) != 0
    assert calls == ["pre0", ("kw", {})]
    assert id(h2) not in m._forward_hooks_with_kwargs


def test_forward_pre_hook_replaces_args() -> None:
    m = enn.Identity()
    m.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # single value: wrapped in a tuple
    assert float(m(ember.ones(1))) == 2.0
    m2 = enn.Identity()
    m2.register_forward_pre_hook(lambda mod, args, kw: 5, with_kwargs=True)
    with pytest.raises(
        RuntimeError,
        match=r"forward pre-hook must return None or a tuple of \(new_args, new_kwargs\)",
    ):
        m2(ember.ones(1))


@needs_torch
def test_full_backward_hook_grads_match_torch() -> None:
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    em = enn.Sequential(enn.Linear(3, 4), enn.Tanh(), enn.Linear(4, 2)).double()
    copy_weights(tm, em)
    seen: dict = {"e": [], "t": []}

    def rec(key):
        def hook(mod, gin, gout):
            seen[key].append(
                (
                    type(mod).__name__,
                    [None if g is None else g.detach().numpy().copy() for g in gin],
                    [g.detach().numpy().copy() for g in gout],
                )
            )

        return hook

    def pre(mod, gout):
        return (gout[0] * 3,)

    for e_mod, t_mod in zip(em, tm):
        e_mod.register_full_backward_hook(rec("e"))
        t_mod.register_full_backward_hook(rec("t"))
    em[2].register_full_backward_pre_hook(pre)
    tm[2].register_full_backward_pre_hook(pre)
    a = rng(0).standard_normal((5, 3))
    x, tx = et(a, True), tt(a, True)
    em(x).sum().backward()
    tm(tx).sum().backward()
    assert [s[0] for s in seen["e"]] == [s[0] for s in seen["t"]] == ["Linear", "Tanh", "Linear"]
    for (_, gi, go), (_, tgi, tgo) in zip(seen["e"], seen["t"]):
        for a1, b1 in zip(gi + go, tgi + tgo):
            np.testing.assert_allclose(a1, b1, rtol=1e-12)
    close(x.grad, tx.grad)
    for (n, p), (_, tp) in zip(em.named_parameters(), tm.named_parameters()):
        close(p.grad, tp.grad, what=n)


@needs_torch
def test_backward_hook_can_replace_grad_input() -> None:
    em, tm = enn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    copy_weights(tm, em)
    for m in (em, tm):
        m.register_full_backward_hook(lambda mod, gin, gout: (gin[0] * 10,))
    a = rng(1).standard_normal((4, 3))
    x, tx = et(a, True), tt(a, True)
    (em(x) ** 2).sum().backward()
    (tm(tx) ** 2).sum().backward()
    close(x.grad, tx.grad)


@needs_torch
def test_backward_hook_when_no_input_requires_grad_warns_like_torch() -> None:
    em, tm = enn.Linear(3, 2), torch.nn.Linear(3, 2)
    got = {}
    em.register_full_backward_hook(lambda mod, gin, gout: got.update(e=(gin, gout)))
    tm.register_full_backward_hook(lambda mod, gin, gout: got.update(t=(gin, gout)))
    with pytest.warns(UserWarning, match="Full backward hook is firing"):
        em(ember.ones(1, 3)).sum().backward()
    with pytest.warns(UserWarning, match="Full backward hook is firing"):
        tm(torch.ones(1, 3)).sum().backward()
    assert got["e"][0] == (None,) and got["t"][0] == (None,)
    assert got["e"][1][0].shape == tuple(got["t"][1][0].shape)


@needs_torch
def test_full_backward_hook_with_inplace_relu_after_it() -> None:
    """UP-82: torch raises here (view modified in place); ember gives the non-inplace grads."""

    def build(nn, inplace):
        return nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=inplace), nn.Linear(4, 1))

    a = rng(2).standard_normal((6, 3))
    results = []
    ref = build(torch.nn, False).double()
    for inplace in (False, True):
        m = build(enn, inplace).double()
        copy_weights(ref, m)
        grads = []
        m[0].register_full_backward_hook(
            lambda mod, gin, gout: grads.append(gout[0].detach().numpy().copy())
        )
        m[1].register_full_backward_hook(
            lambda mod, gin, gout: grads.append(gin[0].detach().numpy().copy())
        )
        x = et(a, True)
        m(x).sum().backward()
        results.append((grads, x.grad.numpy().copy(), m[0].weight.grad.numpy().copy()))
    (g0, x0, w0), (g1, x1, w1) = results
    for u, v in zip(g0, g1):
        np.testing.assert_allclose(u, v)
    np.testing.assert_allclose(x0, x1)
    np.testing.assert_allclose(w0, w1)
    tx = tt(a, True)
    ref(tx).sum().backward()
    close(x1, tx.grad.numpy())
    # torch itself cannot do this one:
    t_inplace = build(torch.nn, True)
    t_inplace[0].register_full_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
        t_inplace(torch.ones(2, 3, requires_grad=True)).sum().backward()


def test_inplace_after_hooked_module_still_version_checked() -> None:
    m = enn.Sequential(enn.Sigmoid(), enn.ReLU(inplace=True))
    m[0].register_full_backward_hook(lambda *a: None)
    x = et(rng(3).standard_normal(4), True)
    # sigmoid saves its output; modifying it in place must still be caught
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        m(x).sum().backward()


def test_hook_wrong_arity_names_hook_and_module() -> None:
    m = enn.Linear(2, 2)

    def two_grads(mod, gin, gout):
        return (gin[0], gin[0])

    m.register_full_backward_hook(two_grads)
    with pytest.raises(
        RuntimeError,
        match=r"invalid number of grad_input, got 2, but expected 1 \(hook `.*two_grads` on Linear\)",
    ):
        m(et(np.ones((1, 2), np.float32), True)).sum().backward()


def test_global_forward_hooks() -> None:
    seen = []
    h = emodule.register_module_forward_hook(lambda mod, args, out: seen.append(type(mod).__name__))
    try:
        enn.Sequential(enn.Linear(1, 1), enn.ReLU())(ember.ones(1, 1))
    finally:
        h.remove()
    assert seen == ["Linear", "ReLU", "Sequential"]
    enn.ReLU()(ember.ones(1))
    assert len(seen) == 3


def test_mixing_backward_hook_kinds_raises() -> None:
    m = enn.Linear(1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.register_backward_hook(lambda *a: None)
    with pytest.raises(
        RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"
    ):
        m.register_full_backward_hook(lambda *a: None)


def test_always_call_forward_hook_runs_when_forward_raises() -> None:
    m = enn.Linear(2, 2)
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("plain"))
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        m(ember.ones(1, 3))
    assert seen == [None]
    m(ember.ones(1, 2))
    assert len(seen) == 3
