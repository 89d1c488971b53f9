"""Anomaly detection: NaN in a backward raises, naming the node and the forward line."""

from __future__ import annotations

from typing import Any

from ember.autograd import engine

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


def is_anomaly_enabled() -> bool:
    return engine._anomaly[0]


class detect_anomaly:  # noqa: N801 - torch's name
    """Context manager / decorator: check every backward output for NaN while active."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = engine._anomaly[0]
        engine._anomaly[0] = self.check_nan

    def __exit__(self, *exc: object) -> None:
        engine._anomaly[0] = self._prev

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return fn(*a, **k)

        return wrapper


class set_detect_anomaly:  # noqa: N801
    """Turn anomaly detection on or off (also usable as a context manager)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = engine._anomaly[0]
        engine._anomaly[0] = bool(mode) and check_nan

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        engine._anomaly[0] = self._prev
