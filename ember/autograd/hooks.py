"""Hook registries shared by tensors, nodes and modules: a dict plus a removable handle."""

from __future__ import annotations

import itertools
import weakref
from typing import Any

__all__ = ["RemovableHandle", "add_hook"]

_ids = itertools.count()


class RemovableHandle:
    """Returned by every ``register_*hook``; ``remove()`` unregisters (also a context manager)."""

    def __init__(self, registry: dict, key: int) -> None:
        self._registry = weakref.ref(registry) if _weakrefable(registry) else (lambda: registry)
        self.id = key

    def remove(self) -> None:
        reg = self._registry()
        if reg is not None:
            reg.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _weakrefable(obj: Any) -> bool:
    try:
        weakref.ref(obj)
        return True
    except TypeError:
        return False


def add_hook(registry: dict, fn: Any) -> RemovableHandle:
    key = next(_ids)
    registry[key] = fn
    return RemovableHandle(registry, key)
