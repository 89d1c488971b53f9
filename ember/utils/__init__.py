"""Utilities with torch.utils' names: ``ember.utils.data`` (loaded on first use)."""

from __future__ import annotations

import importlib
from typing import Any

_SUB = {"data", "safetensors", "checkpoint", "hooks"}


def __getattr__(name: str) -> Any:
    if name in _SUB:
        return importlib.import_module(f"ember.utils.{name}")
    raise AttributeError(f"module 'ember.utils' has no attribute '{name}'")
