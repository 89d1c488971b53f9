"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes, custom Functions."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.autograd import anomaly as anomaly_mode
from ember.autograd import functional, grad_mode  # noqa: F401  (ember.autograd.functional)
from ember.autograd.anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)  # fmt: skip
from ember.autograd.engine import run_backward
from ember.autograd.function import Function, FunctionCtx, once_differentiable
from ember.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)  # fmt: skip
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.autograd.node import GraphFreedError, InplaceModifiedError, Node

__all__ = [
    "backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
    "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "gradcheck", "gradgradcheck", "detect_anomaly",
    "set_detect_anomaly", "GraphFreedError", "InplaceModifiedError", "Node", "grad_mode",
    "NoGradPathError", "anomaly_mode", "Variable", "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
]  # fmt: skip


class _VariableMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        from ember.tensor import Tensor

        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """Deprecated (as in torch): ``Variable(t, requires_grad=...)`` returns a Tensor."""

    def __new__(cls, data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:
        from ember.tensor import _make

        t = _make(data._data)
        t._vc = data._vc
        if requires_grad:
            t.requires_grad_(True)
        return t


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
    from ember.autograd.naming import param_name
    from ember.autograd.node import fmt_site

    found = []
    maybe = ""
    since = grad_mode.entered_at()
    if not grad_mode.state.enabled:
        mode = "inference_mode()" if grad_mode.state.inference else "no_grad()"
        found.append(
            f"grad mode is disabled right now: `{mode}` (or set_grad_enabled(False)) was entered "
            f"at {fmt_site(since)}, so ops record no graph"
        )
    elif grad_mode.last_disabled_at() is not None:
        maybe = (
            "grad mode was last disabled (no_grad() / inference_mode() / set_grad_enabled(False))"
            f" at {fmt_site(grad_mode.last_disabled_at())}: a tensor computed inside that block "
            "has no history"
        )
    name = param_name(t)
    if name is not None:
        found.append(f"it is the parameter `{name}`, which has requires_grad=False")
    elif t.grad_fn is None:
        found.append(
            "it is a leaf tensor with requires_grad=False: it was created directly, or computed "
            "while grad mode was off, or by ops whose inputs did not require grad"
        )
    detected = "".join(f"\n  Detected: {f}." for f in found)
    if maybe:
        detected += f"\n  Possible cause: {maybe}."
    return NoGradPathError(
        f"element {i} of tensors does not require grad and does not have a grad_fn{detected}\n"
        "  Why: this tensor is not connected to any tensor that requires grad. Either none of "
        "the inputs it was computed from require grad (are the model's parameters frozen, or the "
        "data not a Parameter?), it was computed inside `no_grad()` / `inference_mode()` (e.g. an "
        "evaluation or test step), or the graph was cut by `.detach()`, `.item()`, `.numpy()` or "
        "`.data`.\n"
        "  Note: setting `loss.requires_grad = True` does not fix this; it makes a new leaf and "
        "gradients still will not reach your parameters."
    )


def _prepare(outputs: list, grads: list, create_graph: bool, who: str) -> list:
    from ember.tensor import Tensor, _make

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
        od = o._data
        if g is None:
            if od.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not o.is_floating_point():
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {o.dtype}"
                )
            if od.__class__ is np.ndarray:
                ga = np.ones_like(od)
            else:
                from ember.backends import xp_of

                ga = xp_of(od).ones_like(od)
            res.append(_make(ga) if create_graph else ga)
            continue
        if not isinstance(g, Tensor):
            from ember.ops.creation import tensor

            g = tensor(g, dtype=o.dtype)
        if g._data.shape != od.shape:
            from ember.size import Size

            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {Size(g._data.shape)} and "
                f"output[{i}] has a shape of {Size(od.shape)}."
            )
        if g._data.dtype != od.dtype:
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
    """Accumulate the gradients of `tensors` w.r.t. graph leaves into their ``.grad``.

    With `inputs`, only those tensors get ``.grad`` (non-leaves too: they then retain grad, as
    in torch) and only the part of the graph leading to them runs.
    """
    outputs = _as_list(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = _prepare(outputs, _as_list(grad_tensors), create_graph, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    ins = _as_list(inputs) if inputs is not None else None
    if ins is not None:
        if len(ins) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        for t in ins:
            if t.grad_fn is not None:
                t.retain_grad()  # torch fills a non-leaf input's .grad through retain_grad
    run_backward(outputs, grads, retain_graph, create_graph, inputs=ins, accumulate=True)


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

    if is_grads_batched:
        raise NotImplementedError("ember: autograd.grad(is_grads_batched=True) is not supported")
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
            "allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    for t in ins:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _prepare(outs, _as_list(grad_outputs), create_graph, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    captured = run_backward(outs, grads, retain_graph, create_graph, inputs=ins, accumulate=False)
    res = []
    for i, t in enumerate(ins):
        g = captured.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            res.append(zeros_like(t) if materialize_grads else None)
            continue
        if not create_graph and isinstance(g, np.generic):
            g = np.asarray(g)
        res.append(g if create_graph else _make(g))
    return tuple(res)
