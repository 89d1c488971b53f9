"""Qualified names of parameters (``model.fc.weight``) for error messages, filled by nn.Module."""

from __future__ import annotations

import weakref
from typing import Any

_names: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_labels: dict[int, str] = {}


def set_param_name(t: Any, name: str) -> None:
    """Remember a human-readable name for tensor `t` (only while `t` is alive)."""
    _names[id(t)] = t
    _labels[id(t)] = name


def param_name(t: Any) -> str | None:
    if _names.get(id(t)) is t:
        return _labels.get(id(t))
    return None
