"""nn.utils: gradient clipping, parameter vectors, sequence padding/packing, against torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.nn as enn
from ember.nn.utils import rnn as ernn
from tests.nn.helpers import close, copy_weights, et, needs_torch, rng, tt
from tests.oracle import torch


def _models_with_grads():
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    em = enn.Sequential(enn.Linear(4, 3), enn.Tanh(), enn.Linear(3, 2)).double()
    copy_weights(tm, em)
    a = rng(0).standard_normal((5, 4)) * 10
    (em(et(a)) ** 2).sum().backward()
    (tm(tt(a)) ** 2).sum().backward()
    return em, tm


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_matches_torch(norm_type) -> None:
    em, tm = _models_with_grads()
    n = enn.utils.clip_grad_norm_(em.parameters(), 1.5, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tm.parameters(), 1.5, norm_type)
    close(n, tn)
    assert isinstance(n, ember.Tensor) and n.ndim == 0
    for p, tp in zip(em.parameters(), tm.parameters()):
        close(p.grad, tp.grad)


def test_clip_grad_norm_nonfinite_and_no_op() -> None:
    p = enn.Parameter(ember.ones(3))
    p.grad = ember.tensor([1.0, float("inf"), 0.0])
    with pytest.raises(
        RuntimeError,
        match="The total norm of order 2.0 for gradients from `parameters` is non-finite",
    ):
        enn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    q = enn.Parameter(ember.ones(2))
    q.grad = ember.tensor([0.3, 0.4])
    total = enn.utils.clip_grad_norm_([q], max_norm=10.0)
    assert abs(float(total) - 0.5) < 1e-6
    np.testing.assert_allclose(q.grad.numpy(), [0.3, 0.4], rtol=1e-6)  # below max_norm: unchanged
    assert float(enn.utils.clip_grad_norm_([], 1.0)) == 0.0
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        enn.utils.clip_grad_norm_((p for p in []), 1.0)


@needs_torch
def test_clip_grad_value_matches_torch() -> None:
    em, tm = _models_with_grads()
    enn.utils.clip_grad_value_(em.parameters(), 0.7)
    torch.nn.utils.clip_grad_value_(tm.parameters(), 0.7)
    for p, tp in zip(em.parameters(), tm.parameters()):
        close(p.grad, tp.grad)


@needs_torch
def test_parameters_vector_roundtrip() -> None:
    em, tm = _models_with_grads()
    v = enn.utils.parameters_to_vector(em.parameters())
    close(v, torch.nn.utils.parameters_to_vector(tm.parameters()))
    enn.utils.vector_to_parameters(v * 2, em.parameters())
    torch.nn.utils.vector_to_parameters(
        torch.nn.utils.parameters_to_vector(tm.parameters()) * 2, tm.parameters()
    )
    for p, tp in zip(em.parameters(), tm.parameters()):
        close(p, tp)
        assert isinstance(p, enn.Parameter)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        enn.utils.vector_to_parameters([1.0], em.parameters())


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side) -> None:
    arrs = [rng(i).standard_normal((n, 3)) for i, n in enumerate([4, 2, 5])]
    es = [et(a, True) for a in arrs]
    ts = [tt(a, True) for a in arrs]
    out = ernn.pad_sequence(es, batch_first=batch_first, padding_value=-1.0, padding_side=side)
    tout = torch.nn.utils.rnn.pad_sequence(
        ts, batch_first=batch_first, padding_value=-1.0, padding_side=side
    )
    close(out, tout)
    cot = rng(9).standard_normal(tuple(tout.shape))
    (out * et(cot)).sum().backward()
    (tout * tt(cot)).sum().backward()
    for e, t in zip(es, ts):
        close(e.grad, t.grad)


@needs_torch
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_and_pad_packed_roundtrip_matches_torch(enforce_sorted) -> None:
    lengths = [5, 3, 2] if enforce_sorted else [2, 5, 3]
    a = rng(1).standard_normal((5, 3, 2))
    x, tx = et(a, True), tt(a, True)
    p = ernn.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, enforce_sorted=enforce_sorted)
    close(p.data, tp.data)
    assert p.batch_sizes.tolist() == tp.batch_sizes.tolist()
    out, lens = ernn.pad_packed_sequence(p, batch_first=True, total_length=6)
    tout, tlens = torch.nn.utils.rnn.pad_packed_sequence(tp, batch_first=True, total_length=6)
    close(out, tout)
    assert lens.tolist() == tlens.tolist()
    cot = rng(2).standard_normal(tuple(tout.shape))
    (out * et(cot)).sum().backward()
    (tout * tt(cot)).sum().backward()
    close(x.grad, tx.grad)
    seqs = ernn.unpack_sequence(ernn.pack_sequence([et(np.ones((3, 2))), et(np.ones((1, 2)))]))
    assert [tuple(s.shape) for s in seqs] == [(3, 2), (1, 2)]
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        ernn.pack_padded_sequence(x, [2, 5, 3])
