"""LR schedulers: 100-step sequences equal to torch's, closed forms without torch, state dicts."""

from __future__ import annotations

import copy
import math
from bisect import bisect_right

import numpy as np
import pytest

import ember
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")
BASE = (0.1, 0.05)


def _opt(T, kind="SGD"):
    ps = [T.zeros(2, requires_grad=True), T.zeros(3, requires_grad=True)]
    groups = [{"params": [ps[0]], "lr": BASE[0]}, {"params": [ps[1]], "lr": BASE[1]}]
    if kind == "SGD":
        return T.optim.SGD(groups, lr=0.1, momentum=0.9)
    return T.optim.Adam(groups, lr=0.1)


def _lambda(e):
    return 0.95**e


# name -> (optimizer kind, make(S, opt) with S the lr_scheduler module)
SCHEDULERS = {
    "LambdaLR": ("SGD", lambda S, o: S.LambdaLR(o, _lambda)),
    "LambdaLR-list": ("SGD", lambda S, o: S.LambdaLR(o, [_lambda, lambda e: 1 / (1 + e)])),
    "MultiplicativeLR": ("SGD", lambda S, o: S.MultiplicativeLR(o, lambda e: 0.97)),
    "StepLR": ("SGD", lambda S, o: S.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": ("SGD", lambda S, o: S.MultiStepLR(o, [10, 30, 30, 60], gamma=0.3)),
    "ConstantLR": ("SGD", lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=10)),
    "LinearLR": ("SGD", lambda S, o: S.LinearLR(o, 0.1, 0.9, total_iters=20)),
    "ExponentialLR": ("SGD", lambda S, o: S.ExponentialLR(o, gamma=0.97)),
    "PolynomialLR": ("SGD", lambda S, o: S.PolynomialLR(o, total_iters=40, power=2.0)),
    "CosineAnnealingLR": ("SGD", lambda S, o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.001)),
    "WarmRestarts": ("SGD", lambda S, o: S.CosineAnnealingWarmRestarts(o, 10, 2, eta_min=1e-3)),
    "WarmRestarts-1": ("SGD", lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=7)),
    "CyclicLR": ("SGD", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=7, step_size_down=5)),
    "CyclicLR-tri2": ("SGD", lambda S, o: S.CyclicLR(o, [0.01, 0.02], 0.1, 6, mode="triangular2")),
    "CyclicLR-exp": ("SGD", lambda S, o: S.CyclicLR(o, 0.01, 0.1, 8, mode="exp_range", gamma=0.99)),
    "CyclicLR-adam": ("Adam", lambda S, o: S.CyclicLR(o, 0.001, 0.01, 5, cycle_momentum=True)),
    "CyclicLR-fn": ("SGD", lambda S, o: S.CyclicLR(
        o, 0.01, 0.1, 5, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
        cycle_momentum=False)),
    "OneCycleLR": ("SGD", lambda S, o: S.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=100)),
    "OneCycleLR-lin3": ("SGD", lambda S, o: S.OneCycleLR(
        o, 0.1, epochs=10, steps_per_epoch=10, anneal_strategy="linear", three_phase=True)),
    "OneCycleLR-adam": ("Adam", lambda S, o: S.OneCycleLR(o, 0.01, total_steps=100, pct_start=0.2)),
    "SequentialLR": ("SGD", lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.1, total_iters=5), S.ExponentialLR(o, gamma=0.9),
            S.CosineAnnealingLR(o, T_max=20)], milestones=[10, 40])),
    "ChainedScheduler": ("SGD", lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.1, total_iters=5), S.ExponentialLR(o, gamma=0.9),
         S.StepLR(o, 10, 0.5)])),
}  # fmt: skip


def _sequence(T, key, steps=100):
    kind, make = SCHEDULERS[key]
    opt = _opt(T, kind)
    sched = make(T.optim.lr_scheduler, opt)
    out = [(list(sched.get_last_lr()), _momenta(opt))]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append((list(sched.get_last_lr()), _momenta(opt)))
        assert [g["lr"] for g in opt.param_groups] == out[-1][0]
    return out, sched, opt


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


@needs_torch
@pytest.mark.parametrize("key", sorted(SCHEDULERS))
def test_sequence_equals_torch(key):
    actual, esched, eopt = _sequence(ember, key)
    expected, tsched, topt = _sequence(torch, key)
    assert actual == expected  # the same float operations in the same order: exactly equal
    assert sorted(esched.state_dict()) == sorted(tsched.state_dict())
    assert [sorted(g) for g in eopt.param_groups] == [sorted(g) for g in topt.param_groups]


# ---------------------------------------------------------------- closed forms (no torch)
def _cos(base, lo, t, T):
    return lo + (base - lo) * (1 + math.cos(math.pi * t / T)) / 2


