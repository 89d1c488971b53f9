"""torch.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp (reverse mode, row by row)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]


def _tup(x: Any) -> tuple[tuple, bool]:
    return (tuple(x), True) if isinstance(x, tuple | list) else ((x,), False)


def _prep(inputs: tuple, create_graph: bool) -> tuple:
    out = []
    for x in inputs:
        x = x.detach() if not create_graph else x
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        out.append(x)
    return tuple(out)


def _grads(outputs: Any, inputs: tuple, grad_outputs: Any, create_graph: bool) -> tuple:
    from ember.autograd import grad
    from ember.ops.creation import zeros_like

    gs = grad(
        outputs,
        inputs,
        grad_outputs,
        retain_graph=True,
        create_graph=create_graph,
        allow_unused=True,
    )
    return tuple(zeros_like(x) if g is None else g for g, x in zip(gs, inputs, strict=True))


def vjp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """(func(inputs), v^T J)."""
    ins, multi = _tup(inputs)
    ins = _prep(ins, create_graph)
    out = func(*ins)
    outs, multi_out = _tup(out)
    vs = _tup(v)[0] if v is not None else [None] * len(outs)
    gs = _grads(list(outs), ins, list(vs), create_graph)
    o = out if create_graph else (tuple(x.detach() for x in outs) if multi_out else out.detach())
    return o, (gs if multi else gs[0])


def jacobian(
    func: Callable,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """d func(inputs) / d inputs, shaped output.shape + input.shape (nested tuples for tuples)."""
    from ember.ops.creation import zeros
    from ember.ops.shape import stack

    ins, multi = _tup(inputs)
    ins = _prep(ins, create_graph)
    out = func(*ins)
    outs, multi_out = _tup(out)
    result = []
    for o in outs:
        rows = []
        flat = o.reshape(-1)
        for k in range(flat.numel()):
            e = zeros(flat.numel(), dtype=o.dtype)
            e[k] = 1.0
            gs = _grads([o], ins, [e.reshape(o.shape)], create_graph)
            rows.append(gs)
        per_input = []
        for i, x in enumerate(ins):
            if rows:
                j = stack([r[i] for r in rows], 0).reshape(tuple(o.shape) + tuple(x.shape))
            else:
                j = zeros(*(tuple(o.shape) + tuple(x.shape)), dtype=x.dtype)
            per_input.append(j if create_graph else j.detach())
        result.append(tuple(per_input) if multi else per_input[0])
    return tuple(result) if multi_out else result[0]


def hessian(
    func: Callable,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """Second derivatives of a scalar function."""
    ins, multi = _tup(inputs)

    def grad_fn(*xs: Any) -> Any:
        out = func(*xs)
        gs = _grads([out], xs, None, True)
        return gs if multi else gs[0]

    return jacobian(grad_fn, ins if multi else ins[0], create_graph=create_graph)


def jvp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """(func(inputs), J v) through the double-vjp trick."""
    from ember.ops.creation import zeros_like

    ins, _ = _tup(inputs)
    ins = _prep(ins, True)
    out = func(*ins)
    outs, multi_out = _tup(out)
    us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
    gs = _grads(list(outs), ins, list(us), True)
    vs = _tup(v)[0] if v is not None else tuple(zeros_like(x) + 1 for x in ins)
    jv = _grads(list(gs), us, list(vs), create_graph)
    o = tuple(x.detach() for x in outs) if multi_out else outs[0].detach()
    return o, (jv if multi_out else jv[0])


def vhp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple:
    """(func(inputs), v^T H)."""
    ins, multi = _tup(inputs)
    ins = _prep(ins, True)
    out = func(*ins)
    gs = _grads([out], ins, None, True)
    vs = _tup(v)[0]
    r = _grads(list(gs), ins, list(vs), create_graph)
    return out.detach(), (r if multi else r[0])


hvp = vhp  # the Hessian is symmetric for twice-differentiable functions
