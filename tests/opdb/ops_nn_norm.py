"""OpSpecs for normalisation and embedding (ember/nn/functional/_norm.py, _embedding.py)."""

from __future__ import annotations

import numpy as np

from tests.opdb.spec import OpSpec


def _ln(x, axes, eps=1e-5):
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def _emb_inputs(rng):
    return [rng.standard_normal((7, 3)), rng.integers(0, 7, (2, 4))]


def _bag_inputs(rng):
    return [rng.standard_normal((7, 3)), np.array([1, 2, 4, 5, 4, 3, 2, 6]), np.array([0, 3, 3, 5])]


SPECS = [
    OpSpec(
        "layer_norm",
        lambda T, x, w, b: T.nn.functional.layer_norm(x, (5,), w, b),
        lambda x, w, b: _ln(x, (-1,)) * w + b,
        ((3, 4, 5), (5,), (5,)),
    ),
    OpSpec(
        "layer_norm_2d",
        lambda T, x: T.nn.functional.layer_norm(x, (4, 5)),
        lambda x: _ln(x, (-2, -1)),
        ((3, 4, 5),),
    ),
    OpSpec(
        "batch_norm_train",
        lambda T, x, w, b: T.nn.functional.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: _ln(x, (0, 2, 3)) * w[None, :, None, None] + b[None, :, None, None],
        ((4, 3, 2, 2), (3,), (3,)),
    ),
    OpSpec(
        "batch_norm_eval",
        lambda T, x, m, v: T.nn.functional.batch_norm(x, m, v.abs() + 0.5, training=False),
        lambda x, m, v: (x - m) / np.sqrt(np.abs(v) + 0.5 + 1e-5),
        ((4, 3), (3,), (3,)),
        grad_inputs=(0,),
    ),
    OpSpec(
        "group_norm",
        lambda T, x, w, b: T.nn.functional.group_norm(x, 2, w, b),
        None,
        ((2, 4, 3, 3), (4,), (4,)),
    ),
    OpSpec(
        "instance_norm",
        lambda T, x: T.nn.functional.instance_norm(x),
        lambda x: _ln(x, (2, 3)),
        ((2, 3, 3, 4),),
    ),
    OpSpec(
        "rms_norm",
        lambda T, x, w: T.nn.functional.rms_norm(x, (5,), w),
        lambda x, w: x / np.sqrt((x * x).mean(-1, keepdims=True) + np.finfo(x.dtype).eps) * w,
        ((3, 5), (5,)),
    ),
    OpSpec(
        "embedding",
        lambda T, w, i: T.nn.functional.embedding(i, w),
        lambda w, i: w[i],
        make=_emb_inputs,
    ),
    OpSpec(
        "embedding_pad",
        lambda T, w, i: T.nn.functional.embedding(i, w, padding_idx=2),
        lambda w, i: w[i],
        make=_emb_inputs,
    ),
    OpSpec(
        "embedding_bag_mean",
        lambda T, w, i, o: T.nn.functional.embedding_bag(i, w, o, mode="mean"),
        None,
        make=_bag_inputs,
    ),
    OpSpec(
        "embedding_bag_sum",
        lambda T, w, i, o: T.nn.functional.embedding_bag(i, w, o, mode="sum"),
        None,
        make=_bag_inputs,
    ),
    OpSpec(
        "embedding_bag_max",
        lambda T, w, i, o: T.nn.functional.embedding_bag(i, w, o, mode="max"),
        None,
        make=_bag_inputs,
        gradgrad=False,
    ),
]
