"""Custom differentiable operations with torch's API (``torch.autograd.Function``).

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp(); ctx.save_for_backward(y); return y
        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors; return grad * y

The ``ctx`` object is the graph node itself (as in torch), so it can carry any attribute.
"""

from __future__ import annotations

import functools
from typing import Any

from ember.autograd import grad_mode
from ember.autograd.node import Node, site

__all__ = ["Function", "FunctionCtx", "once_differentiable", "BackwardCFunction"]


class BackwardCFunction(Node):
    """The node of a custom Function call; also its ``ctx``."""

    # no __slots__: ctx carries user attributes (ctx.scale = ...)
    def __init__(self) -> None:
        self.saved = ()
        self.vers = ()
        self.args = None
        self._to_save: tuple = ()
        self._save_vers: tuple = ()
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._non_diff: set[int] = set()
        self._dirty: set[int] = set()
        self.metadata = []

    # -- ctx API ---------------------------------------------------------------
    def save_for_backward(self, *tensors: Any) -> None:
        self._to_save = tensors
        self._save_vers = tuple(None if t is None else t._vc[0] for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        if self._to_save is None:
            raise self._freed_error()
        for t, v in zip(self._to_save, self._save_vers, strict=True):
            if t is not None and t._vc[0] != v:
                raise self._inplace_error(t._data, t._vc, v, output=False, t=t)
        return self._to_save

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors: Any) -> None:
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    @property
    def saved_variables(self) -> tuple:
        return self.saved_tensors

    # -- engine side -------------------------------------------------------------
    def release(self, where: Any) -> None:
        if self._to_save:
            self._to_save = None  # type: ignore[assignment]
            self.freed_by = where

    def backward(self, F: Any, g: Any) -> tuple:  # type: ignore[override]
        from ember.ops.creation import zeros
        from ember.tensor import Tensor, _make

        graph = grad_mode.state.enabled
        gs = g if self.nout > 1 else [g]
        boxed = []
        for x, (shape, dt) in zip(gs, self.metadata, strict=True):
            if x is None:
                boxed.append(zeros(*shape, dtype=dt) if self.materialize_grads else None)
            else:
                boxed.append(x if isinstance(x, Tensor) else _make(x))
        res = self._cls.backward(self, *boxed)
        if not isinstance(res, tuple):
            res = (res,)
        n_in = len(self.edges)
        if len(res) > n_in and all(r is None for r in res[n_in:]):
            res = res[:n_in]
        if len(res) != n_in:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients (expected "
                f"{n_in}, got {len(res)})"
            )
        out = []
        for r, e in zip(res, self.edges, strict=True):
            if r is None or e is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                raise TypeError(f"{self.name()}.backward must return Tensors or None, got {type(r).__name__}")
            out.append(r if graph else r._data)
        return tuple(out)

    @property
    def nout(self) -> int:  # type: ignore[override]
        return len(self.metadata)

    def name(self) -> str:
        return type(self).__name__


class FunctionCtx(BackwardCFunction):
    """The ctx type (for annotations)."""


class _FunctionMeta(type):
    def __init__(cls, name: str, bases: tuple, attrs: dict) -> None:
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of user-defined differentiable ops: static ``forward(ctx, ...)`` / ``backward``."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from ember.tensor import Tensor

        ctx = cls._backward_cls()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        prev = grad_mode.state.enabled
        grad_mode.state.enabled = False
        try:
            outs = cls.forward(ctx, *args, **kwargs)
        finally:
            grad_mode.state.enabled = prev
        if not (prev and any(ctx.needs_input_grad)):
            return outs
        single = not isinstance(outs, tuple)
        items = (outs,) if single else outs
        edges = []
        for a in args:
            if isinstance(a, Tensor) and a._rg:
                edges.append((a.grad_fn or a, a._out_nr, a._data.shape, a._data.dtype))
            else:
                edges.append(None)
        ctx.edges = edges
        ctx.site = site(2)
        ctx.saved = ()
        ctx.vers = ()
        result = []
        for i, o in enumerate(items):
            if not isinstance(o, Tensor):
                ctx.metadata.append(((), None))
                result.append(o)
                continue
            ctx.metadata.append((o._data.shape, o._data.dtype))
            if id(o) in ctx._non_diff:
                result.append(o)
                continue
            if o._rg and o.grad_fn is None and id(o) not in ctx._dirty and any(o is a for a in args):
                o = o.view_as(o)  # returning an input as is: torch returns a view with the new node
            o.grad_fn = ctx
            o._out_nr = i
            o._rg = o.is_floating_point()
            result.append(o)
        return result[0] if single else tuple(result)


def once_differentiable(fn: Any) -> Any:
    """Decorate a custom backward that is not itself differentiable (runs under no_grad)."""

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with grad_mode.no_grad():
            return fn(ctx, *args)

    return wrapper
