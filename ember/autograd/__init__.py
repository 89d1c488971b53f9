"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes, custom Functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ember.autograd import grad_mode
from ember.autograd.anomaly import detect_anomaly, set_detect_anomaly
from ember.autograd.engine import run_backward
from ember.autograd.function import Function, FunctionCtx, once_differentiable
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.autograd.grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)  # fmt: skip
from ember.autograd.node import GraphFreedError, InplaceModifiedError, Node

__all__ = [
    "backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
    "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "gradcheck", "gradgradcheck", "detect_anomaly",
    "set_detect_anomaly", "GraphFreedError", "InplaceModifiedError", "Node", "grad_mode",
    "NoGradPathError",
]  # fmt: skip


class NoGradPathError(RuntimeError):
    """backward()/grad() on a tensor that is not connected to anything requiring grad."""


def _as_list(x: Any) -> list:
    from ember.tensor import Tensor

    if x is None:
        return []
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _no_grad_error(i: int, t: Any) -> NoGradPathError:
    return NoGradPathError(
        f"element {i} of tensors does not require grad and does not have a grad_fn.\n"
        "  Why: this tensor is not connected to any tensor that requires grad. Either none of "
        "the inputs it was computed from require grad (are the model's parameters frozen, or the "
        "data not a Parameter?), it was computed inside `no_grad()` / `inference_mode()`, or the "
        "graph was cut by `.detach()`, `.item()`, `.numpy()` or `.data`.\n"
        "  Note: setting `loss.requires_grad = True` does not fix this; it makes a new leaf and "
        "gradients still will not reach your parameters."
    )


def _prepare(outputs: list, grads: list, create_graph: bool, who: str) -> list:
    from ember.ops.creation import ones_like
    from ember.tensor import Tensor

    if len(grads) == 0:
        grads = [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(
            f"{who}: got {len(grads)} tensors in grad_outputs but {len(outputs)} outputs"
        )
    res = []
    for i, (o, g) in enumerate(zip(outputs, grads, strict=True)):
        if not isinstance(o, Tensor):
            raise TypeError(f"{who}: expected Tensor outputs, got {type(o).__name__}")
        if not o._rg:
            raise _no_grad_error(i, o)
        if g is None:
            if o._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not o.is_floating_point():
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {o.dtype}"
                )
            g = ones_like(o)
        elif not isinstance(g, Tensor):
            from ember.ops.creation import tensor

            g = tensor(g, dtype=o.dtype)
        if g._data.shape != o._data.shape:
            from ember.size import Size

            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {Size(g._data.shape)} and "
                f"output[{i}] has a shape of {Size(o._data.shape)}."
            )
        if g._data.dtype != o._data.dtype:
            g = g.to(o.dtype)
        res.append(g if create_graph else g._data)
    return res


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables: Any = None,
    inputs: Any = None,
) -> None:
    """Accumulate the gradients of `tensors` w.r.t. graph leaves into their ``.grad``."""
    outputs = _as_list(tensors)
    grads = _prepare(outputs, _as_list(grad_tensors if grad_tensors is not None else grad_variables), create_graph, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    ins = _as_list(inputs) if inputs is not None else None
    if ins is not None and len(ins) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    captured = run_backward(outputs, grads, retain_graph, create_graph, inputs=ins, accumulate=True)
    if ins:
        from ember.tensor import _make

        for t in ins:  # non-leaf inputs: torch accumulates into their .grad as well
            if t.grad_fn is not None and id(t) in captured:
                g = captured[id(t)]
                g = g if create_graph else _make(g.copy())
                t._grad = g if t._grad is None else t._grad + g


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of `outputs` w.r.t. `inputs`, returned (``.grad`` is left untouched)."""
    from ember.ops.creation import zeros_like
    from ember.tensor import _make

    outs = _as_list(outputs)
    ins = _as_list(inputs)
    single = not isinstance(inputs, Sequence)
    if allow_unused is None:
        allow_unused = materialize_grads
    for t in ins:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _prepare(outs, _as_list(grad_outputs), create_graph, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    captured = run_backward(outs, grads, retain_graph, create_graph, inputs=ins, accumulate=False)
    res = []
    for t in ins:
        g = captured.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            res.append(zeros_like(t) if materialize_grads else None)
            continue
        res.append(g if create_graph else _make(g))
    _ = single
    return tuple(res)
