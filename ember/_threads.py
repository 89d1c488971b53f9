"""torch.set_num_threads / get_num_threads for NumPy's BLAS (OpenBLAS, found without extra deps)."""

from __future__ import annotations

import ctypes
import glob
import os
from typing import Any

__all__ = [
    "set_num_threads",
    "get_num_threads",
    "set_num_interop_threads",
    "get_num_interop_threads",
]

_lib: Any = None
_names: tuple[str, str] | None = None
_interop = [1]
_fallback = [0]  # the count asked for when no OpenBLAS was found


def _blas() -> tuple[Any, tuple[str, str]] | tuple[None, None]:
    """The OpenBLAS shared library NumPy loaded, and its (set, get) thread functions."""
    global _lib, _names
    if _lib is not None:
        return _lib, _names  # type: ignore[return-value]
    import numpy as np

    libs = glob.glob(
        os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")
    )
    candidates = [
        ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
        ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
        ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
        ("openblas_set_num_threads", "openblas_get_num_threads"),
    ]
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for s, g in candidates:
            if hasattr(lib, s) and hasattr(lib, g):
                _lib, _names = lib, (s, g)
                return lib, (s, g)
    return None, None


def set_num_threads(n: int) -> None:
    """Threads NumPy's BLAS uses for matrix products (ember's intra-op parallelism)."""
    if int(n) < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    lib, names = _blas()
    if lib is not None and names is not None:
        getattr(lib, names[0])(ctypes.c_int(int(n)))
    _fallback[0] = int(n)


def get_num_threads() -> int:
    lib, names = _blas()
    if lib is not None and names is not None:
        return int(getattr(lib, names[1])())
    return _fallback[0] or int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def set_num_interop_threads(n: int) -> None:
    _interop[0] = int(n)


def get_num_interop_threads() -> int:
    return _interop[0]
