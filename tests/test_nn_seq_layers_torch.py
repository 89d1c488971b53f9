"""Attention, transformer and recurrent layers against torch: outputs, gradients, keys, repr."""

import numpy as np
import pytest

import ember
from tests.oracle import torch

pytestmark = [
    pytest.mark.skipif(torch is None, reason="torch is the oracle"),
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
    pytest.mark.filterwarnings("ignore:LSTM with projections"),
]
rng = np.random.default_rng(0)


def load(me, mt):
    sd = {k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()}
    me.load_state_dict(sd)
    assert list(me.state_dict().keys()) == list(mt.state_dict().keys())


def run(me, mt, inputs, kw_e={}, kw_t={}, idx=0):
    load(me, mt)
    me.eval()
    mt.eval()
    xe = [ember.tensor(x, requires_grad=True) for x in inputs]
    xt = [torch.tensor(x, requires_grad=True) for x in inputs]
    oe, ot = me(*xe, **kw_e), mt(*xt, **kw_t)
    if isinstance(ot, tuple):
        oe, ot = oe[0], ot[0]
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=1e-4, atol=1e-5)
    c = rng.standard_normal(tuple(ot.shape)).astype(np.float32)
    oe.backward(ember.tensor(c))
    ot.backward(torch.tensor(c))
    for a, b in zip(xe, xt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3, atol=1e-4)
    for (n1, p1), (n2, p2) in zip(me.named_parameters(), mt.named_parameters()):
        assert n1 == n2, (n1, n2)
        np.testing.assert_allclose(
            p1.grad.numpy(), p2.grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=n1
        )
    assert repr(me) == repr(mt), (repr(me), repr(mt))


def run_rnn(me, mt, x, h=None):
    sd = {k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()}
    me.load_state_dict(sd)
    assert list(me.state_dict()) == list(mt.state_dict())
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    he = ht = None
    if h is not None:
        he = tuple(ember.tensor(a) for a in h) if isinstance(h, tuple) else ember.tensor(h)
        ht = tuple(torch.tensor(a) for a in h) if isinstance(h, tuple) else torch.tensor(h)
    oe, hne = me(xe, he)
    ot, hnt = mt(xt, ht)
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=1e-4, atol=1e-5)
    loss_e = (
        oe * ember.tensor(np.cos(np.arange(oe.numel())).reshape(tuple(oe.shape)).astype(np.float32))
    ).sum()
    loss_t = (
        ot * torch.tensor(np.cos(np.arange(ot.numel())).reshape(tuple(ot.shape)).astype(np.float32))
    ).sum()
    if isinstance(hnt, tuple):
        for a, b in zip(hne, hnt):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
        loss_e = loss_e + hne[1].sum()
        loss_t = loss_t + hnt[1].sum()
    else:
        np.testing.assert_allclose(hne.detach().numpy(), hnt.detach().numpy(), rtol=1e-4, atol=1e-5)
    loss_e.backward()
    loss_t.backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)
    for (n1, p1), (n2, p2) in zip(me.named_parameters(), mt.named_parameters()):
        np.testing.assert_allclose(
            p1.grad.numpy(), p2.grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=n1
        )
    assert repr(me) == repr(mt), (repr(me), repr(mt))


