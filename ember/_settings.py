"""Process-wide switches torch scripts set: compile, matmul precision, deterministic algorithms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "compile", "set_float32_matmul_precision", "get_float32_matmul_precision",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
]  # fmt: skip

_state = {"matmul_precision": "highest", "deterministic": False}


def compile(model: Callable | None = None, **kwargs: Any) -> Any:
    """torch.compile: ember has no graph compiler, so the model (or function) runs as written.

    Results are exactly those of the uncompiled model, as torch.compile promises; usable as
    ``model = ember.compile(model)`` and as a decorator (with or without arguments).
    """
    if model is None:
        return lambda m: m
    return model


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision: {precision}")
    _state["matmul_precision"] = precision  # NumPy's float32 GEMM is always full precision


def get_float32_matmul_precision() -> str:
    return str(_state["matmul_precision"])


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded; ember's CPU ops are deterministic (no atomics, fixed reduction orders)."""
    _state["deterministic"] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return bool(_state["deterministic"])
