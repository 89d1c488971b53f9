"""Losses against torch: values and gradients (input and target) for every reduction."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF
from tests.nn.helpers import close, et, needs_torch, rng, tt
from tests.oracle import torch

REDUCTIONS = ["none", "mean", "sum"]


def _probs(r, shape):
    return 1 / (1 + np.exp(-r.standard_normal(shape)))


# name -> (call(nn, F, inputs, reduction), make(rng) -> list of arrays, which inputs get grads)
LOSSES = {
    "MSELoss": (
        lambda nn, F, a, red: nn.MSELoss(reduction=red)(*a),
        lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))],
        (0, 1),
    ),
    "L1Loss": (
        lambda nn, F, a, red: nn.L1Loss(reduction=red)(*a),
        lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))],
        (0, 1),
    ),
    "SmoothL1Loss": (
        lambda nn, F, a, red: nn.SmoothL1Loss(reduction=red, beta=0.5)(*a),
        lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))],
        (0, 1),
    ),
    "SmoothL1Loss-beta0": (
        lambda nn, F, a, red: nn.SmoothL1Loss(reduction=red, beta=0.0)(*a),
        lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))],
        (0, 1),
    ),
    "HuberLoss": (
        lambda nn, F, a, red: nn.HuberLoss(reduction=red, delta=0.7)(*a),
        lambda r: [2 * r.standard_normal((5, 2)), r.standard_normal((5, 2))],
        (0, 1),
    ),
    "BCELoss": (
        lambda nn, F, a, red: nn.BCELoss(reduction=red)(*a),
        lambda r: [_probs(r, (4, 3)), _probs(r, (4, 3))],
        (0, 1),
    ),
    "BCELoss-weight": (
        lambda nn, F, a, red: F.binary_cross_entropy(a[0], a[1], weight=a[2], reduction=red),
        lambda r: [_probs(r, (4, 3)), (r.random((4, 3)) > 0.5) * 1.0, r.random(3)],
        (0,),
    ),
    "BCEWithLogitsLoss": (
        lambda nn, F, a, red: nn.BCEWithLogitsLoss(reduction=red)(*a),
        lambda r: [3 * r.standard_normal((4, 3)), _probs(r, (4, 3))],
        (0, 1),
    ),
    "BCEWithLogits-pos": (
        lambda nn, F, a, red: F.binary_cross_entropy_with_logits(
            a[0], a[1], weight=a[2], pos_weight=a[3], reduction=red
        ),
        lambda r: [
            3 * r.standard_normal((4, 3)),
            _probs(r, (4, 3)),
            r.random((4, 3)),
            1 + r.random(3),
        ],
        (0, 1),
    ),
    "CrossEntropyLoss": (
        lambda nn, F, a, red: nn.CrossEntropyLoss(reduction=red)(*a),
        lambda r: [r.standard_normal((5, 4)), r.integers(0, 4, 5)],
        (0,),
    ),
    "CE-weight-ignore-smooth": (
        lambda nn, F, a, red: F.cross_entropy(
            a[0], a[1], weight=a[2], ignore_index=2, label_smoothing=0.15, reduction=red
        ),
        lambda r: [r.standard_normal((6, 4)), np.array([0, 2, 1, 3, 2, 1]), r.random(4) + 0.5],
        (0,),
    ),
    "CE-nd": (
        lambda nn, F, a, red: F.cross_entropy(a[0], a[1], weight=a[2], reduction=red),
        lambda r: [r.standard_normal((2, 4, 3, 2)), r.integers(0, 4, (2, 3, 2)), r.random(4)],
        (0,),
    ),
    "CE-unbatched": (
        lambda nn, F, a, red: F.cross_entropy(a[0], a[1], reduction=red),
        lambda r: [r.standard_normal(5), np.array(3)],
        (0,),
    ),
    "CE-probs": (
        lambda nn, F, a, red: F.cross_entropy(a[0], a[1], label_smoothing=0.1, reduction=red),
        lambda r: [r.standard_normal((4, 5)), np.abs(r.standard_normal((4, 5)))],
        (0, 1),
    ),
    "CE-probs-weight": (
        lambda nn, F, a, red: F.cross_entropy(a[0], a[1], weight=a[2], reduction=red),
        lambda r: [r.standard_normal((4, 5)), r.random((4, 5)), r.random(5)],
        (0, 1),
    ),
    "NLLLoss": (
        lambda nn, F, a, red: nn.NLLLoss(weight=a[2], ignore_index=1, reduction=red)(a[0], a[1]),
        lambda r: [r.standard_normal((6, 3)), np.array([0, 1, 2, 2, 1, 0]), r.random(3)],
        (0,),
    ),
    "KLDivLoss": (
        lambda nn, F, a, red: nn.KLDivLoss(reduction=red if red != "mean" else "batchmean")(*a),
        lambda r: [np.log(_probs(r, (3, 4))), _probs(r, (3, 4))],
        (0, 1),
    ),
    "KLDivLoss-log": (
        lambda nn, F, a, red: F.kl_div(
            a[0], a[1], reduction="sum" if red == "mean" else red, log_target=True
        ),
        lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4))],
        (0, 1),
    ),
    "PoissonNLLLoss": (
        lambda nn, F, a, red: nn.PoissonNLLLoss(reduction=red)(*a),
        lambda r: [r.standard_normal((4, 3)), r.poisson(2.0, (4, 3)) * 1.0],
        (0, 1),
    ),
    "PoissonNLL-full": (
        lambda nn, F, a, red: nn.PoissonNLLLoss(log_input=False, full=True, reduction=red)(*a),
        lambda r: [r.random((4, 3)) + 0.5, r.poisson(2.0, (4, 3)) * 1.0],
        (0,),
    ),
    "GaussianNLLLoss": (
        lambda nn, F, a, red: nn.GaussianNLLLoss(full=True, reduction=red)(*a),
        lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)), r.random((4, 1)) + 1e-7],
        (0, 1, 2),
    ),
    "CosineEmbeddingLoss": (
        lambda nn, F, a, red: nn.CosineEmbeddingLoss(margin=0.2, reduction=red)(*a),
        lambda r: [
            r.standard_normal((5, 3)),
            r.standard_normal((5, 3)),
            np.array([1, -1, 1, -1, -1]),
        ],
        (0, 1),
    ),
    "MarginRankingLoss": (
        lambda nn, F, a, red: nn.MarginRankingLoss(margin=0.1, reduction=red)(*a),
        lambda r: [r.standard_normal(6), r.standard_normal(6), np.array([1.0, -1, 1, 1, -1, -1])],
        (0, 1),
    ),
    "HingeEmbeddingLoss": (
        lambda nn, F, a, red: nn.HingeEmbeddingLoss(margin=0.5, reduction=red)(*a),
        lambda r: [r.standard_normal(6), np.array([1.0, -1, 1, 1, -1, -1])],
        (0,),
    ),
    "SoftMarginLoss": (
        lambda nn, F, a, red: nn.SoftMarginLoss(reduction=red)(*a),
        lambda r: [r.standard_normal((3, 4)), np.sign(r.standard_normal((3, 4)))],
        (0,),
    ),
    "MultiLabelSoftMarginLoss": (
        lambda nn, F, a, red: nn.MultiLabelSoftMarginLoss(weight=a[2], reduction=red)(a[0], a[1]),
        lambda r: [r.standard_normal((3, 4)), (r.random((3, 4)) > 0.5) * 1.0, r.random(4)],
        (0,),
    ),
    "MultiMarginLoss": (
        lambda nn, F, a, red: nn.MultiMarginLoss(p=2, margin=0.8, weight=a[2], reduction=red)(
            a[0], a[1]
        ),
        lambda r: [r.standard_normal((5, 4)), r.integers(0, 4, 5), r.random(4)],
        (0,),
    ),
    "MultiMarginLoss-p1": (
        lambda nn, F, a, red: nn.MultiMarginLoss(reduction=red)(a[0], a[1]),
        lambda r: [r.standard_normal((5, 4)), r.integers(0, 4, 5)],
        (0,),
    ),
    "TripletMarginLoss": (
        lambda nn, F, a, red: nn.TripletMarginLoss(margin=0.5, p=2, swap=True, reduction=red)(*a),
        lambda r: [r.standard_normal((4, 5)) for _ in range(3)],
        (0, 1, 2),
    ),
    "TripletMarginLoss-p1": (
        lambda nn, F, a, red: nn.TripletMarginLoss(p=1.0, reduction=red)(*a),
        lambda r: [r.standard_normal((4, 5)) for _ in range(3)],
        (0, 1, 2),
    ),
    "TripletWithDistance": (
        lambda nn, F, a, red: nn.TripletMarginWithDistanceLoss(
            distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), reduction=red
        )(*a),
        lambda r: [r.standard_normal((4, 5)) for _ in range(3)],
        (0, 1, 2),
    ),
}


def _inputs(arrays, grads, dtype, lib):
    out = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        out.append((et if lib is ember else tt)(a, i in grads))
    return out


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_torch(name: str, reduction: str, dtype: str) -> None:
    call, make, grads = LOSSES[name]
    arrays = make(rng(11))
    e_in = _inputs(arrays, grads, dtype, ember)
    t_in = _inputs(arrays, grads, dtype, torch)
    out = call(enn, EF, e_in, reduction)
    tout = call(torch.nn, torch.nn.functional, t_in, reduction)
    close(out, tout, dtype, "loss")
    assert out.dtype.name == str(tout.dtype).split(".")[-1]
    cot = rng(3).standard_normal(tuple(tout.shape)).astype(dtype)
    (out * et(cot)).sum().backward()
    (tout * tt(cot)).sum().backward()
    for i in grads:
        close(e_in[i].grad, t_in[i].grad, dtype, f"grad of input {i}")


@needs_torch
@pytest.mark.parametrize("tdtype", [np.int64, np.int32, np.uint8, np.int16])
def test_cross_entropy_accepts_any_integer_target(tdtype) -> None:
    a = rng(0).standard_normal((4, 3))
    t = np.array([0, 2, 1, 2])
    ref = torch.nn.functional.cross_entropy(tt(a), tt(t))
    close(EF.cross_entropy(et(a), et(t.astype(tdtype))), ref)
    close(EF.nll_loss(et(a), et(t.astype(tdtype))), torch.nn.functional.nll_loss(tt(a), tt(t)))


def test_cross_entropy_float_target_error_names_argument_and_dtypes() -> None:
    x = ember.randn(3, 4)
    with pytest.raises(RuntimeError) as e:
        EF.cross_entropy(x, ember.tensor([1.0, 0.0, 2.0]))
    msg = str(e.value)
    assert "expected target dtype to be Long or Byte, but got Float" in msg
    assert "`target` has dtype float32 with the same shape as input[:, 0]" in msg
    assert "target.long()" in msg


def test_cross_entropy_out_of_bounds_and_batch_mismatch() -> None:
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        EF.cross_entropy(ember.randn(3, 4), ember.tensor([1, 2, 7]))
    with pytest.raises(
        ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)."
    ):  # torch raises ValueError here
        EF.cross_entropy(ember.randn(3, 4), ember.tensor([1, 2]))


def test_cross_entropy_all_ignored_is_nan_like_torch() -> None:
    out = EF.cross_entropy(ember.randn(2, 3), ember.tensor([-100, -100]))
    assert math.isnan(float(out))


def test_bce_target_dtype_error_names_both() -> None:
    with pytest.raises(RuntimeError) as e:
        EF.binary_cross_entropy(ember.rand(3), ember.tensor([1, 0, 1]))
    assert "Found dtype Long but expected Float" in str(e.value)
    assert "`target` has dtype int64" in str(e.value) and "`input` has dtype float32" in str(
        e.value
    )
    with pytest.raises(
        ValueError, match=r"Using a target size \(torch.Size\(\[3, 1\]\)\) that is different"
    ):
        EF.binary_cross_entropy(ember.rand(3), ember.rand(3, 1))
    with pytest.raises(ValueError, match="must be the same as input size"):
        EF.binary_cross_entropy_with_logits(ember.rand(3), ember.rand(3, 1))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        EF.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))


@needs_torch
def test_broadcasting_elementwise_losses_warn_like_torch() -> None:
    """(N, 1) vs (N,) broadcasts to (N, N): torch warns, and so does ember (UP-04)."""
    a, b = rng(0).standard_normal((8, 1)), rng(1).standard_normal(8)
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        with pytest.warns(
            UserWarning,
            match=r"Using a target size \(torch.Size\(\[8\]\)\) that is different to the input size \(torch.Size\(\[8, 1\]\)\)",
        ):
            out = getattr(EF, name)(et(a, True), et(b, True))
        with pytest.warns(UserWarning, match="Using a target size"):
            tout = getattr(torch.nn.functional, name)(tt(a), tt(b))
        close(out, tout)
    with warnings_as_errors():
        EF.mse_loss(et(a), et(a))


class warnings_as_errors:  # noqa: N801
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)


@needs_torch
def test_legacy_reduction_args_and_invalid_reduction() -> None:
    with pytest.warns(
        UserWarning,
        match="size_average and reduce args will be deprecated, please use reduction='sum' instead.",
    ):
        m = enn.MSELoss(size_average=False)
    assert m.reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert enn.L1Loss(reduce=False).reduction == "none"
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        EF.mse_loss(ember.ones(2), ember.ones(2), reduction="bogus")
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        EF.cross_entropy(ember.ones(2, 2), ember.tensor([0, 1]), reduction="bogus")


def test_kl_div_mean_warns_like_torch() -> None:
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both"):
        EF.kl_div(ember.randn(2, 3), ember.rand(2, 3))


@needs_torch
def test_loss_module_reprs_and_state_dict() -> None:
    w = np.ones(3, np.float32)
    for nn, T in ((enn, et), (torch.nn, tt)):
        mods = [
            nn.MSELoss(),
            nn.CrossEntropyLoss(weight=T(w)),
            nn.BCEWithLogitsLoss(pos_weight=T(w)),
            nn.NLLLoss(),
            nn.TripletMarginLoss(),
            nn.HuberLoss(),
        ]
        if nn is enn:
            e = ([repr(m) for m in mods], [list(m.state_dict()) for m in mods])
        else:
            t = ([repr(m) for m in mods], [list(m.state_dict()) for m in mods])
    assert e == t


@needs_torch
def test_cross_entropy_double_backward() -> None:
    a = rng(0).standard_normal((4, 5))
    t = np.array([1, 0, 4, 2])
    x, tx = et(a, True), tt(a, True)
    (g,) = ember.autograd.grad(EF.cross_entropy(x, et(t)), x, create_graph=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.cross_entropy(tx, tt(t)), tx, create_graph=True)
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    close(x.grad, tx.grad)


@needs_torch
@pytest.mark.parametrize(
    "name",
    ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy_with_logits"],
)
def test_pair_loss_double_backward(name: str) -> None:
    a, b = rng(0).standard_normal((2, 3, 4))
    b = 1 / (1 + np.exp(-b))
    x, tx, y, ty = et(a, True), tt(a, True), et(b, True), tt(b, True)
    (g,) = ember.autograd.grad(getattr(EF, name)(x * x, y), x, create_graph=True)
    (tg,) = torch.autograd.grad(
        getattr(torch.nn.functional, name)(tx * tx, ty), tx, create_graph=True
    )
    close(g, tg)
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    close(x.grad, tx.grad)
    close(y.grad, ty.grad)


def test_cross_entropy_is_fast_enough() -> None:
    """One log-softmax node plus one NLL node, both vectorised: 1k x 1k well under 0.2 s."""
    import time

    x = ember.randn(1000, 1000, requires_grad=True)
    t = ember.randint(0, 1000, (1000,))
    t0 = time.perf_counter()
    loss = EF.cross_entropy(x, t)
    loss.backward()
    assert time.perf_counter() - t0 < 0.2
    assert loss.grad_fn.name() == "NllLossBackward0"
