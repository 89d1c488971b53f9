"""Custom differentiable operations with torch's API (``torch.autograd.Function``).

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp(); ctx.save_for_backward(y); return y
        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors; return grad * y

The ``ctx`` object is the graph node itself (as in torch), so it can carry any attribute. Its
class is named ``<Name>Backward`` (torch's ``grad_fn`` name for a Function called ``Name``).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ember.autograd import grad_mode
from ember.autograd.node import _FREED, Node, site

__all__ = ["Function", "FunctionCtx", "once_differentiable", "BackwardCFunction"]

_SAVED = ("ctx",)  # non-empty `saved`: the engine then calls unpack() and release() on the ctx


class BackwardCFunction(Node):
    """The node of a custom Function call; also its ``ctx``."""

    # no __slots__: ctx carries user attributes (ctx.scale = ...)
    _cls: Any = None

    def __init__(self) -> None:
        self.saved = _SAVED
        self.vers = ()
        self.args = None
        self.edges = []
        self.site = None
        self._hooks = None
        self._pre_hooks = None
        self._to_save: tuple | None = ()
        self._save_vers: tuple = ()
        self._out_slots: dict[int, int] = {}  # position in _to_save -> index in _outs
        self._out_index: dict[int, int] = {}  # position in _to_save -> output number
        self._outs: list = []  # (array, version counter) of outputs saved for backward
        self._tensor_arg: tuple = ()
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._non_diff: set[int] = set()
        self._dirty: set[int] = set()
        self.metadata: list = []

    # -- ctx API ---------------------------------------------------------------
    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors (inputs, outputs or intermediates) for backward, version-checked."""
        from ember.tensor import Tensor

        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type "
                    f"{type(t).__name__}"
                )
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The saved tensors; raises if modified in place since, or freed by a backward."""
        if self._to_save is None:
            raise self._freed_error()
        res = []
        for i, (t, v) in enumerate(zip(self._to_save, self._save_vers, strict=False)):
            if t is None:
                res.append(None)
                continue
            if i in self._out_slots:  # an output: rebuilt, connected to this node
                arr, vc = self._outs[self._out_slots[i]]
                if vc[0] != v:
                    raise self._inplace_error(arr, vc, v, True, nr=self._out_index[i])
                from ember.autograd.node import _output_tensor

                out = _output_tensor(self, arr, vc)
                out._out_nr = self._out_index[i]
                res.append(out)
                continue
            if t._vc[0] != v:
                raise self._inplace_error(t._data, t._vc, v, output=False, t=t)
            res.append(t)
        return tuple(res)

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """These outputs will not require grad (their gradient in backward is zeros)."""
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors: Any) -> None:
        """These inputs were modified in place by forward (and are returned as outputs)."""
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward gets None (not zeros) for outputs that received no gradient."""
        self.materialize_grads = bool(value)

    # -- engine side -------------------------------------------------------------
    def unpack(self, graph: bool) -> tuple:
        return ()  # the user's backward reads ctx.saved_tensors itself

    def release(self, where: Any) -> None:
        self.saved = _FREED
        self.freed_by = where

    @property  # type: ignore[override]
    def saved(self) -> Any:
        return self.__dict__["saved"]

    @saved.setter
    def saved(self, value: Any) -> None:
        # the engine frees a node by setting `saved = _FREED`: drop what the user saved too
        if value is _FREED:
            self._to_save = None
            self._outs = []
        self.__dict__["saved"] = value

    def backward(self, F: Any, g: Any) -> tuple:  # type: ignore[override]
        from ember.tensor import Tensor, _make

        graph = grad_mode.state.enabled
        gs = g if self.nout > 1 else [g]
        boxed = []
        for x, (shape, dt) in zip(gs, self.metadata, strict=True):
            if x is None:
                boxed.append(
                    _zeros(shape, dt) if self.materialize_grads and dt is not None else None
                )
            elif isinstance(x, Tensor):
                boxed.append(x)
            else:
                boxed.append(_make(np.asarray(x) if isinstance(x, np.generic) else x))
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
        for i, (r, e) in enumerate(zip(res, self.edges, strict=True)):
            if r is None:
                out.append(None)
                continue
            if e is None and not self._tensor_arg[i]:
                raise RuntimeError(
                    f"function {self.name()} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable"
                )
            if not isinstance(r, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(r).__name__})")
            if e is None:
                out.append(None)
                continue
            out.append(r if graph else r._data)
        return tuple(out)

    @property
    def nout(self) -> int:  # type: ignore[override]
        return len(self.metadata)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        # as torch: one entry per Tensor argument (edges also hold None for the others)
        full = Node.next_functions.fget(self)  # type: ignore[attr-defined]
        return tuple(f for f, t in zip(full, self._tensor_arg, strict=True) if t)

    def name(self) -> str:
        return type(self).__name__


