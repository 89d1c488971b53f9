"""Module full backward hooks (torch's ``torch.utils.hooks.BackwardHook``).

An identity node is put on the module's input tensors and another on its output tensors; the
output node's hook captures ``grad_output`` and the input node's hook hands ``grad_input`` to the
user hooks. Unlike torch, the identity's outputs are not views of its inputs: they share storage
and version counter, so an in-place op right after the hooked module (``ReLU(inplace=True)``)
works and saved tensors are still version-checked.
"""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ember.autograd.grad_mode import state as _gm
from ember.autograd.hooks import RemovableHandle
from ember.autograd.node import Node, record
from ember.tensor import Tensor, _make

__all__ = [
    "BackwardHook", "BackwardHookFunctionBackward", "add_hook", "call_with_hooks",
    "register_module_forward_pre_hook", "register_module_forward_hook",
    "register_module_full_backward_pre_hook", "register_module_full_backward_hook",
]  # fmt: skip

_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()
GLOBAL_HOOKS = (
    _global_forward_pre_hooks, _global_forward_hooks, _global_backward_pre_hooks,
    _global_backward_hooks,
)  # fmt: skip


class BackwardHookFunctionBackward(Node):
    """Identity on k tensors; only its hooks do anything."""

    @property
    def nout(self) -> int:  # type: ignore[override]
        return len(self.metadata)

    def backward(self, F: Any, g: Any) -> tuple:
        gs = g if isinstance(g, list) else [g]
        return tuple(None if e is None else x for e, x in zip(self.edges, gs, strict=True))


def _identity(tensors: list[Tensor]) -> list[Tensor]:
    outs = []
    for t in tensors:
        if not t._rg:
            outs.append(t)
            continue
        o = _make(t._data)
        o._vc = t._vc  # same storage: an in-place op on o must invalidate what saved t
        outs.append(o)
    first = next(o for o, t in zip(outs, tensors, strict=True) if t._rg)
    node = record(BackwardHookFunctionBackward, first, tuple(tensors))
    node.metadata = [(t._data.shape, t._data.dtype) for t in tensors]
    for i, (o, t) in enumerate(zip(outs, tensors, strict=True)):
        if t._rg:
            o.grad_fn, o._out_nr, o._rg = node, i, True
    return outs


def _hook_name(hook: Callable) -> str:
    return getattr(hook, "__qualname__", None) or repr(hook)


class BackwardHook:
    """Runs a module's full backward (pre-)hooks with torch's grad_input / grad_output."""

    def __init__(self, module: Any, user_hooks: list, user_pre_hooks: list) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = self.n_outputs = -1
        self.input_tensors_index: list[int] | None = None
        self.output_tensors_index: list[int] | None = None

    @staticmethod
    def _pack_with_none(indices: list[int], values: Any, size: int) -> tuple:
        res: list[Any] = [None] * size
        for idx, val in zip(indices, values, strict=True):
            res[idx] = val
        return tuple(res)

    def _check_arity(self, hook: Callable, got: Any, want: int, what: str) -> None:
        if len(got) != want:
            raise RuntimeError(
                f"Backward {'pre ' if what == 'grad_output' else ''}hook returned an invalid "
                f"number of {what}, got {len(got)}, but expected {want} (hook "
                f"`{_hook_name(hook)}` on {self.module._get_name()})"
            )

    def _apply_on_tensors(self, hook: Callable, args: tuple) -> tuple[tuple, list[int] | None]:
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in idx]
        if not (_gm.enabled and any(t._rg for t in tensors)):
            return args, None
        new = _identity(tensors)
        node = next(o.grad_fn for o, t in zip(new, tensors, strict=True) if t._rg)
        node.register_hook(hook)
        out = list(args)
        for i, v in zip(idx, new, strict=True):
            out[i] = v
        return tuple(out), idx

    def setup_input_hook(self, args: tuple) -> tuple:
        def hook(grad_input: tuple, _: tuple) -> tuple | None:
            if self.grad_outputs is None:
                return None
            assert self.input_tensors_index is not None
            res = self._pack_with_none(self.input_tensors_index, grad_input, self.n_inputs)
            for user_hook in self.user_hooks:
                out = user_hook(self.module, res, self.grad_outputs)
                if out is None:
                    continue
                self._check_arity(user_hook, out, len(res), "grad_input")
                res = tuple(out)
            self.grad_outputs = None
            return tuple(res[i] for i in self.input_tensors_index)

        res, self.input_tensors_index = self._apply_on_tensors(hook, args)
        self.n_inputs = len(args)
        return res

    def setup_output_hook(self, result: Any) -> Any:
        def hook(_: tuple, grad_output: tuple) -> tuple | None:
            assert self.output_tensors_index is not None
            # outputs that do not require grad get None, as torch's non-differentiable outputs
            gout = [g if a else None for g, a in zip(grad_output, self._out_rg, strict=True)]
            self.grad_outputs = self._pack_with_none(
                self.output_tensors_index, gout, self.n_outputs
            )
            for pre in self.user_pre_hooks:
                new = pre(self.module, self.grad_outputs)
                if new is None:
                    continue
                self._check_arity(pre, new, len(self.grad_outputs), "grad_output")
                self.grad_outputs = tuple(new)
            local = self.grad_outputs
            if self.input_tensors_index is None:
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients. See https://docs.pytorch."
                    "org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.register_full_"
                    "backward_hook for more details.",
                    stacklevel=5,
                )
                grad_inputs = self._pack_with_none([], [], self.n_inputs)
                for user_hook in self.user_hooks:
                    r = user_hook(self.module, grad_inputs, self.grad_outputs)
                    if r is not None and not (isinstance(r, tuple) and all(x is None for x in r)):
                        raise RuntimeError(
                            "Backward hook for Modules where no input requires gradient should "
                            "always return None or None for all gradients."
                        )
                self.grad_outputs = None
            return tuple(local[i] for i in self.output_tensors_index)

        single = not isinstance(result, tuple)
        args = (result,) if single else result
        self._out_rg = [a._rg for a in args if isinstance(a, Tensor)]
        res, self.output_tensors_index = self._apply_on_tensors(hook, args)
        self.n_outputs = len(args)
        return res[0] if single else res


