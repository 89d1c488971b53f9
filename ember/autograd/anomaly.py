"""Anomaly detection: a NaN produced by a backward raises, naming the node and the forward line.

ember records every node's forward file:line anyway (provenance), so anomaly mode costs only
the NaN scan of each backward output, and the forward location is in the exception itself
(torch prints the forward traceback as a separate warning).
"""

from __future__ import annotations

import functools
from typing import Any

from ember.autograd import engine

__all__ = [
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
]  # fmt: skip

_enabled = [False]  # anomaly mode on; engine._anomaly[0] says whether NaNs are checked


def is_anomaly_enabled() -> bool:
    return _enabled[0]


def is_anomaly_check_nan_enabled() -> bool:
    return engine._anomaly[0]


def _set(mode: bool, check_nan: bool) -> tuple[bool, bool]:
    prev = _enabled[0], engine._anomaly[0]
    _enabled[0] = bool(mode)
    engine._anomaly[0] = bool(mode) and bool(check_nan)
    return prev


class detect_anomaly:
    """Context manager / decorator: check every backward output for NaN while active."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(*self._prev)

    def __call__(self, fn: Any) -> Any:
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            with detect_anomaly(check_nan):
                return fn(*a, **k)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off; also a context manager restoring the previous state."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _set(*self._prev)
