"""Grad mode: whether ops record the graph. Context managers that also work as decorators.

As in torch the mode is per thread (a thread starts with grad enabled), the context managers
nest and restore the previous mode on exit (also on exceptions), and decorating a generator
function applies the mode only while the generator runs.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "entered_at",
]  # fmt: skip


class _State(threading.local):
    """Read on every op (``gm.enabled``); class attributes are each new thread's defaults."""

    enabled = True
    inference = False
    since: Any = None  # (file, line) where the grad-disabled mode now in effect began
    last_off: Any = None  # (file, line) where grad was most recently disabled (kept on exit)


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


def entered_at() -> Any:
    """Where the ``no_grad()``/``inference_mode()`` now in effect was entered (or None)."""
    return state.since if not state.enabled else None


def last_disabled_at() -> Any:
    """Where grad mode was most recently turned off in this thread (or None)."""
    return state.last_off


def _where() -> Any:
    from ember.autograd.node import site

    state.last_off = where = site(3)
    return where


def _wrap(fn: Callable[..., Any], make: Callable[[], Any]) -> Callable[..., Any]:
    """Decorate `fn` so that it runs inside a fresh context manager from `make()`."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            # the mode applies while the generator body runs, not between its yields
            with make():
                gen = fn(*args, **kwargs)
            try:
                with make():
                    value = next(gen)
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        with make():
                            gen.close()
                        raise
                    except BaseException as exc:  # thrown into the generator
                        with make():
                            value = gen.throw(exc)
                    else:
                        with make():
                            value = gen.send(sent)
            except StopIteration as stop:
                return stop.value

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with make():
            return fn(*args, **kwargs)

    return wrapper


class _Mode:
    """Base of the grad-mode context managers; usable as `with`, `@mode()` and `@mode`."""

    _target: bool = False

    def __new__(cls, orig_func: Any = None) -> Any:
        if orig_func is not None and callable(orig_func):  # bare `@no_grad` on a function
            return _wrap(orig_func, cls)
        return super().__new__(cls)

    def __init__(self, orig_func: Any = None) -> None:
        pass

    def __enter__(self) -> None:
        self._prev = state.enabled, state.since
        if not self._target and state.enabled:
            state.since = _where()
        state.enabled = self._target

    def __exit__(self, *exc: object) -> None:
        state.enabled, state.since = self._prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return _wrap(fn, self.clone)

    def clone(self) -> _Mode:
        return type(self)()


class no_grad(_Mode):
    """Disable graph recording: ops on tensors that require grad give results that do not."""

    _target = False


class enable_grad(_Mode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _target = True


class set_grad_enabled(_Mode):
    """Set grad mode on (True) or off (False); takes effect at construction, as in torch."""

    def __new__(cls, mode: bool) -> set_grad_enabled:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        self._prev = state.enabled, state.since
        self._target = bool(mode)
        if not mode and state.enabled:
            state.since = _where()
        state.enabled = self._target

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        state.enabled, state.since = self._prev

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self._target)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        state.enabled, state.since = self._prev  # as a decorator, construction must not leak
        return _wrap(fn, self.clone)


class inference_mode(_Mode):
    """Like ``no_grad`` (tensors made inside never record history); ``mode=False`` is a no-op."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode) and not isinstance(mode, bool):  # bare `@inference_mode`
            return _wrap(mode, cls)
        return object.__new__(cls)

    def __init__(self, mode: Any = True) -> None:
        self._mode = bool(mode)

    def __enter__(self) -> None:
        self._prev = state.enabled, state.inference, state.since
        if self._mode:
            if state.enabled:
                state.since = _where()
            state.enabled, state.inference = False, True

    def __exit__(self, *exc: object) -> None:
        state.enabled, state.inference, state.since = self._prev

    def clone(self) -> inference_mode:
        return inference_mode(self._mode)
