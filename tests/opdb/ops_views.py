"""OpSpecs for ember/ops/views.py and ember/ops/conversion.py."""

from __future__ import annotations

import numpy as np

from tests.opdb.spec import OpSpec


def _copy_into(T, a, b):
    out = a * 1.0
    out.copy_(b)
    return out


def _fill(T, a):
    out = a * 1.0
    out.fill_(0.5)
    return out * a


SPECS = [
    OpSpec("view", lambda T, a: a.view(4, 3), lambda a: a.reshape(4, 3), noncontig=False),
    OpSpec(
        "view_infer",
        lambda T, a: a.view(-1),
        lambda a: a.reshape(-1),
        ((2, 3, 2),),
        noncontig=False,
    ),
    OpSpec("reshape_copy", lambda T, a: a.t().reshape(12), lambda a: a.T.reshape(12)),
    OpSpec("reshape_0d", lambda T, a: a.reshape(1, 1), lambda a: a.reshape(1, 1), ((),)),
    OpSpec(
        "view_as",
        lambda T, a, b: a.view_as(b),
        lambda a, b: a.reshape(b.shape),
        ((3, 4), (2, 6)),
        noncontig=False,
        grad_inputs=(0,),
    ),
    OpSpec(
        "permute", lambda T, a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), ((2, 3, 4),)
    ),
    OpSpec(
        "permute_neg",
        lambda T, a: a.permute(-1, 0, 1),
        lambda a: a.transpose(2, 0, 1),
        ((2, 3, 4),),
    ),
    OpSpec("transpose", lambda T, a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2), ((2, 3, 4),)),
    OpSpec("t", lambda T, a: a.t(), lambda a: a.T),
    OpSpec("T_2d", lambda T, a: a.T, lambda a: a.T, ((3, 4),)),
    OpSpec("mT", lambda T, a: a.mT, lambda a: a.swapaxes(-1, -2), ((2, 3, 4),)),
    OpSpec(
        "expand", lambda T, a: a.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), ((3, 1),)
    ),
    OpSpec(
        "expand_keep", lambda T, a: a.expand(-1, 4), lambda a: np.broadcast_to(a, (3, 4)), ((3, 1),)
    ),
    OpSpec(
        "expand_as",
        lambda T, a, b: a.expand_as(b),
        lambda a, b: np.broadcast_to(a, b.shape),
        ((4,), (3, 4)),
        grad_inputs=(0,),
    ),
    OpSpec(
        "broadcast_to",
        lambda T, a: T.broadcast_to(a, (2, 4)),
        lambda a: np.broadcast_to(a, (2, 4)),
        ((4,),),
    ),
    OpSpec("squeeze", lambda T, a: a.squeeze(), lambda a: a.squeeze(), ((3, 1, 4, 1),)),
    OpSpec("squeeze_dim", lambda T, a: a.squeeze(1), lambda a: a.squeeze(1), ((3, 1, 4),)),
    OpSpec("unsqueeze", lambda T, a: a.unsqueeze(-1), lambda a: a[..., None]),
    OpSpec("flatten", lambda T, a: a.flatten(1), lambda a: a.reshape(2, -1), ((2, 3, 4),)),
    OpSpec("unflatten", lambda T, a: a.unflatten(1, (2, 2)), lambda a: a.reshape(3, 2, 2)),
    OpSpec(
        "movedim", lambda T, a: T.movedim(a, 0, -1), lambda a: np.moveaxis(a, 0, -1), ((2, 3, 4),)
    ),
    OpSpec("to_double", lambda T, a: a.to(T.float64) * 2, lambda a: a.astype(np.float64) * 2),
    OpSpec(
        "to_half_back",
        lambda T, a: a.half().float(),
        lambda a: a.astype(np.float16).astype(np.float32),
        grad=False,
    ),
    OpSpec("clone", lambda T, a: a.clone() * a, lambda a: a * a),
    OpSpec("contiguous", lambda T, a: a.t().contiguous(), lambda a: a.T.copy()),
    OpSpec("copy_", _copy_into, lambda a, b: np.broadcast_to(b, a.shape), ((3, 4), (4,))),
    OpSpec("fill_", _fill, lambda a: 0.5 * a),
]
