"""Error helpers for Module: notes naming the failing submodule (UP-03) and the check for plain
containers of modules/parameters (UP-05).
"""

from __future__ import annotations

from typing import Any

from ember.nn.parameter import Parameter
from ember.tensor import Tensor

__all__ = ["annotate", "container_error"]


def _module_cls() -> type:
    from ember.nn.modules.module import Module

    return Module


def _typename(obj: Any) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    t = type(obj)
    return (
        t.__qualname__
        if t.__module__ in ("builtins", "__builtin__")
        else (f"{t.__module__}.{t.__qualname__}")
    )


def container_error(name: str, value: Any) -> TypeError | None:
    """UP-05: modules/parameters inside a plain list/tuple/dict would silently not be registered."""
    items = value.values() if isinstance(value, dict) else value
    kinds = {type(v) for v in items if isinstance(v, _module_cls() | Parameter)}
    if not kinds:
        return None
    params = all(issubclass(k, Parameter) for k in kinds)
    kind = "Parameters" if params else "Modules"
    fix = (
        ("ParameterDict" if params else "ModuleDict")
        if isinstance(value, dict)
        else ("ParameterList" if params else "ModuleList")
    )
    return TypeError(
        f"cannot assign a plain {type(value).__name__} of {kind} to '{name}': its contents would "
        "not be registered, so they would be missing from parameters(), state_dict(), .to() and "
        f"train()/eval(). Use ember.nn.{fix}(...) instead (or object.__setattr__(self, "
        f"'{name}', ...) to keep an unregistered reference on purpose)."
    )


def _shapes(args: tuple) -> str:
    return ", ".join(
        str(tuple(a.shape)) if isinstance(a, Tensor) else type(a).__name__ for a in args
    )


def annotate(exc: BaseException, mod: Any, args: tuple) -> None:
    """UP-03: add (then refine, while unwinding) a note naming the failing submodule."""
    if not hasattr(exc, "add_note"):  # Python < 3.11
        return
    info = exc.__dict__.get("_ember_module_note")
    if info is None:
        try:
            desc, hint = f"{mod._get_name()}({mod.extra_repr()})", mod._error_hint(args)
        except Exception:  # a broken extra_repr must not mask the real error
            desc, hint = mod._get_name(), ""
        tail = f"input shape{'s' if len(args) > 1 else ''} {_shapes(args)}" + (
            f"; {hint}" if hint else ""
        )
        exc.add_note("")
        info = exc._ember_module_note = [len(exc.__notes__) - 1, "", mod, desc, tail]
    else:
        child = info[2]
        for name, m in mod.named_modules():
            if m is child and name:
                info[1] = name + ("." + info[1] if info[1] else "")
                break
        info[2] = mod
    path, desc, tail = info[1], info[3], info[4]
    where = f"`{path}` ({desc}) of {mod._get_name()}" if path else f"{desc}"
    exc.__notes__[info[0]] = f"in module {where}: {tail}"
