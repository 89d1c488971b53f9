"""Optimizers: step-for-step against torch, against the papers (float64 NumPy), and the shell."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
import ember.optim as optim
from tests.optim import harness
from tests.optim.paper_refs import REFS, lbfgs
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")

# (name, kwargs, per-group kwargs for the first of two groups or None)
CASES = [
    ("SGD", dict(lr=0.01), None),  # the seed programs' optimizers
    ("SGD", dict(lr=0.01, momentum=0.9), None),
    ("Adam", dict(), None),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01), None),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1), dict(lr=0.2)),
    ("SGD", dict(lr=0.01, maximize=True, momentum=0.5), None),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1), dict(lr=0.05, amsgrad=False)),
    ("Adam", dict(lr=0.01, maximize=True, betas=(0.8, 0.99)), None),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), None),
    ("AdamW", dict(lr=0.01), None),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.1), dict(weight_decay=0.0)),
    ("RMSprop", dict(lr=0.01), None),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.01), None),
    ("RMSprop", dict(lr=0.005, alpha=0.9, centered=True), dict(momentum=0.5, centered=False)),
    ("Adagrad", dict(lr=0.1), None),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1),
     dict(lr=0.3, maximize=True)),
    ("Adadelta", dict(), None),
    ("Adadelta", dict(lr=0.5, rho=0.5, weight_decay=0.1), dict(rho=0.95)),
    ("Adamax", dict(lr=0.02), None),
    ("Adamax", dict(lr=0.02, weight_decay=0.1, betas=(0.5, 0.99)), dict(lr=0.01, maximize=True)),
    ("NAdam", dict(lr=0.01), None),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01), dict(lr=0.02)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), None),
    ("RAdam", dict(lr=0.01), None),
    ("RAdam", dict(lr=0.01, weight_decay=0.1), dict(decoupled_weight_decay=True)),
    ("ASGD", dict(lr=0.05), None),
    ("ASGD", dict(lr=0.05, t0=10, lambd=1e-3, weight_decay=0.01), dict(alpha=0.5, t0=20)),
    ("Rprop", dict(lr=0.01), None),
    ("Rprop", dict(lr=0.01, etas=(0.3, 1.5), step_sizes=(1e-4, 0.1)), dict(maximize=True)),
]  # fmt: skip
IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
TOL = {np.float64: dict(rtol=1e-6, atol=1e-9), np.float32: dict(rtol=1e-5, atol=1e-6)}


def assert_trajectories(actual, expected, tol):
    for step, (a_ps, e_ps) in enumerate(zip(actual, expected)):
        for i, (a, e) in enumerate(zip(a_ps, e_ps)):
            assert a.dtype == e.dtype
            np.testing.assert_allclose(a, e, **tol, err_msg=f"step {step + 1}, param {i}")


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,kw,group_kw", CASES, ids=IDS)
def test_matches_torch_every_step(name, kw, group_kw, dtype):
    expected = harness.trajectory(torch, name, kw, group_kw, dtype)
    actual = harness.trajectory(ember, name, kw, group_kw, dtype)
    assert_trajectories(actual, expected, TOL[dtype])


# ---------------------------------------------------------------- paper references (no torch)
def _grad(p, c, target):
    """A fixed, nonlinear elementwise gradient field: c (p - target) + 0.3 sin(3p)."""
    return c * (p - target) + 0.3 * np.sin(3 * p)


@pytest.mark.parametrize("name,kw,group_kw", CASES, ids=IDS)
def test_matches_paper_reference(name, kw, group_kw):
    rng = np.random.default_rng(1)
    shapes = [(3, 4), (5,)]
    w0 = [rng.standard_normal(s) for s in shapes]
    cs = [rng.uniform(0.5, 2.0, s) for s in shapes]
    targets = [rng.standard_normal(s) for s in shapes]
    ps = [ember.tensor(w.copy(), requires_grad=True) for w in w0]
    group_params = [{"params": [ps[0]], **(group_kw or {})}, {"params": [ps[1]]}]
    opt = getattr(optim, name)(group_params, **kw)
    ref_p, ref_s = [w.copy() for w in w0], [{}, {}]
    hps = [{**kw, **(group_kw or {})}, kw]
    for t in range(1, 51):
        for i, p in enumerate(ps):
            p.grad = ember.tensor(_grad(p.detach().numpy(), cs[i], targets[i]))
            g = _grad(ref_p[i], cs[i], targets[i])
            ref_p[i] = REFS[name](ref_p[i], g, ref_s[i], t, **hps[i])
        opt.step()
        for i, p in enumerate(ps):
            np.testing.assert_allclose(
                p.detach().numpy(), ref_p[i], rtol=1e-9, atol=1e-12, err_msg=f"step {t}"
            )


def _rosenbrock(x):
    f = np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return f, g


def _lbfgs_closure(x, opt):
    def closure():
        opt.zero_grad()
        f, g = _rosenbrock(x.detach().numpy())
        x.grad = ember.tensor(g)
        return f

    return closure


@pytest.mark.parametrize("kw", [dict(), dict(lr=0.5, history_size=3, max_iter=30)])
def test_lbfgs_matches_two_loop_reference(kw):
    x0 = np.array([-1.2, 1.0, 0.5, -0.3])
    x = ember.tensor(x0.copy(), requires_grad=True)
    opt = optim.LBFGS([x], **kw)
    loss = opt.step(_lbfgs_closure(x, opt))
    assert loss == _rosenbrock(x0)[0]
    expected = lbfgs(x0, _rosenbrock, **kw)
    np.testing.assert_allclose(x.detach().numpy(), expected, rtol=1e-9, atol=1e-12)


def test_lbfgs_strong_wolfe_converges():
    x = ember.tensor([-1.2, 1.0], dtype=ember.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100)
    for _ in range(3):
        opt.step(_lbfgs_closure(x, opt))
    np.testing.assert_allclose(x.detach().numpy(), np.ones(2), atol=1e-4)


LBFGS_CASES = [
    (dict(), np.float64, 2), (dict(line_search_fn="strong_wolfe"), np.float64, 2),
    (dict(history_size=2, max_iter=5, lr=0.5), np.float64, 4), (dict(), np.float32, 1),
    (dict(line_search_fn="strong_wolfe"), np.float32, 1),
    (dict(history_size=2, max_iter=5, lr=0.5), np.float32, 2),
]  # fmt: skip


@needs_torch
@pytest.mark.parametrize("kw,dtype,steps", LBFGS_CASES)
def test_lbfgs_matches_torch(kw, dtype, steps):
    # NOTE: L-BFGS on this MLP amplifies float32 rounding (torch float32 drifts from torch
    # float64 as fast as ember does), so float32 runs are short and compared loosely.
    def run(T):
        x, y, w0 = harness.data(dtype)
        ps = harness.params(T, w0)
        X, Y = T.tensor(x), T.tensor(y)
        opt = T.optim.LBFGS(ps, **kw)

        def closure():
            opt.zero_grad()
            loss = harness.loss_fn(T, ps, X, Y)
            loss.backward()
            return loss

        out = []
        for _ in range(steps):
            out.append(float(opt.step(closure).detach()))
            out.append(harness.numpy_of(ps))
        return out, opt.state[ps[0]]["func_evals"], opt.state[ps[0]]["n_iter"]

    (expected, t_evals, t_iter), (actual, e_evals, e_iter) = run(torch), run(ember)
    assert (e_evals, e_iter) == (t_evals, t_iter)
    tol = dict(rtol=1e-6, atol=1e-8) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    for e, a in zip(expected, actual):
        if isinstance(e, float):
            assert a == pytest.approx(e, rel=tol["rtol"], abs=tol["atol"])
        else:
            for ea, aa in zip(e, a):
                np.testing.assert_allclose(aa, ea, **tol)


# ---------------------------------------------------------------- the shell
def _leaf(*shape, dtype=ember.float32):
    return ember.zeros(*shape, dtype=dtype).requires_grad_()


@pytest.mark.parametrize("name", sorted(REFS))
def test_float32_stays_float32(name):
    p = ember.tensor(np.linspace(-1, 1, 6, dtype=np.float32), requires_grad=True)
    # NumPy float64 scalars are not weak under NEP 50: they must not promote the update
    lr = np.float64(0.01)
    opt = getattr(optim, name)([p], lr=lr)
    for _ in range(3):
        p.grad = ember.tensor(np.linspace(1, 2, 6, dtype=np.float32))
        opt.step()
    assert p._data.dtype == np.float32
    for v in opt.state[p].values():
        if isinstance(v, ember.Tensor) and v.ndim:
            assert v._data.dtype == np.float32
    if "step" in opt.state[p]:
        assert opt.state[p]["step"].dtype == ember.float32 and opt.state[p]["step"].ndim == 0


def test_none_grads_are_skipped_and_state_is_lazy():
    a, b = _leaf(3), _leaf(2)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = ember.ones(3)
    opt.step()
    assert b.grad is None and np.all(b.detach().numpy() == 0)
    assert b not in opt.state and float(opt.state[a]["step"]) == 1.0
    sgd = optim.SGD([a], lr=0.1)
    sgd.step()
    assert len(sgd.state) == 0  # no momentum: no state at all, as torch


def test_step_bumps_param_version():
    a = _leaf(3)
    a.grad = ember.ones(3)
    v = a._version
    optim.SGD([a], lr=0.1).step()
    assert a._version == v + 1


def test_zero_grad():
    a, b = _leaf(3), _leaf(2)
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = ember.ones(3)
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and np.all(g.detach().numpy() == 0) and b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_step_returns_closure_loss_under_enable_grad():
    a = _leaf(2)
    opt = optim.SGD([a], lr=0.1)
    seen = []

    def closure():
        seen.append(ember.is_grad_enabled())
        opt.zero_grad()
        loss = ((a - 1) ** 2).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and float(loss) == 2.0
    np.testing.assert_allclose(a.detach().numpy(), [0.2, 0.2], rtol=1e-6)


def test_param_groups_and_defaults():
    a, b, c = _leaf(1), _leaf(2), _leaf(3)
    opt = optim.SGD((p for p in [a, b]), lr=0.1, momentum=0.9)  # a generator
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["params"] == [a, b]
    opt.add_param_group({"params": c, "lr": 0.5})
    g = opt.param_groups[1]
    assert g["params"] == [c] and g["lr"] == 0.5 and g["momentum"] == 0.9
    assert opt.defaults["lr"] == 0.1
    named = optim.Adam([("w", a), ("b", b)])
    assert named.param_groups[0]["param_names"] == ["w", "b"]


@pytest.mark.parametrize(
    "make,err,msg",
    [
        (lambda a: optim.SGD([a, a * 2]), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda a: optim.SGD([a, 1]), TypeError,
         "optimizer can only optimize Tensors, but one of the params is int"),
        (lambda a: optim.SGD(a), TypeError,
         "params argument given to the optimizer should be an iterable of Tensors or dicts, but "
         "got torch.FloatTensor"),
        (lambda a: optim.SGD([]), ValueError, "optimizer got an empty parameter list"),
        (lambda a: optim.SGD([{"params": [a]}, {"params": [a]}]), ValueError,
         "some parameters appear in more than one parameter group"),
        (lambda a: optim.SGD([{"params": {a}}]), TypeError,
         "optimizer parameters need to be organized in ordered collections"),
        (lambda a: optim.LBFGS([{"params": [a]}, {"params": [_leaf(1)]}]), ValueError,
         "LBFGS doesn't support per-parameter options (parameter groups)"),
    ],
)  # fmt: skip
def test_param_errors(make, err, msg):
    with pytest.raises(err) as e:
        make(_leaf(2))
    assert msg in str(e.value)


def test_duplicate_param_in_group_warns():
    a = _leaf(2)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([a, a])


BAD = [
    ("SGD", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("SGD", dict(lr=0.1, momentum=-1.0), "Invalid momentum value: -1.0"),
    ("SGD", dict(lr=0.1, weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("Adam", dict(betas=(0.9, 0)), "betas must be either both floats or both Tensors"),
    ("AdamW", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ("RMSprop", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("Adagrad", dict(lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
    ("Adagrad", dict(initial_accumulator_value=-1.0),
     "Invalid initial_accumulator_value value: -1.0"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adamax", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("NAdam", dict(momentum_decay=-1.0), "Invalid momentum_decay value: -1.0"),
    ("RAdam", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("ASGD", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    ("LBFGS", dict(lr=-1.0), "Invalid learning rate: -1.0"),
]  # fmt: skip


@pytest.mark.parametrize("name,kw,msg", BAD, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BAD)])
def test_hyperparameter_validation(name, kw, msg):
    with pytest.raises(ValueError) as e:
        getattr(optim, name)([_leaf(2)], **kw)
    assert str(e.value) == msg
    if torch is not None:
        with pytest.raises(ValueError) as te:
            getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)
        assert str(te.value) == msg


@needs_torch
@pytest.mark.parametrize("name", sorted(REFS) + ["LBFGS"])
def test_repr_matches_torch(name):
    def make(T):
        a, b = T.zeros(2, requires_grad=True), T.zeros(1, requires_grad=True)
        params = [a] if name == "LBFGS" else [{"params": [a]}, {"params": [b], "lr": 0.5}]
        return repr(getattr(T.optim, name)(params))

    assert make(ember) == make(torch)


def test_step_hooks():
    a = _leaf(2)
    a.grad = ember.ones(2)
    opt = optim.SGD([a], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kw: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kw: calls.append(("post", o is opt)))
    h3 = optim.register_optimizer_step_pre_hook(lambda o, args, kw: calls.append(("gpre", 1)))
    opt.step()
    assert calls == [("gpre", 1), ("pre", True), ("post", True)]
    for h in (h1, h2, h3):
        h.remove()
    opt.step()
    assert len(calls) == 3


def test_custom_optimizer_subclass_with_its_own_step():
    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @ember.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.sub_(group["lr"] * p.grad.sign())

    a = _leaf(2)
    a.grad = ember.tensor([1.0, -2.0])
    opt = SignSGD([a])
    seen = []
    opt.register_step_post_hook(lambda *args: seen.append(1))
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [-0.1, 0.1], rtol=1e-6)
    assert seen == [1]


def test_tensor_lr_and_unsupported_flags():
    a = _leaf(2)
    a.grad = ember.ones(2)
    opt = optim.SGD([a], lr=ember.tensor(0.5))
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [-0.5, -0.5])
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.Adam([a], lr=ember.tensor([0.1, 0.2]))
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.Adam([a], differentiable=True)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
        optim.Adam([a], fused=True, foreach=True)


def test_adam_update_matches_closed_form_first_step():
    # step 1 of Adam moves every coordinate by lr * g / (|g| + eps') (bias corrections cancel)
    g = np.array([3.0, -0.5, 1e-3])
    p = ember.tensor(np.zeros(3), requires_grad=True)
    p.grad = ember.tensor(g)
    optim.Adam([p], lr=0.1, eps=0.0).step()
    np.testing.assert_allclose(p.detach().numpy(), -0.1 * np.sign(g), rtol=1e-12)
    assert not math.isnan(float(p.detach().numpy().sum()))


def test_no_warnings_in_a_training_loop():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        harness.trajectory(ember, "Adam", dict(), steps=3)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Rprop"])
def test_threaded_step_is_bitwise_sequential(monkeypatch, name):
    from ember.optim import _parallel

    def run(threads):
        monkeypatch.setattr(_parallel, "MAX_THREADS", threads)
        monkeypatch.setattr(_parallel, "MIN_TOTAL", 10)
        monkeypatch.setattr(_parallel, "MAX_PARAM", 400)  # the 500-element param stays inline
        rng = np.random.default_rng(0)
        ps = [ember.tensor(rng.standard_normal(n), requires_grad=True) for n in (7, 300, 50, 500)]
        kw = dict(lr=0.1, momentum=0.9) if name in ("SGD", "RMSprop") else dict(lr=0.1)
        opt = getattr(optim, name)(ps, **kw)
        for _ in range(5):
            for p in ps:
                p.grad = ember.tensor(np.sin(3 * p.detach().numpy()) + 0.1)
            opt.step()
        return harness.numpy_of(ps), opt

    sequential, _ = run(1)
    threaded, opt = run(3)
    for a, e in zip(threaded, sequential):
        np.testing.assert_array_equal(a, e)
    assert {k[0] for k in opt._scratch} == {0, 1, 2, 3}  # each worker had its own scratch


def test_threaded_step_reraises_worker_errors(monkeypatch):
    from ember.optim import _parallel

    monkeypatch.setattr(_parallel, "MAX_THREADS", 2)
    monkeypatch.setattr(_parallel, "MIN_TOTAL", 1)

    class Broken(optim.SGD):
        def _update(self, p, g, state, group):
            raise FloatingPointError("boom")

    ps = [ember.zeros(4, requires_grad=True) for _ in range(3)]
    for p in ps:
        p.grad = ember.ones(4)
    with pytest.raises(FloatingPointError, match="boom"):
        Broken(ps, lr=0.1).step()
