"""The backward namespace for non-NumPy arrays (CuPy): the array module plus ember's helpers."""

from __future__ import annotations

from typing import Any

_cache: dict[Any, Any] = {}
extra: dict[str, Any] = {}  # helpers registered by ops modules (engine.register_array_fn)


class _XPNamespace:
    def __init__(self, xp: Any) -> None:
        self.__dict__.update({k: v for k, v in vars(xp).items() if not k.startswith("_")})
        self._xp = xp
        self.__dict__.update(extra)

    @staticmethod
    def astype(x: Any, dt: Any) -> Any:
        return x.astype(dt, copy=False)

    def add_at(self, target: Any, index: Any, values: Any) -> Any:
        self._xp.add.at(target, index, values)
        return target


def namespace(arr: Any) -> Any:
    from ember.backends import xp_of

    xp = xp_of(arr)
    ns = _cache.get(xp)
    if ns is None:
        ns = _cache[xp] = _XPNamespace(xp)
    return ns