def _warm(base, lo, e, T0, mult):
    T, t = T0, e
    while t >= T:
        t, T = t - T, T * mult
    return _cos(base, lo, t, T)


def _onecycle(base_max, e, n, pct):
    lo, hi = base_max / 25, base_max
    end1 = float(pct * n) - 1
    if e <= end1:  # warm up from max/25 to max, then anneal to max/25/1e4, both by cosine
        return hi + (lo - hi) / 2 * (math.cos(math.pi * e / end1) + 1)
    pct2 = (e - end1) / (n - 1 - end1)
    return lo / 1e4 + (hi - lo / 1e4) / 2 * (math.cos(math.pi * pct2) + 1)


def _triangular(base, top, e, up, down):
    cycle_pos = e % (up + down)
    x = cycle_pos / up if cycle_pos <= up else 1 - (cycle_pos - up) / down
    return base + (top - base) * x


CLOSED = {
    "LambdaLR": lambda b, e: b * 0.95**e,
    "MultiplicativeLR": lambda b, e: b * 0.97**e,
    "StepLR": lambda b, e: b * 0.5 ** (e // 7),
    "MultiStepLR": lambda b, e: b * 0.3 ** bisect_right([10, 30, 30, 60], e),
    "ConstantLR": lambda b, e: b * (0.25 if e < 10 else 1.0),
    "LinearLR": lambda b, e: b * (0.1 + 0.8 * min(20, e) / 20),
    "ExponentialLR": lambda b, e: b * 0.97**e,
    "PolynomialLR": lambda b, e: b * (1 - min(40, e) / 40) ** 2,
    "CosineAnnealingLR": lambda b, e: _cos(b, 0.001, e, 30),
    "WarmRestarts": lambda b, e: _warm(b, 1e-3, e, 10, 2),
    "WarmRestarts-1": lambda b, e: _warm(b, 0.0, e, 7, 1),
    "CyclicLR": lambda b, e: _triangular(0.01, 0.1, e, 7, 5),
    "OneCycleLR": lambda b, e: _onecycle(0.1 if b == BASE[0] else 0.2, e, 100, 0.3),
    "ChainedScheduler": lambda b, e: b * (0.1 if e < 5 else 1.0) * 0.9**e * 0.5 ** (e // 10),
}


@pytest.mark.parametrize("key", sorted(CLOSED))
def test_sequence_matches_closed_form(key):
    seq, _, _ = _sequence(ember, key)
    for e, (lrs, _) in enumerate(seq):
        expected = [CLOSED[key](b, e) for b in BASE]
        np.testing.assert_allclose(lrs, expected, rtol=1e-10, atol=1e-14, err_msg=f"epoch {e}")


def test_cosine_annealing_keeps_oscillating_past_t_max():
    seq, _, _ = _sequence(ember, "CosineAnnealingLR")
    lrs = [lr[0] for lr, _ in seq]
    assert lrs[30] == pytest.approx(0.001) and lrs[60] == pytest.approx(0.1)


def test_cyclic_momentum_moves_opposite_to_lr():
    seq, _, _ = _sequence(ember, "CyclicLR")
    (lr0, m0), (lr7, m7) = seq[0], seq[7]
    assert lr0[0] == pytest.approx(0.01) and m0[0] == pytest.approx(0.9)
    assert lr7[0] == pytest.approx(0.1) and m7[0] == pytest.approx(0.8)


# ---------------------------------------------------------------- ReduceLROnPlateau
METRICS = [1.0, 0.9, 0.9, 0.899, 0.91, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8] * 7 + [
    0.5 + 0.01 * i for i in range(2)
]
PLATEAU = [
    dict(mode="min", factor=0.5, patience=3, threshold=0.01, threshold_mode="rel"),
    dict(mode="min", factor=0.5, patience=2, threshold=0.005, threshold_mode="abs", cooldown=2),
    dict(mode="max", factor=0.3, patience=1, threshold=0.01, threshold_mode="rel",
         min_lr=[0.001, 0.002]),
    dict(mode="max", factor=0.5, patience=0, threshold=0.0, threshold_mode="abs", cooldown=3,
         min_lr=0.004, eps=1e-3),
]  # fmt: skip


def _plateau(T, kw, metrics=METRICS):
    opt = _opt(T)
    sched = T.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        opt.step()
        sched.step(m)
        out.append((list(sched.get_last_lr()), sched.num_bad_epochs, sched.cooldown_counter))
    return out, sched


@needs_torch
@pytest.mark.parametrize("kw", PLATEAU)
def test_plateau_equals_torch(kw):
    actual, es = _plateau(ember, kw)
    expected, ts = _plateau(torch, kw)
    assert len(actual) == 100 and actual == expected
    assert sorted(es.state_dict()) == sorted(ts.state_dict())


def test_plateau_patience_cooldown_and_min_lr():
    kw = dict(mode="min", factor=0.5, patience=2, cooldown=1, min_lr=0.02)
    out, _ = _plateau(ember, kw, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    lrs = [lr[0] for lr, _, _ in out]
    # bad epochs 1, 2, 3 -> reduce at the 4th metric; one cooldown step; then 3 more bad ones
    assert lrs == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]
    out, _ = _plateau(ember, dict(patience=0, factor=0.1, min_lr=[0.02, 0.0]), [1.0, 1.0, 1.0])
    assert out[-1][0] == pytest.approx([0.02, 0.0005])  # two reductions; 0.02 is the floor


@pytest.mark.parametrize(
    "mode,threshold_mode,best,better,worse",
    [("min", "rel", 1.0, 0.98, 0.995), ("min", "abs", 1.0, 0.98, 0.995),
     ("max", "rel", 1.0, 1.02, 1.005), ("max", "abs", 1.0, 1.02, 1.005)],
)  # fmt: skip
def test_plateau_threshold_modes(mode, threshold_mode, best, better, worse):
    sched = ember.optim.lr_scheduler.ReduceLROnPlateau(
        _opt(ember), mode=mode, threshold=0.01, threshold_mode=threshold_mode
    )
    assert sched._is_better(better, best) and not sched._is_better(worse, best)


# ---------------------------------------------------------------- base behaviour
def test_warns_when_scheduler_steps_before_optimizer():
    opt = _opt(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before"):
        sched.step()


def test_get_lr_outside_step_warns_and_epoch_argument_is_deprecated():
    opt = _opt(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
        sched.step(7)  # closed form: 0.1 * 0.5 ** (7 // 3)
    assert sched.get_last_lr() == pytest.approx([0.025, 0.0125]) and sched.last_epoch == 7


def test_initial_lr_base_lrs_and_last_epoch():
    opt = _opt(ember)
    sched = ember.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE)
    assert sched.base_lrs == list(BASE) and sched.last_epoch == 0
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups"):
        ember.optim.lr_scheduler.StepLR(_opt(ember), 3, last_epoch=5)
    assert ember.optim.lr_scheduler._LRScheduler is ember.optim.lr_scheduler.LRScheduler


@pytest.mark.parametrize(
    "key",
    [
        "StepLR",
        "CosineAnnealingLR",
        "CyclicLR",
        "OneCycleLR",
        "SequentialLR",
        "ChainedScheduler",
        "WarmRestarts",
        "LambdaLR",
    ],
)
def test_state_dict_resume(key):
    full, _, _ = _sequence(ember, key, 100)
    kind, make = SCHEDULERS[key]
    _, sched, opt = _sequence(ember, key, 40)
    sd_s, sd_o = copy.deepcopy(sched.state_dict()), copy.deepcopy(opt.state_dict())
    opt2 = _opt(ember, kind)
    sched2 = make(ember.optim.lr_scheduler, opt2)
    sched2.load_state_dict(sd_s)
    opt2.load_state_dict(sd_o)
    rest = []
    for _ in range(60):
        opt2.step()
        sched2.step()
        rest.append((list(sched2.get_last_lr()), _momenta(opt2)))
    assert rest == full[41:]


def test_constructor_errors():
    S, opt = ember.optim.lr_scheduler, _opt(ember)
    cases = [
        (lambda: S.StepLR(object(), 3), TypeError, "object is not an Optimizer"),
        (lambda: S.ConstantLR(opt, factor=2.0), ValueError,
         "Constant multiplicative factor expected to be between 0 and 1."),
        (lambda: S.LinearLR(opt, start_factor=0), ValueError,
         "Starting multiplicative factor expected to be greater than 0"),
        (lambda: S.CosineAnnealingWarmRestarts(opt, T_0=0), ValueError,
         "Expected positive integer T_0, but got 0"),
        (lambda: S.OneCycleLR(opt, 0.1), ValueError,
         "You must define either total_steps OR (epochs AND steps_per_epoch)"),
        (lambda: S.ReduceLROnPlateau(opt, factor=1.0), ValueError, "Factor should be < 1.0."),
        (lambda: S.ReduceLROnPlateau(opt, mode="up"), ValueError, "mode up is unknown!"),
        (lambda: S.LambdaLR(opt, [_lambda]), ValueError, "Expected 2 lr_lambdas, but got 1"),
        (lambda: S.SequentialLR(opt, [S.StepLR(opt, 2)], milestones=[3]), ValueError,
         "Sequential Schedulers expects number of schedulers provided to be one more"),
        (lambda: S.ChainedScheduler([S.ReduceLROnPlateau(opt)]), ValueError,
         "ChainedScheduler does not support `ReduceLROnPlateau` scheduler"),
    ]  # fmt: skip
    for make, err, msg in cases:
        with pytest.raises(err) as e:
            make()
        assert msg in str(e.value)