class _Handle(RemovableHandle):
    """A hook handle that also removes the hook's flags (with_kwargs, always_call)."""

    def __init__(self, registry: OrderedDict, fn: Any, extras: tuple = ()) -> None:
        super().__init__(registry, next(_ids))
        self._extras = extras
        registry[self.id] = fn

    def remove(self) -> None:
        super().remove()
        for d in self._extras:
            d.pop(self.id, None)


_ids = itertools.count()


def add_hook(registry: OrderedDict, fn: Any, prepend: bool = False, extras: tuple = ()) -> _Handle:
    h = _Handle(registry, fn, extras)
    if prepend:
        registry.move_to_end(h.id, last=False)
    return h


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """A forward pre-hook run before every module's forward."""
    return add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook: Callable) -> RemovableHandle:
    """A forward hook run after every module's forward."""
    return add_hook(_global_forward_hooks, hook)


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    return add_hook(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    return add_hook(_global_backward_hooks, hook)


def call_with_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """Run forward with the module's (and the global) forward and backward hooks."""
    for hid, hook in (*_global_forward_pre_hooks.items(), *module._forward_pre_hooks.items()):
        if hid in module._forward_pre_hooks_with_kwargs:
            r = hook(module, args, kwargs)
            if r is not None:
                if not (isinstance(r, tuple) and len(r) == 2):
                    raise RuntimeError(
                        "forward pre-hook must return None or a tuple of (new_args, "
                        f"new_kwargs), but got {r}."
                    )
                args, kwargs = r
        else:
            r = hook(module, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
    full = module._is_full_backward_hook is not False
    hooks = [*_global_backward_hooks.values(), *(module._backward_hooks.values() if full else ())]
    pre = [*_global_backward_pre_hooks.values(), *module._backward_pre_hooks.values()]
    bw = BackwardHook(module, hooks, pre) if (hooks or pre) else None
    if bw is not None:
        args = bw.setup_input_hook(args)
    called: set[int] = set()
    try:
        result = module.forward(*args, **kwargs)
        for hid, hook in (*_global_forward_hooks.items(), *module._forward_hooks.items()):
            called.add(hid)
            r = _run_forward_hook(module, hid, hook, args, kwargs, result)
            if r is not None:
                result = r
    except Exception:
        _always_call_hooks(module, called, args, kwargs)
        raise
    if bw is not None:
        if not isinstance(result, Tensor | tuple):
            warnings.warn(
                "For backward hooks to be called, module output should be a Tensor or a "
                f"tuple of Tensors but received {type(result)}",
                stacklevel=3,
            )
        else:
            result = bw.setup_output_hook(result)
    if not full and module._backward_hooks and isinstance(result, Tensor) and result.grad_fn:
        for hook in module._backward_hooks.values():
            result.grad_fn.register_hook(lambda gi, go, h=hook: h(module, gi, go))
    return result


def _run_forward_hook(module: Any, hid: int, hook: Callable, args: tuple, kwargs: dict,
                      result: Any) -> Any:  # fmt: skip
    if hid in module._forward_hooks_with_kwargs:
        return hook(module, args, kwargs, result)
    return hook(module, args, result)


def _always_call_hooks(module: Any, called: set, args: tuple, kwargs: dict) -> None:
    """torch: hooks registered with always_call=True still run when forward raised."""
    for hid, hook in module._forward_hooks.items():
        if hid in module._forward_hooks_always_called and hid not in called:
            try:
                _run_forward_hook(module, hid, hook, args, kwargs, None)
            except Exception as e:
                warnings.warn(
                    "module forward hook with ``always_call=True`` raised an exception that was "
                    f"silenced as another error was raised in forward: {e}",
                    stacklevel=4,
                )
