"""The optimizer base: torch.optim.Optimizer's shell around one pure per-parameter update.

An algorithm subclasses :class:`Optimizer` and writes two methods on arrays (NumPy or CuPy):
``_init_state(param, group)`` returns the fresh state arrays of one parameter, and
``_update(param, grad, state, group)`` changes ``param`` and the state arrays in place. The base
class owns everything torch users touch: param groups, lazily created per-parameter ``state`` (a
dict keyed by the parameter tensor, holding Tensors), ``zero_grad``, ``step(closure)``, step
hooks, and ``state_dict`` / ``load_state_dict`` in torch's exact layout, so checkpoints move
between ember and torch.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from ember import dtypes
from ember.autograd.grad_mode import enable_grad
from ember.autograd.hooks import RemovableHandle, add_hook
from ember.autograd.node import site
from ember.backends import xp_of
from ember.optim import _parallel
from ember.tensor import Tensor, _make

__all__ = [
    "Optimizer", "required", "register_optimizer_step_pre_hook",
    "register_optimizer_step_post_hook",
]  # fmt: skip

Array = Any
StateDict = dict[str, Any]
_global_pre_hooks: dict[int, Callable] = OrderedDict()
_global_post_hooks: dict[int, Callable] = OrderedDict()


class _RequiredParameter:
    """Singleton marking a hyperparameter every param group must give (torch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """hook(optimizer, args, kwargs) -> None or (args, kwargs), run before every ``step``."""
    return add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """hook(optimizer, args, kwargs) -> None, run after every optimizer's ``step``."""
    return add_hook(_global_post_hooks, hook)


def _to_scalar(x: Any) -> Any:
    """A Python number for a hyperparameter that may be a 1-element Tensor (torch allows lr=T)."""
    return x.item() if isinstance(x, Tensor) else x


def _f(x: Any) -> float:
    # NOTE: NumPy float64 scalars are not "weak" under NEP 50: float32 * np.float64 -> float64.
    # Every hyperparameter reaching array math goes through float() to keep params' dtype.
    return float(_to_scalar(x))


def _typename(obj: Any) -> str:
    """torch.typename: 'torch.FloatTensor' for tensors, else [module.]qualname."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__ or ""
    return cls.__qualname__ if module in ("", "builtins") else f"{module}.{cls.__qualname__}"


class Optimizer:
    """Base class of all optimizers (torch.optim.Optimizer).

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param groups,
            each with its own options under the same keys as ``defaults``).
        defaults: the default value of every option for groups that do not set it.
    """

    # reusable work arrays keyed (worker slot, array type, dtype, index); index 0 is the
    # transformed gradient of `_grad`, so updates use 1 and 2 for their own temporaries
    _scratch: dict[tuple, Array]

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._init_hooks()
        self._patch_step_function()
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}"
            )
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def _init_hooks(self) -> None:
        self._scratch = {}
        self._optimizer_step_pre_hooks: dict[int, Callable] = OrderedDict()
        self._optimizer_step_post_hooks: dict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: dict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_post_hooks: dict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: dict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: dict[int, Callable] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_optimizer_step_pre_hooks" not in self.__dict__:
            self._init_hooks()
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # ---------------------------------------------------------------- step hooks
    def _patch_step_function(self) -> None:
        # torch: wrap the most derived class's step once, so hooks run around any override
        cls = self.__class__
        if not getattr(cls.step, "hooked", False):
            cls.step = Optimizer._hook_step(cls.step)  # type: ignore[method-assign]

    @staticmethod
    def _hook_step(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self = args[0]
            for pre in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = pre(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(
                            f"{func} must return None or a tuple of (new_args, new_kwargs), "
                            f"but got {result}."
                        )
            out = func(*args, **kwargs)
            for post in chain(
                self._optimizer_step_post_hooks.values(), _global_post_hooks.values()
            ):
                post(self, args, kwargs)
            return out

        wrapper.hooked = True  # type: ignore[attr-defined]
        return wrapper

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), before ``step``."""
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(optimizer, args, kwargs) -> None, after ``step``."""
        return add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """hook(optimizer) -> None, before ``state_dict`` builds its result."""
        return _add(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """hook(optimizer, state_dict) -> state_dict or None, after ``state_dict``."""
        return _add(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """hook(optimizer, state_dict) -> state_dict or None, before ``load_state_dict``."""
        return _add(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """hook(optimizer) -> None, after ``load_state_dict``."""
        return _add(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---------------------------------------------------------------- state dict
    def state_dict(self) -> StateDict:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` as torch.

        Parameters are replaced by their position over all groups; state values are the live
        state Tensors (not copies), exactly as torch returns them.
        """
        for pre in self._optimizer_state_dict_pre_hooks.values():
            pre(self)
        mapping: dict[int, int] = {}
        start = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()
        }
        sd: StateDict = {"state": packed_state, "param_groups": param_groups}
        for post in self._optimizer_state_dict_post_hooks.values():
            result = post(self, sd)
            if result is not None:
                sd = result
        return sd

    @staticmethod
    def _process_value_according_to_param_policy(
        param: Tensor, value: Tensor, param_id: int, param_groups: list[dict], key: Any = None
    ) -> Tensor:
        # torch: floating state follows the param's dtype, but 'step' keeps its own dtype
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=dtypes.float32, device=param.device)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load a ``state_dict()`` (from ember or, with Tensors converted, from torch).

        Like torch, state Tensors already of the parameter's dtype and device are used as they
        are (shared, not copied); deep-copy a state dict that another optimizer keeps stepping.
        """
        state_dict = state_dict.copy()
        for pre in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        saved_pgs = state_dict["param_groups"]

        def cast(param: Tensor, value: Any, param_id: Any, key: Any = None) -> Any:
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, saved_pgs, key
                )
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, str):
                return type(value)(cast(param, v, param_id) for v in value)  # type: ignore[call-arg]
            return value

        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v, k)
            else:
                state[k] = v

        def update_group(group: dict[str, Any], new_group: dict[str, Any]) -> dict[str, Any]:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post in self._optimizer_load_state_dict_post_hooks.values():
            post(self)

    # ---------------------------------------------------------------- groups and grads
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to None (default) or, in place, to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g._rg = False
                    a = g._data
                    if getattr(a.flags, "writeable", True):
                        a[...] = 0
                    else:  # a read-only (broadcast) gradient array: give it its own storage
                        g._data = xp_of(a).zeros(a.shape, a.dtype)
                    g._vc[0] += 1

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own options) to ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + _typename(param)
                )
            if not self.defaults.get("differentiable", None) and not (
                param.is_leaf or param.retains_grad
            ):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)
        if len(tensors) != len({id(p) for p in tensors}):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this "
                "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information",
                stacklevel=3,
            )
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add param "
                    f"group {txt} to the optimizer"
                )
        if not seen.isdisjoint(id(p) for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---------------------------------------------------------------- the update loop
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One optimization step over every parameter that has a ``.grad``.

        ``closure`` (optional) re-evaluates the model under grad mode and returns the loss, which
        ``step`` returns. Parameters whose ``.grad`` is None are skipped.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        where = (f"{type(self).__name__}.step", site(2))
        state = self.state
        jobs, done, on_cpu = [], [], True
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                st = state.get(p)
                if st:
                    arrays = {k: (v._data if isinstance(v, Tensor) else v) for k, v in st.items()}
                else:
                    arrays = self._init_state(p._data, group)
                pa = p._data
                on_cpu = on_cpu and pa.__class__ is np.ndarray
                jobs.append((pa.size, functools.partial(self._update, pa, g._data, arrays, group)))
                done.append((p, arrays))
        _parallel.run(jobs, threaded=on_cpu)
        for p, arrays in done:
            if arrays:
                _write_back(state[p], arrays)
            vc = p._vc  # the parameter changed in place: saved copies in a graph are stale
            vc[0] += 1
            vc[1] = where
        return loss

    def _init_state(self, param: Array, group: dict[str, Any]) -> dict[str, Array]:
        """The fresh state arrays of one parameter (empty: created by the update if needed)."""
        return {}

    def _update(self, param: Array, grad: Array, state: dict[str, Array], group: dict) -> None:
        """Update one parameter array (and its state arrays) in place. Arrays only, no graph."""
        raise NotImplementedError

    # ---------------------------------------------------------------- array helpers
    def _tmp(self, like: Array, k: int) -> Array:
        """Scratch array `k` shaped like `like` (reused across parameters: no allocation)."""
        key = (_parallel.slot(), type(like), like.dtype, k)
        buf = self._scratch.get(key)
        n = like.size
        if buf is None or buf.size < n:
            buf = self._scratch[key] = xp_of(like).empty(max(n, 1), like.dtype)
        return buf[:n].reshape(like.shape)

    def _grad(self, p: Array, g: Array, maximize: Any, weight_decay: Any) -> Array:
        """The gradient the rule sees: ``-g`` if maximizing, plus ``weight_decay * p`` (L2).

        Returns `g` itself when nothing changes, else scratch 0 (the caller's grad is kept).
        """
        wd = _f(weight_decay)
        if not maximize and wd == 0:
            return g
        out = self._tmp(p, 0)
        if wd == 0:
            return np.negative(g, out=out)
        np.multiply(p, wd, out=out)
        return np.subtract(out, g, out=out) if maximize else np.add(out, g, out=out)


def _write_back(st: dict[str, Any], arrays: dict[str, Any]) -> None:
    """Mirror state arrays an update created or replaced into the Tensor-valued state dict."""
    for k, a in arrays.items():
        v = st.get(k)
        if v is None or (v._data if isinstance(v, Tensor) else v) is not a:
            st[k] = _make(a) if hasattr(a, "dtype") and hasattr(a, "shape") else a


def _add(registry: dict, hook: Callable, prepend: bool) -> RemovableHandle:
    handle = add_hook(registry, hook)
    if prepend:
        registry.move_to_end(handle.id, last=False)  # type: ignore[attr-defined]
    return handle


def _check_lr(lr: Any) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check(ok: bool, msg: str) -> None:
    if not ok:
        raise ValueError(msg)


def _check_betas(betas: Any) -> None:
    _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
    _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")


def _check_flags(differentiable: bool, fused: Any = None, foreach: Any = None) -> None:
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        # NOTE: ember's updates are in-place array math; a differentiable step would need them
        # recorded as graph ops. Not supported yet rather than silently non-differentiable.
        raise NotImplementedError("ember optimizers do not support differentiable=True")


def _scalar_state(value: float = 0.0) -> Array:
    """A 0-d float32 CPU array: torch 2.x keeps ``step`` (and similar counters) as float32."""
    return np.array(value, dtype=np.float32)


def _zeros(p: Array) -> Array:
    return xp_of(p).zeros_like(p)


def _lerp_(a: Array, b: Array, w: float, tmp: Array) -> None:
    """a = a + w (b - a) in place, with torch's two formulas (exact at w = 0 and w = 1)."""
    np.subtract(b, a, out=tmp)
    if abs(w) < 0.5:
        tmp *= w
        a += tmp
    else:
        tmp *= 1.0 - w
        np.subtract(b, tmp, out=a)


def _tensor_steps(opt: Optimizer) -> None:
    """Old checkpoints keep ``step`` as a Python number: torch 2.x makes it a float32 tensor."""
    for st in opt.state.values():
        if isinstance(st, dict) and "step" in st and not isinstance(st["step"], Tensor):
            st["step"] = _make(np.array(float(st["step"]), dtype=np.float32))