def _zeros(shape: tuple, dt: Any) -> Any:
    from ember.tensor import _make

    return _make(np.zeros(shape, dt))


class FunctionCtx(BackwardCFunction):
    """The ctx type (for annotations)."""


class _FunctionMeta(type):
    def __init__(cls, name: str, bases: tuple, attrs: dict) -> None:
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Base of user-defined differentiable ops: static ``forward(ctx, ...)`` and ``backward``."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @classmethod
    def vjp(cls, ctx: Any, *grad_outputs: Any) -> Any:
        return cls.backward(ctx, *grad_outputs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward without recording, then connect its outputs to one ``<Name>Backward``."""
        from ember.tensor import Tensor

        ctx = cls._backward_cls()
        is_t = tuple(isinstance(a, Tensor) for a in args)
        ctx._tensor_arg = is_t
        ctx.needs_input_grad = tuple(t and a._rg for t, a in zip(is_t, args, strict=True))
        prev = grad_mode.state.enabled
        grad_mode.state.enabled = False
        try:
            if cls.setup_context is not Function.setup_context:  # torch 2's split style
                outs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outs)
            else:
                outs = cls.forward(ctx, *args, **kwargs)
        finally:
            grad_mode.state.enabled = prev
        if not (prev and any(ctx.needs_input_grad)):
            return outs
        single = not isinstance(outs, tuple)
        items = (outs,) if single else outs
        ctx.edges = [
            (a.grad_fn or a, a._out_nr, a._data.shape, a._data.dtype) if n else None
            for a, n in zip(args, ctx.needs_input_grad, strict=True)
        ]
        ctx.site = site(2)
        ids = {id(a): a for a in args if isinstance(a, Tensor)}
        result = []
        for i, o in enumerate(items):
            if not isinstance(o, Tensor):
                ctx.metadata.append(((), None))
                result.append(o)
                continue
            ctx.metadata.append((o._data.shape, o._data.dtype))
            if id(o) in ids:
                if id(o) in ctx._dirty:
                    if o._rg and o.grad_fn is None:
                        raise RuntimeError(
                            "a leaf Variable that requires grad has been used in an in-place "
                            "operation."
                        )
                    o._vc[0] += 1
                    o._vc[1] = (f"{cls.__name__}.apply (mark_dirty)", ctx.site)
                else:  # an input returned as is: torch returns a view carrying the new node
                    o = _alias(o)
            if id(o) in ctx._non_diff or not o.is_floating_point():
                result.append(o)
                continue
            o.grad_fn = ctx
            o._out_nr = i
            o._rg = True
            result.append(o)
        _freeze_saved(ctx, items, result)
        return result[0] if single else tuple(result)


def _alias(t: Any) -> Any:
    from ember.tensor import _make

    a = _make(t._data)
    a._vc = t._vc
    root = getattr(t, "_base", None)
    a._base = root if root is not None else t
    return a


def _freeze_saved(ctx: BackwardCFunction, items: tuple, result: list) -> None:
    """Record saved versions now (torch: when forward returns), and keep saved outputs as arrays.

    A saved output is the tensor whose grad_fn is this ctx: holding it would make a reference
    cycle, so its array and version counter are kept and the tensor is rebuilt on access.
    """
    saved = ctx._to_save or ()
    ctx._save_vers = tuple(None if t is None else t._vc[0] for t in saved)
    if not saved:
        return
    out_pos = {id(o): i for i, o in enumerate(items) if o is not None}
    slots: dict[int, int] = {}
    index: dict[int, int] = {}
    outs = []
    kept = list(saved)
    for k, t in enumerate(saved):
        i = out_pos.get(id(t)) if t is not None else None
        if i is None or result[i] is not t or t.grad_fn is not ctx:
            continue
        slots[k] = len(outs)
        index[k] = i
        outs.append((t._data, t._vc))
        kept[k] = _PLACEHOLDER
    ctx._out_slots = slots
    ctx._out_index = index
    ctx._outs = outs
    ctx._to_save = tuple(kept)


_PLACEHOLDER = object()  # stands for a saved output in ctx._to_save


def once_differentiable(fn: Any) -> Any:
    """Decorate a custom backward that is not itself differentiable (runs under no_grad).

    Under ``create_graph``, the results carry a node that raises if differentiated again.
    """

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        from ember.tensor import Tensor

        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not grad_mode.state.enabled:
            return outputs
        needs = tuple(a for a in args if isinstance(a, Tensor) and a._rg)
        if not needs:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        from ember.autograd.node import record

        wrapped = []
        for o in outs:
            if isinstance(o, Tensor) and o.is_floating_point():
                o = _alias(o)
                o._base = None
                record(DelayedError, o, needs)
            wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)

    return wrapper


class DelayedError(Node):
    """Node of a ``once_differentiable`` backward's result: differentiating it again raises."""

    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )
