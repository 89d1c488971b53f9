"""``ember.cuda``: torch.cuda's everyday functions over CuPy (imported only when a GPU is used).

``ember.cuda.is_available()`` is False, quietly, on machines without CuPy or a GPU, so the usual
``device = "cuda" if torch.cuda.is_available() else "cpu"`` idiom works everywhere.
"""

from __future__ import annotations

from typing import Any

from ember.backends import cuda as _b

__all__ = [
    "is_available", "device_count", "current_device", "set_device", "synchronize",
    "manual_seed", "manual_seed_all", "empty_cache", "memory_allocated", "max_memory_allocated",
    "memory_reserved", "get_device_name", "get_device_properties", "device", "is_bf16_supported",
]  # fmt: skip


def is_available() -> bool:
    """True when CuPy imports and sees at least one NVIDIA GPU."""
    return _b.is_available()


def device_count() -> int:
    return _b.device_count()


def _cp() -> Any:
    return _b.get_cupy()


def current_device() -> int:
    return int(_cp().cuda.runtime.getDevice())


def set_device(device: Any) -> None:
    from ember.backends import device as _device

    idx = device if isinstance(device, int) else (_device(device).index or 0)
    _cp().cuda.runtime.setDevice(idx)


def synchronize(device: Any = None) -> None:
    """Wait for all queued GPU work (timing GPU code needs this)."""
    _cp().cuda.runtime.deviceSynchronize()


def manual_seed(seed: int) -> None:
    """ember draws GPU random numbers from the same generator as CPU ones: seeds it."""
    from ember.random import manual_seed as _seed

    _seed(seed)


manual_seed_all = manual_seed


def empty_cache() -> None:
    """Return cached blocks of CuPy's memory pool to the driver."""
    if is_available():
        _cp().get_default_memory_pool().free_all_blocks()


def memory_allocated(device: Any = None) -> int:
    return int(_cp().get_default_memory_pool().used_bytes()) if is_available() else 0


max_memory_allocated = memory_allocated


def memory_reserved(device: Any = None) -> int:
    return int(_cp().get_default_memory_pool().total_bytes()) if is_available() else 0


def get_device_properties(device: Any = None) -> Any:
    idx = 0 if device is None else (device if isinstance(device, int) else 0)
    return _cp().cuda.runtime.getDeviceProperties(idx)


def get_device_name(device: Any = None) -> str:
    name = get_device_properties(device)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def is_bf16_supported() -> bool:
    return is_available()


class device:
    """Context manager selecting the current GPU."""

    def __init__(self, device: Any) -> None:
        from ember.backends import device as _device

        self.idx = device if isinstance(device, int) else (_device(device).index or 0)

    def __enter__(self) -> None:
        self._prev = current_device()
        set_device(self.idx)

    def __exit__(self, *exc: object) -> None:
        set_device(self._prev)