def test_attention_and_transformer_layers_match_torch():
    en, tn = ember.nn, torch.nn
    f = lambda *s: rng.standard_normal(s).astype(np.float32)
    run(
        en.MultiheadAttention(8, 2),
        tn.MultiheadAttention(8, 2),
        [f(5, 3, 8), f(6, 3, 8), f(6, 3, 8)],
    )
    run(
        en.MultiheadAttention(8, 2, batch_first=True, kdim=4, vdim=6),
        tn.MultiheadAttention(8, 2, batch_first=True, kdim=4, vdim=6),
        [f(3, 5, 8), f(3, 6, 4), f(3, 6, 6)],
    )
    kpm = np.zeros((3, 6), bool)
    kpm[0, -2:] = True
    run(
        en.MultiheadAttention(8, 2, add_bias_kv=True),
        tn.MultiheadAttention(8, 2, add_bias_kv=True),
        [f(5, 3, 8), f(6, 3, 8), f(6, 3, 8)],
        dict(key_padding_mask=ember.tensor(kpm)),
        dict(key_padding_mask=torch.tensor(kpm)),
    )
    run(en.TransformerEncoderLayer(8, 2, 16), tn.TransformerEncoderLayer(8, 2, 16), [f(5, 3, 8)])
    run(
        en.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True, batch_first=True),
        tn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True, batch_first=True),
        [f(3, 5, 8)],
    )
    mask = tn.Transformer.generate_square_subsequent_mask(5).numpy()
    run(
        en.TransformerEncoder(en.TransformerEncoderLayer(8, 2, 16), 2),
        tn.TransformerEncoder(tn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False),
        [f(5, 3, 8)],
        dict(mask=ember.tensor(mask)),
        dict(mask=torch.tensor(mask)),
    )
    run(
        en.TransformerDecoderLayer(8, 2, 16),
        tn.TransformerDecoderLayer(8, 2, 16),
        [f(5, 3, 8), f(6, 3, 8)],
    )
    run(
        en.Transformer(8, 2, 1, 1, 16),
        tn.Transformer(8, 2, 1, 1, 16),
        [f(6, 3, 8), f(5, 3, 8)],
        dict(tgt_mask=ember.tensor(mask)),
        dict(tgt_mask=torch.tensor(mask)),
    )
    np.testing.assert_array_equal(
        en.Transformer.generate_square_subsequent_mask(4).numpy(),
        tn.Transformer.generate_square_subsequent_mask(4).numpy(),
    )


def test_recurrent_layers_match_torch():
    en, tn = ember.nn, torch.nn
    f = lambda *s: rng.standard_normal(s).astype(np.float32)
    run_rnn(en.RNN(4, 5), tn.RNN(4, 5), f(6, 3, 4))
    run_rnn(
        en.RNN(4, 5, 2, nonlinearity="relu", batch_first=True),
        tn.RNN(4, 5, 2, nonlinearity="relu", batch_first=True),
        f(3, 6, 4),
        f(2, 3, 5),
    )
    run_rnn(en.LSTM(4, 5, 2, bidirectional=True), tn.LSTM(4, 5, 2, bidirectional=True), f(6, 3, 4))
    run_rnn(
        en.LSTM(4, 5, batch_first=True, proj_size=3),
        tn.LSTM(4, 5, batch_first=True, proj_size=3),
        f(3, 6, 4),
        (f(1, 3, 3), f(1, 3, 5)),
    )
    run_rnn(
        en.GRU(4, 5, 2, bias=False, bidirectional=True),
        tn.GRU(4, 5, 2, bias=False, bidirectional=True),
        f(6, 3, 4),
    )
    run_rnn(en.GRU(4, 5), tn.GRU(4, 5), f(6, 4))  # unbatched
    for ce, ct, h in (
        (en.RNNCell(4, 5), tn.RNNCell(4, 5), None),
        (en.GRUCell(4, 5), tn.GRUCell(4, 5), None),
    ):
        ce.load_state_dict({k: ember.tensor(v.numpy()) for k, v in ct.state_dict().items()})
        x = f(3, 4)
        np.testing.assert_allclose(
            ce(ember.tensor(x)).detach().numpy(),
            ct(torch.tensor(x)).detach().numpy(),
            rtol=1e-5,
            atol=1e-6,
        )
        assert repr(ce) == repr(ct)
    ce, ct = en.LSTMCell(4, 5), tn.LSTMCell(4, 5)
    ce.load_state_dict({k: ember.tensor(v.numpy()) for k, v in ct.state_dict().items()})
    x = f(3, 4)
    np.testing.assert_allclose(
        ce(ember.tensor(x))[1].detach().numpy(), ct(torch.tensor(x))[1].detach().numpy(), rtol=1e-5
    )
