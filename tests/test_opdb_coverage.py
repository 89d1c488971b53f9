"""Meta-test: every backward node class defined in ember.ops is reached by at least one OpSpec."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np

import ember
import ember.ops
from ember.autograd.node import Node
from tests.opdb import OPS

# nodes that only appear on paths an OpSpec cannot take, with the reason
EXEMPT = {
    "ToDeviceBackward": "needs a second device (GPU tests cover it)",
    "UnsafeViewBackward0": "reshape of a non-viewable input: covered by reshape_copy via t()",
    "NotImplemented": "torch's node for scatter(reduce=...), which has no derivative",
}


def _all_node_classes():
    for m in pkgutil.iter_modules(ember.ops.__path__):
        importlib.import_module(f"ember.ops.{m.name}")
    seen, stack = set(), [Node]
    while stack:
        c = stack.pop()
        for s in c.__subclasses__():
            if s not in seen:
                seen.add(s)
                stack.append(s)
    return {c for c in seen if c.__module__.startswith("ember.ops")}


def _reached():
    names = set()
    for spec in OPS:
        if not spec.grad:
            continue
        xs = [x.astype(np.float32) if x.dtype.kind == "f" else x for x in spec.inputs()]
        idx = spec.diff_inputs(xs)
        ts = [ember.tensor(x, requires_grad=i in idx) for i, x in enumerate(xs)]
        out = spec.fn(ember, *ts)
        stack = [
            o.grad_fn
            for o in (out if isinstance(out, tuple | list) else [out])
            if isinstance(o, ember.Tensor) and o.grad_fn is not None
        ]
        seen = set()
        while stack:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            names.add(type(n))
            for e in getattr(n, "edges", ()):
                if e is not None and isinstance(e[0], Node):
                    stack.append(e[0])
    return names


def test_every_op_node_has_a_spec():
    np.seterr(all="ignore")
    missing = {c.__name__ for c in _all_node_classes() - _reached()} - set(EXEMPT)
    assert not missing, f"backward nodes with no OpSpec reaching them: {sorted(missing)}"
