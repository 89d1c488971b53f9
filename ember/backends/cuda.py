"""CUDA backend through CuPy: the only module that imports cupy (lazily, on first use)."""

from __future__ import annotations

from typing import Any

_cupy: Any = None


class _MatmulFlags:
    """``torch.backends.cuda.matmul.allow_tf32 = ...``: recorded (CuPy decides its GEMM mode)."""

    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()
_error: str | None = None


def get_cupy() -> Any:
    """Import CuPy once; raise a RuntimeError that says how to fix a missing or broken install."""
    global _cupy, _error
    if _cupy is not None:
        return _cupy
    if _error is None:
        try:
            import cupy

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
            return cupy
        except Exception as e:  # ImportError, CUDA driver errors, ...
            _error = f"{type(e).__name__}: {e}"
    raise RuntimeError(
        "CUDA is not available in ember: CuPy could not be used "
        f"({_error}). Install the GPU extra that matches your CUDA driver, e.g. "
        "`pip install ember[cuda12]` (cupy-cuda12x), on a machine with an NVIDIA GPU."
    )


def is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        get_cupy()
        return True
    except RuntimeError:
        return False


def device_count() -> int:
    return get_cupy().cuda.runtime.getDeviceCount() if is_available() else 0


def xp_of(arr: Any) -> Any:
    cp = _cupy
    if cp is not None and isinstance(arr, cp.ndarray):
        return cp
    raise TypeError(f"ember: unsupported array type {type(arr).__name__}")


def device_of(arr: Any) -> Any:
    from ember.backends import device

    xp_of(arr)
    return device("cuda", arr.device.id)
