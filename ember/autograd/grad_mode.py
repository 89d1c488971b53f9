"""Grad mode: whether ops record the graph. Context managers that also work as decorators."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled",
]  # fmt: skip


class _State:
    """Global switch read on every op. NOTE: process-global, not thread-local as in torch."""

    enabled = True
    inference = False


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _Mode:
    """Base of the grad-mode context managers; usable as `with` and as a decorator."""

    _target: bool = False

    def __enter__(self) -> None:
        self._prev = state.enabled
        state.enabled = self._target

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = type(self)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self) -> _Mode:
        return type(self)()


class no_grad(_Mode):  # noqa: N801 - torch's name
    """Disable graph recording: ops on tensors that require grad give results that do not."""

    _target = False


class enable_grad(_Mode):  # noqa: N801
    """Re-enable graph recording inside a ``no_grad`` block."""

    _target = True


class set_grad_enabled(_Mode):  # noqa: N801
    """Set grad mode on (True) or off (False); takes effect at construction, as in torch."""

    def __init__(self, mode: bool) -> None:
        self._prev = state.enabled
        self._target = bool(mode)
        state.enabled = self._target

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._prev

    def clone(self) -> _Mode:
        return set_grad_enabled(self._target)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        state.enabled = self._prev  # used as a decorator: construction must not leak the mode
        target = self._target

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(target):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(_Mode):  # noqa: N801
    """Like ``no_grad`` (tensors made inside never record history); ``mode=False`` is a no-op."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)
        self._target = not mode if mode else state.enabled

    def __enter__(self) -> None:
        self._prev, self._prev_inf = state.enabled, state.inference
        if self._mode:
            state.enabled, state.inference = False, True

    def __exit__(self, *exc: object) -> None:
        state.enabled, state.inference = self._prev, self._prev_inf

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper
