"""Optimizer state dicts: torch's layout, resume-identical, and loadable across ember and torch."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
import ember.optim as optim
from tests.optim import harness
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")

# (name, kwargs, first-group kwargs): every optimizer, two param groups, its stateful options on
CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True), dict(lr=0.1)),
    ("SGD", dict(lr=0.05), dict(weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True), dict(weight_decay=0.1)),
    ("AdamW", dict(lr=0.01), dict(amsgrad=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True), dict(lr=0.005)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01), dict(lr=0.05)),
    ("Adadelta", dict(), dict(rho=0.8)),
    ("Adamax", dict(lr=0.02), dict(lr=0.01)),
    ("NAdam", dict(lr=0.01), dict(decoupled_weight_decay=True, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01), dict(weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=5), dict(lr=0.02)),
    ("Rprop", dict(lr=0.01), dict(lr=0.02)),
]
IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
TOL = dict(rtol=1e-6, atol=1e-9)


def _run(T, name, kw, group_kw, w, steps, sd=None):
    """`steps` steps from weights `w` (after loading `sd`); (trajectory, optimizer, params)."""
    x, y, _ = harness.data()
    ps = harness.params(T, w)
    X, Y = T.tensor(x), T.tensor(y)
    opt = getattr(T.optim, name)(harness.groups(ps, group_kw), **kw)
    if sd is not None:
        opt.load_state_dict(sd)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        harness.loss_fn(T, ps, X, Y).backward()
        opt.step()
        out.append(harness.numpy_of(ps))
    return out, opt, ps


def _assert_close(actual, expected, tol):
    for a_ps, e_ps in zip(actual, expected):
        for a, e in zip(a_ps, e_ps):
            np.testing.assert_allclose(a, e, **tol)


@pytest.mark.parametrize("name,kw,group_kw", CASES, ids=IDS)
def test_resume_is_identical(name, kw, group_kw):
    w0 = harness.data()[2]
    full, _, _ = _run(ember, name, kw, group_kw, w0, 50)
    first, opt, ps = _run(ember, name, kw, group_kw, w0, 25)
    sd = copy.deepcopy(opt.state_dict())  # as a checkpoint would: no storage shared
    rest, _, _ = _run(ember, name, kw, group_kw, harness.numpy_of(ps), 25, sd)
    # torch: loading casts float32 scalar state (NAdam's mu_product) to the float64 params' dtype,
    # so a resumed NAdam differs in the last bit; everything else resumes bit for bit
    _assert_close(first + rest, full, dict(rtol=1e-13, atol=0))


@needs_torch
@pytest.mark.parametrize("name,kw,group_kw", CASES, ids=IDS)
def test_layout_matches_torch(name, kw, group_kw):
    w0 = harness.data()[2]
    _, eopt, _ = _run(ember, name, kw, group_kw, w0, 3)
    _, topt, _ = _run(torch, name, kw, group_kw, w0, 3)
    esd, tsd = eopt.state_dict(), topt.state_dict()
    assert list(esd) == list(tsd) == ["state", "param_groups"]
    assert esd["param_groups"] == tsd["param_groups"]
    assert [list(g) for g in esd["param_groups"]] == [list(g) for g in tsd["param_groups"]]
    assert list(esd["state"]) == list(tsd["state"])
    for i, tstate in tsd["state"].items():
        estate = esd["state"][i]
        assert list(estate) == list(tstate)
        for k, tv in tstate.items():
            ev = estate[k]
            assert isinstance(ev, ember.Tensor) == isinstance(tv, torch.Tensor), k
            if isinstance(tv, torch.Tensor):
                assert str(ev.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1], k
                assert tuple(ev.shape) == tuple(tv.shape), k
                np.testing.assert_allclose(ev.detach().numpy(), tv.numpy(), **TOL)
            else:
                assert ev == tv


@needs_torch
@pytest.mark.parametrize("name,kw,group_kw", CASES, ids=IDS)
@pytest.mark.parametrize("direction", ["torch->ember", "ember->torch"])
def test_cross_library_load(name, kw, group_kw, direction):
    w0 = harness.data()[2]
    src, dst = (torch, ember) if direction == "torch->ember" else (ember, torch)
    convert = harness.to_ember_state if dst is ember else harness.to_torch_state
    _, opt, ps = _run(src, name, kw, group_kw, w0, 25)
    w25 = harness.numpy_of(ps)
    sd = convert(opt.state_dict())
    expected, _, _ = _run(src, name, kw, group_kw, w25, 25, copy.deepcopy(opt.state_dict()))
    actual, _, _ = _run(dst, name, kw, group_kw, w25, 25, sd)
    _assert_close(actual, expected, TOL)


@needs_torch
@pytest.mark.parametrize("direction", ["torch->ember", "ember->torch"])
def test_cross_library_load_lbfgs(direction):
    src, dst = (torch, ember) if direction == "torch->ember" else (ember, torch)
    convert = harness.to_ember_state if dst is ember else harness.to_torch_state
    x, y, w0 = harness.data()

    def run(T, w, sd=None, steps=2):
        ps = harness.params(T, w)
        X, Y = T.tensor(x), T.tensor(y)
        opt = T.optim.LBFGS(ps, max_iter=5, history_size=3)
        if sd is not None:
            opt.load_state_dict(sd)

        def closure():
            opt.zero_grad()
            loss = harness.loss_fn(T, ps, X, Y)
            loss.backward()
            return loss

        for _ in range(steps):
            opt.step(closure)
        return opt, harness.numpy_of(ps)

    opt, w = run(src, w0)
    _, expected = run(src, w, copy.deepcopy(opt.state_dict()))
    _, actual = run(dst, w, convert(opt.state_dict()))
    _assert_close([actual], [expected], TOL)


def test_state_dict_is_live_and_packs_params_by_position():
    a = ember.zeros(2, requires_grad=True)
    b = ember.zeros(3, requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])
    a.grad, b.grad = ember.ones(2), ember.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert sd["state"][1]["exp_avg"] is opt.state[b]["exp_avg"]
    step = sd["state"][0]["step"]
    assert step.dtype == ember.float32 and step.ndim == 0 and float(step) == 1.0


def test_load_casts_state_to_param_dtype_but_not_step():
    a = ember.zeros(2, requires_grad=True)  # float32
    opt = optim.Adam([a])
    a.grad = ember.ones(2)
    opt.step()
    b = ember.zeros(2, dtype=ember.float64, requires_grad=True)
    opt64 = optim.Adam([b])
    opt64.load_state_dict(opt.state_dict())
    assert opt64.state[b]["exp_avg"].dtype == ember.float64
    assert opt64.state[b]["step"].dtype == ember.float32
    b.grad = ember.ones(2, dtype=ember.float64)
    opt64.step()
    assert float(opt64.state[b]["step"]) == 2.0


def test_load_converts_old_python_number_steps():
    a = ember.zeros(2, requires_grad=True)
    opt = optim.Adam([a])
    a.grad = ember.ones(2)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["step"] = 1  # torch < 1.12 checkpoints
    fresh = optim.Adam([a])
    fresh.load_state_dict(sd)
    assert isinstance(fresh.state[a]["step"], ember.Tensor)
    fresh.step()
    assert float(fresh.state[a]["step"]) == 2.0


def test_load_errors():
    a, b = ember.zeros(2, requires_grad=True), ember.zeros(2, requires_grad=True)
    one = optim.SGD([a, b], lr=0.1).state_dict()
    two = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([a, b], lr=0.1).load_state_dict(two)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a], lr=0.1).load_state_dict(one)


def test_load_state_dict_hooks_and_param_groups_replaced():
    a = ember.zeros(2, requires_grad=True)
    src = optim.SGD([a], lr=0.3, momentum=0.9)
    dst = optim.SGD([a], lr=0.1)
    seen = []
    dst.register_load_state_dict_pre_hook(lambda o, sd: seen.append("pre"))
    dst.register_load_state_dict_post_hook(lambda o: seen.append("post"))
    dst.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    dst.load_state_dict(src.state_dict())
    assert seen == ["pre", "post"]
    assert dst.param_groups[0]["lr"] == 0.3 and dst.param_groups[0]["params"] == [a]
    assert dst.state_dict()["extra"] == 1


def test_pickle_roundtrip():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.AdamW([a], lr=0.1)
    a.grad = ember.ones(2)
    opt.step()
    opt2 = pickle.loads(pickle.dumps(opt))
    (p2,) = opt2.param_groups[0]["params"]
    np.testing.assert_array_equal(p2.detach().numpy(), a.detach().numpy())
    np.testing.assert_array_equal(
        opt2.state[p2]["exp_avg"].numpy(), opt.state[a]["exp_avg"].numpy()
    )
    p2.grad = ember.ones(2)
    opt2.step()
    assert float(opt2.state[p2]["step"]) == 2.0
