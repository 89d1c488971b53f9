"""Layers and activations against torch: identical weights, outputs, input and weight grads."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF
from tests.nn.helpers import close, copy_weights, et, needs_torch, rng, run_both, tt
from tests.oracle import torch

# name -> (constructor taking the nn namespace, input shapes)
LAYERS = {
    "Linear": (lambda nn: nn.Linear(5, 3), [(4, 5)]),
    "Linear-3d": (lambda nn: nn.Linear(5, 3), [(2, 4, 5)]),
    "Linear-1d": (lambda nn: nn.Linear(5, 3), [(5,)]),
    "Linear-nobias": (lambda nn: nn.Linear(5, 3, bias=False), [(4, 5)]),
    "Bilinear": (lambda nn: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    "Bilinear-nobias": (lambda nn: nn.Bilinear(3, 4, 2, bias=False), [(2, 5, 3), (2, 5, 4)]),
    "Identity": (lambda nn: nn.Identity(3, foo=1), [(2, 3)]),
    "Flatten": (lambda nn: nn.Flatten(), [(2, 3, 4)]),
    "Unflatten": (lambda nn: nn.Unflatten(1, (3, 4)), [(2, 12)]),
    "ReLU": (lambda nn: nn.ReLU(), [(4, 6)]),
    "ReLU6": (lambda nn: nn.ReLU6(), [(4, 6)]),
    "LeakyReLU": (lambda nn: nn.LeakyReLU(0.2), [(4, 6)]),
    "LeakyReLU-neg": (lambda nn: nn.LeakyReLU(-0.3), [(4, 6)]),
    "PReLU": (lambda nn: nn.PReLU(), [(4, 6)]),
    "PReLU-channels": (lambda nn: nn.PReLU(3), [(2, 3, 5)]),
    "ELU": (lambda nn: nn.ELU(0.7), [(4, 6)]),
    "SELU": (lambda nn: nn.SELU(), [(4, 6)]),
    "CELU": (lambda nn: nn.CELU(1.3), [(4, 6)]),
    "GELU": (lambda nn: nn.GELU(), [(4, 6)]),
    "GELU-tanh": (lambda nn: nn.GELU("tanh"), [(4, 6)]),
    "SiLU": (lambda nn: nn.SiLU(), [(4, 6)]),
    "Mish": (lambda nn: nn.Mish(), [(4, 6)]),
    "Sigmoid": (lambda nn: nn.Sigmoid(), [(4, 6)]),
    "Tanh": (lambda nn: nn.Tanh(), [(4, 6)]),
    "Softplus": (lambda nn: nn.Softplus(), [(4, 6)]),
    "Softplus-beta": (lambda nn: nn.Softplus(beta=2.0, threshold=1.5), [(4, 6)]),
    "Softsign": (lambda nn: nn.Softsign(), [(4, 6)]),
    "Hardtanh": (lambda nn: nn.Hardtanh(-0.5, 0.8), [(4, 6)]),
    "Hardsigmoid": (lambda nn: nn.Hardsigmoid(), [(4, 6)]),
    "Hardswish": (lambda nn: nn.Hardswish(), [(4, 6)]),
    "Tanhshrink": (lambda nn: nn.Tanhshrink(), [(4, 6)]),
    "Softshrink": (lambda nn: nn.Softshrink(0.3), [(4, 6)]),
    "Hardshrink": (lambda nn: nn.Hardshrink(0.3), [(4, 6)]),
    "LogSigmoid": (lambda nn: nn.LogSigmoid(), [(4, 6)]),
    "Threshold": (lambda nn: nn.Threshold(0.1, 20.0), [(4, 6)]),
    "Softmax": (lambda nn: nn.Softmax(dim=1), [(4, 6)]),
    "Softmax-0": (lambda nn: nn.Softmax(dim=0), [(4, 6)]),
    "LogSoftmax": (lambda nn: nn.LogSoftmax(dim=-1), [(2, 3, 6)]),
    "Softmin": (lambda nn: nn.Softmin(dim=1), [(4, 6)]),
    "Softmax2d": (lambda nn: nn.Softmax2d(), [(2, 3, 4, 4)]),
    "GLU": (lambda nn: nn.GLU(), [(4, 6)]),
    "GLU-dim0": (lambda nn: nn.GLU(0), [(4, 6)]),
}
SCALE = {"Hardtanh": 1.0, "Hardsigmoid": 4.0, "Hardswish": 4.0, "Softplus-beta": 2.0}


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name: str, dtype: str) -> None:
    ctor, shapes = LAYERS[name]
    ember.manual_seed(0)
    tm = ctor(torch.nn)
    em = ctor(enn)
    copy_weights(tm, em)
    tm, em = (tm.double(), em.double()) if dtype == "float64" else (tm, em)
    r = rng(7)
    arrays = [(SCALE.get(name, 1.5) * r.standard_normal(s)).astype(dtype) for s in shapes]
    run_both(em, tm, arrays, dtype)


@needs_torch
@pytest.mark.parametrize(
    "name",
    [
        "ReLU",
        "LeakyReLU",
        "ELU",
        "SELU",
        "CELU",
        "Hardtanh",
        "ReLU6",
        "SiLU",
        "Mish",
        "Hardsigmoid",
        "Hardswish",
        "Threshold",
    ],
)
def test_inplace_activation_matches_out_of_place(name: str) -> None:
    ctor = {
        "ReLU": lambda nn, ip: nn.ReLU(ip),
        "LeakyReLU": lambda nn, ip: nn.LeakyReLU(0.1, ip),
        "ELU": lambda nn, ip: nn.ELU(1.0, ip),
        "SELU": lambda nn, ip: nn.SELU(ip),
        "CELU": lambda nn, ip: nn.CELU(1.0, ip),
        "Hardtanh": lambda nn, ip: nn.Hardtanh(inplace=ip),
        "ReLU6": lambda nn, ip: nn.ReLU6(ip),
        "SiLU": lambda nn, ip: nn.SiLU(ip),
        "Mish": lambda nn, ip: nn.Mish(ip),
        "Hardsigmoid": lambda nn, ip: nn.Hardsigmoid(ip),
        "Hardswish": lambda nn, ip: nn.Hardswish(ip),
        "Threshold": lambda nn, ip: nn.Threshold(0.1, 2.0, ip),
    }[name]
    a = 2 * rng(3).standard_normal((3, 5))
    outs = []
    for ip in (False, True):
        x = et(a, True)
        h = x * 1.0  # in place on a non-leaf
        y = ctor(enn, ip)(h)
        if ip:
            assert y is h
        (y * et(np.arange(15.0).reshape(3, 5))).sum().backward()
        outs.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12)


@needs_torch
def test_linear_is_one_fused_node() -> None:
    m = enn.Linear(4, 3)
    y = m(ember.randn(2, 4))
    assert y.grad_fn.name() == "AddmmBackward0"
    assert enn.Linear(4, 3, bias=False)(ember.randn(2, 4)).grad_fn.name() == "MmBackward0"


def test_linear_double_backward() -> None:
    a = rng(0).standard_normal((3, 4))
    x = et(a, True)
    m = enn.Linear(4, 2).double()
    y = (m(x) ** 2).sum()
    (gx,) = ember.autograd.grad(y, x, create_graph=True)
    gx.sum().backward()
    w = m.weight.detach().numpy()
    # d/dW of sum(2 (xW^T + b) W) ... checked numerically against a finite difference
    g_an = m.weight.grad.numpy().copy()
    eps = 1e-6
    num = np.zeros_like(w)
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            for s in (1, -1):
                with ember.no_grad():
                    m.weight[i, j] += s * eps
                xx = et(a, True)
                (g,) = ember.autograd.grad((m(xx) ** 2).sum(), xx)
                num[i, j] += s * float(g.sum()) / (2 * eps)
                with ember.no_grad():
                    m.weight[i, j] -= s * eps
    np.testing.assert_allclose(g_an, num, rtol=1e-5, atol=1e-7)


@needs_torch
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_double_backward(approximate: str) -> None:
    a = rng(2).standard_normal(7)
    x, tx = et(a, True), tt(a, True)
    (g,) = ember.autograd.grad(EF.gelu(x, approximate=approximate).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(
        torch.nn.functional.gelu(tx, approximate=approximate).sum(), tx, create_graph=True
    )
    g.sum().backward()
    tg.sum().backward()
    close(x.grad, tx.grad, "float64")


@needs_torch
@pytest.mark.parametrize(
    "fn",
    [
        lambda F, x: F.silu(x),
        lambda F, x: F.mish(x),
        lambda F, x: F.elu(x, 0.5),
        lambda F, x: F.softplus(x, 1.5),
        lambda F, x: F.logsigmoid(x),
        lambda F, x: F.softmax(x, 1),
        lambda F, x: F.log_softmax(x, 0),
        lambda F, x: F.glu(x, 1),
        lambda F, x: F.leaky_relu(x, 0.1),
        lambda F, x: F.hardswish(x),
        lambda F, x: F.normalize(x),
        lambda F, x: F.linear(x, x),
    ],
)
def test_activation_double_backward(fn) -> None:
    a = rng(4).standard_normal((3, 4)) * 2
    x, tx = et(a, True), tt(a, True)
    (g,) = ember.autograd.grad((fn(EF, x) ** 2).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((fn(torch.nn.functional, tx) ** 2).sum(), tx, create_graph=True)
    close(g, tg)
    (g * et(a)).sum().backward()
    (tg * tt(a)).sum().backward()
    close(x.grad, tx.grad)


@needs_torch
@pytest.mark.parametrize(
    "call",
    [
        lambda F, x, y: F.normalize(x, p=2.0, dim=1),
        lambda F, x, y: F.normalize(x, p=1.0, dim=0),
        lambda F, x, y: F.normalize(x, p=3.0, dim=-1),
        lambda F, x, y: F.cosine_similarity(x, y),
        lambda F, x, y: F.cosine_similarity(x, y[:1], dim=1),
        lambda F, x, y: F.pairwise_distance(x, y),
        lambda F, x, y: F.pairwise_distance(x, y, p=1.0, keepdim=True),
        lambda F, x, y: F.pairwise_distance(x, y, p=math.inf),
        lambda F, x, y: F.linear(x, y, None),
        lambda F, x, y: F.prelu(x, y[0, :1]),
        lambda F, x, y: F.softmax(
            x, dim=1, dtype=torch.float64 if F is torch.nn.functional else ember.float64
        ),
    ],
)
def test_functional_matches_torch(call) -> None:
    a, b = rng(5).standard_normal((2, 4, 6))
    a[1] = 0.0  # a zero row: the norms' subgradient
    x, y, tx, ty = et(a, True), et(b, True), tt(a, True), tt(b, True)
    out, tout = call(EF, x, y), call(torch.nn.functional, tx, ty)
    close(out, tout)
    cot = rng(6).standard_normal(tuple(tout.shape))
    (out * et(cot)).sum().backward()
    (tout * tt(cot)).sum().backward()
    close(x.grad, tx.grad, what="grad x")
    if ty.grad is not None:
        close(y.grad, ty.grad, what="grad y")


@needs_torch
def test_one_hot_and_pad() -> None:
    idx = np.array([[0, 2], [1, 3]])
    close(EF.one_hot(et(idx)), torch.nn.functional.one_hot(tt(idx)))
    close(EF.one_hot(et(idx), 6), torch.nn.functional.one_hot(tt(idx), 6))
    close(EF.one_hot(et(idx.astype(np.int32)), 4), torch.nn.functional.one_hot(tt(idx), 4))
    assert EF.one_hot(et(idx)).dtype == ember.int64
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        EF.one_hot(et(idx), 3)
    a = rng(0).standard_normal((2, 3, 5))
    for pad, mode, value in [
        ((1, 2), "constant", None),
        ((1, 1, 2, 0), "constant", 3.5),
        ((2, 1), "reflect", None),
        ((1, 2, 1, 1), "replicate", None),
    ]:
        x, tx = et(a, True), tt(a, True)
        out = EF.pad(x, pad, mode=mode, value=value)
        tout = torch.nn.functional.pad(tx, pad, mode=mode, value=value)
        close(out, tout, what=f"pad {mode}")
        cot = rng(1).standard_normal(tuple(tout.shape))
        (out * et(cot)).sum().backward()
        (tout * tt(cot)).sum().backward()
        close(x.grad, tx.grad, what=f"pad {mode} grad")


def test_dropout_train_eval_and_statistics() -> None:
    ember.manual_seed(0)
    m = enn.Dropout(0.25)
    x = ember.ones(200, 500)
    y = m(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    m.eval()
    assert m(x) is x
    xg = et(np.ones((50, 40)), True)
    m.train()
    out = m(xg)
    out.sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), out.detach().numpy())
    assert repr(m) == "Dropout(p=0.25, inplace=False)"
    with pytest.raises(
        ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"
    ):
        enn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        EF.dropout(x, -0.1)
    assert float(EF.dropout(x, 1.0).abs().sum()) == 0.0


def test_channel_dropout_zeroes_whole_channels() -> None:
    ember.manual_seed(1)
    for mod, shape in [
        (enn.Dropout1d(0.5), (8, 16, 5)),
        (enn.Dropout2d(0.5), (8, 16, 3, 3)),
        (enn.Dropout3d(0.5), (4, 16, 2, 2, 2)),
        (enn.Dropout1d(0.5), (16, 5)),
    ]:
        y = mod(ember.ones(*shape)).numpy()
        flat = y.reshape(y.shape[0], y.shape[1], -1) if len(shape) > 2 else y[None]
        per_channel = flat.reshape(flat.shape[0], flat.shape[1], -1)
        assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
        assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7


def test_alpha_dropout_keeps_moments() -> None:
    ember.manual_seed(0)
    x = ember.randn(400, 500)
    y = enn.AlphaDropout(0.2)(x).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    m = enn.AlphaDropout(0.2).eval()
    assert m(x) is x


@needs_torch
def test_reprs_match_torch() -> None:
    def build(nn):
        return nn.Sequential(
            nn.Linear(3, 4),
            nn.Bilinear(2, 3, 4, bias=False),
            nn.ReLU(),
            nn.ReLU(inplace=True),
            nn.ReLU6(True),
            nn.LeakyReLU(0.2),
            nn.LeakyReLU(0.2, True),
            nn.PReLU(3),
            nn.ELU(),
            nn.ELU(0.5, True),
            nn.SELU(True),
            nn.CELU(),
            nn.GELU(),
            nn.GELU("tanh"),
            nn.SiLU(),
            nn.Mish(),
            nn.Sigmoid(),
            nn.Tanh(),
            nn.Softplus(2, 10),
            nn.Softsign(),
            nn.Hardtanh(-2, 2),
            nn.Hardtanh(inplace=True),
            nn.Hardsigmoid(True),
            nn.Hardswish(),
            nn.Tanhshrink(),
            nn.Softshrink(),
            nn.Hardshrink(0.2),
            nn.LogSigmoid(),
            nn.Threshold(0.1, 20),
            nn.Threshold(0.1, 2.5, True),
            nn.Softmax(1),
            nn.Softmax(),
            nn.LogSoftmax(-1),
            nn.Softmin(0),
            nn.Softmax2d(),
            nn.GLU(),
            nn.Dropout(),
            nn.Dropout2d(0.1, True),
            nn.AlphaDropout(0.3),
            nn.Flatten(),
            nn.Flatten(0, 2),
            nn.Unflatten(1, (2, 3)),
            nn.Identity(),
            nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Tanh())),
        )

    assert repr(build(enn)) == repr(build(torch.nn))


def test_linear_default_init_distribution() -> None:
    ember.manual_seed(0)
    m = enn.Linear(400, 300)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    k = 1 / math.sqrt(400)
    assert w.dtype == np.float32 and w.shape == (300, 400)
    assert np.abs(w).max() <= k and np.abs(w).max() > 0.99 * k
    assert abs(w.var() - k * k / 3) < 0.02 * k * k  # U(-k, k) has variance k^2 / 3
    assert np.abs(b).max() <= k and abs(w.mean()) < 0.01 * k * 10
    bl = enn.Bilinear(50, 20, 30)
    kb = 1 / math.sqrt(50)
    assert (
        np.abs(bl.weight.detach().numpy()).max() <= kb
        and np.abs(bl.weight.detach().numpy()).max() > 0.99 * kb
    )
    assert (enn.PReLU(4).weight.detach().numpy() == 0.25).all()


def test_linear_dtype_and_device_kwargs() -> None:
    m = enn.Linear(3, 2, dtype=ember.float64)
    assert m.weight.dtype == ember.float64 and m.bias.dtype == ember.float64
    assert m(ember.randn(4, 3, dtype=ember.float64)).dtype == ember.float64


def test_linear_dtype_mismatch_hint() -> None:
    m = enn.Linear(3, 2)
    with pytest.raises(RuntimeError) as e:
        m(et(np.ones((4, 3))))  # float64 from NumPy into float32 weights (UP-15)
    assert "mat1 and mat2 must have the same dtype, but got Double and Float" in str(e.value)
    assert "x.float()" in str(e.value)
