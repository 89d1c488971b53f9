"""Conv/pool/norm/embedding layers against torch: outputs, gradients, running stats, repr."""

import numpy as np
import pytest

import ember
from tests.oracle import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is the oracle")
rng = np.random.default_rng(0)


def same(me, mt, shape, **kw):
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    x = rng.standard_normal(shape).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oe, ot = me(xe, **kw), mt(xt, **kw)
    if isinstance(ot, tuple):
        oe, ot = oe[0], ot[0]
    assert tuple(oe.shape) == tuple(ot.shape), (oe.shape, ot.shape)
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=1e-4, atol=1e-5)
    c = rng.standard_normal(tuple(ot.shape)).astype(np.float32)
    oe.backward(ember.tensor(c))
    ot.backward(torch.tensor(c))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    for (n1, p1), (n2, p2) in zip(me.named_parameters(), mt.named_parameters()):
        assert n1 == n2
        np.testing.assert_allclose(p1.grad.numpy(), p2.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert repr(me) == repr(mt), (repr(me), repr(mt))


def test_conv_pool_norm_embedding_layers_match_torch():

    en, tn = ember.nn, torch.nn
    for args, kw, shape in [
        ((3, 4, 3), {}, (2, 3, 8, 8)),
        ((3, 4, (3, 2)), dict(stride=2, padding=1, bias=False), (2, 3, 9, 8)),
        ((4, 6, 3), dict(groups=2, dilation=2, padding="same"), (1, 4, 9, 9)),
        ((3, 4, 3), dict(padding=1, padding_mode="reflect"), (2, 3, 6, 6)),
    ]:
        same(en.Conv2d(*args, **kw), tn.Conv2d(*args, **kw), shape)
    same(en.Conv1d(3, 4, 3, stride=2), tn.Conv1d(3, 4, 3, stride=2), (2, 3, 10))
    same(
        en.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
        tn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
        (2, 4, 5, 5),
    )
    same(en.ConvTranspose1d(4, 3, 3, stride=2), tn.ConvTranspose1d(4, 3, 3, stride=2), (2, 4, 5))
    same(en.MaxPool2d(2), tn.MaxPool2d(2), (2, 3, 8, 8))
    same(en.MaxPool2d(3, 2, 1, ceil_mode=True), tn.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 3, 9, 8))
    same(en.AvgPool2d(2), tn.AvgPool2d(2), (2, 3, 8, 8))
    same(en.AdaptiveAvgPool2d((1, 1)), tn.AdaptiveAvgPool2d((1, 1)), (2, 3, 8, 8))
    same(en.AdaptiveMaxPool2d(3), tn.AdaptiveMaxPool2d(3), (2, 3, 8, 7))
    same(en.Upsample(scale_factor=2), tn.Upsample(scale_factor=2), (2, 3, 4, 5))
    same(
        en.Upsample(size=(7, 9), mode="bilinear"),
        tn.Upsample(size=(7, 9), mode="bilinear"),
        (2, 3, 4, 5),
    )
    same(
        en.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
        tn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
        (2, 3, 4, 5),
    )
    same(
        en.Upsample(scale_factor=3, mode="linear"),
        tn.Upsample(scale_factor=3, mode="linear"),
        (2, 3, 4),
    )
    same(en.PixelShuffle(2), tn.PixelShuffle(2), (1, 8, 3, 3))
    for m in ("BatchNorm2d",):
        me, mt = en.BatchNorm2d(3), tn.BatchNorm2d(3)
        same(me, mt, (4, 3, 5, 5))
        same(me, mt, (4, 3, 5, 5))
        np.testing.assert_allclose(me.running_var.numpy(), mt.running_var.numpy(), rtol=1e-5)
        assert me.num_batches_tracked.item() == mt.num_batches_tracked.item() == 2
        me.eval()
        mt.eval()
        same(me, mt, (4, 3, 5, 5))
    me, mt = en.BatchNorm1d(3, momentum=None), tn.BatchNorm1d(3, momentum=None)
    same(me, mt, (8, 3))
    same(me, mt, (8, 3))
    np.testing.assert_allclose(me.running_mean.numpy(), mt.running_mean.numpy(), rtol=1e-5)
    same(en.LayerNorm(5), tn.LayerNorm(5), (3, 4, 5))
    same(
        en.LayerNorm((4, 5), elementwise_affine=False),
        tn.LayerNorm((4, 5), elementwise_affine=False),
        (3, 4, 5),
    )
    same(en.GroupNorm(2, 4), tn.GroupNorm(2, 4), (2, 4, 3, 3))
    same(en.RMSNorm(5), tn.RMSNorm(5), (3, 5))
    same(en.InstanceNorm2d(3), tn.InstanceNorm2d(3), (2, 3, 4, 4))
    me, mt = en.Embedding(10, 4, padding_idx=1), tn.Embedding(10, 4, padding_idx=1)
    me.load_state_dict({k: ember.tensor(v.numpy()) for k, v in mt.state_dict().items()})
    idx = np.array([[1, 2, 3], [4, 1, 9]])
    oe, ot = me(ember.tensor(idx)), mt(torch.tensor(idx))
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy())
    oe.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(me.weight.grad.numpy(), mt.weight.grad.numpy())
    assert repr(me) == repr(mt), repr(me)
    eb, tb = en.EmbeddingBag(10, 4, mode="sum"), tn.EmbeddingBag(10, 4, mode="sum")
    assert repr(eb) == repr(tb), (repr(eb), repr(tb))
    e0 = en.Embedding(10, 4, padding_idx=0)
    assert not e0.weight[0].detach().numpy().any()


def test_distance_modules_match_torch():
    a = rng.standard_normal((3, 5)).astype(np.float32)
    b = rng.standard_normal((3, 5)).astype(np.float32)
    pairs = [
        (ember.nn.CosineSimilarity(dim=1), torch.nn.CosineSimilarity(dim=1)),
        (
            ember.nn.PairwiseDistance(p=1, keepdim=True),
            torch.nn.PairwiseDistance(p=1, keepdim=True),
        ),
    ]
    for me, mt in pairs:
        out_e = me(ember.tensor(a), ember.tensor(b)).numpy()
        np.testing.assert_allclose(out_e, mt(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-5)
        assert repr(me) == repr(mt)
