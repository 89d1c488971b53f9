"""A training run resumed from an ember checkpoint continues exactly; model + optimizer + epoch
checkpoints move both ways with PyTorch bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.oracle import torch


def _model(lib):
    nn = lib.nn
    lib.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))


def _batches(n=8):
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((5, 6)).astype(np.float32), rng.integers(0, 3, 5)) for _ in range(n)
    ]


def _train(lib, model, opt, batches):
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_resume_continues_bit_for_bit(tmp_path):
    data = _batches()
    model = _model(ember)
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    _train(ember, model, opt, data[:4])
    ember.save(
        {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 4}, tmp_path / "c.pt"
    )
    uninterrupted = _train(ember, model, opt, data[4:])

    ckpt = ember.load(tmp_path / "c.pt")
    model2 = _model(ember)
    model2.load_state_dict(ckpt["model"])
    opt2 = ember.optim.Adam(model2.parameters(), lr=1e-2)
    opt2.load_state_dict(ckpt["optim"])
    assert ckpt["epoch"] == 4
    resumed = _train(ember, model2, opt2, data[4:])
    assert resumed == uninterrupted  # exact, not approximate
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.skipif(torch is None, reason="torch is the oracle")
def test_model_and_optimizer_checkpoint_both_ways(tmp_path):
    data = _batches(3)
    em = _model(ember)
    eo = ember.optim.AdamW(em.parameters(), lr=1e-2)
    _train(ember, em, eo, data)
    ember.save({"model": em.state_dict(), "optim": eo.state_dict(), "epoch": 3}, tmp_path / "e.pt")

    t = torch.load(tmp_path / "e.pt", weights_only=True)
    tm = _model(torch)
    tm.load_state_dict(t["model"])
    to = torch.optim.AdamW(tm.parameters(), lr=1e-2)
    to.load_state_dict(t["optim"])
    for (n, a), b in zip(em.state_dict().items(), tm.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=n)
    for k, st in eo.state_dict()["state"].items():
        for name, v in st.items():
            np.testing.assert_array_equal(
                np.asarray(v.numpy()), to.state_dict()["state"][k][name].numpy()
            )

    torch.save({"model": tm.state_dict(), "optim": to.state_dict(), "epoch": 3}, tmp_path / "t.pt")
    back = ember.load(tmp_path / "t.pt")
    em2 = _model(ember)
    em2.load_state_dict(back["model"])
    eo2 = ember.optim.AdamW(em2.parameters(), lr=1e-2)
    eo2.load_state_dict(back["optim"])
    assert back["epoch"] == 3
    # both continue identically from the round-tripped state
    more = _batches(5)[3:]
    np.testing.assert_allclose(
        _train(ember, em2, eo2, more), _train(torch, tm, to, more), rtol=1e-6
    )
