"""Devices and array modules: every op computes through the `xp` of its tensors' device.

CPU tensors hold NumPy arrays; CUDA tensors hold CuPy arrays. CuPy is imported lazily, only the
first time a CUDA device is used (``ember.backends.cuda``), so ``import ember`` never touches it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["device", "xp_of", "device_of", "cpu", "array_module"]


class device:  # noqa: N801 - torch's name
    """A device: ``ember.device('cpu')``, ``ember.device('cuda', 0)``, ``ember.device('cuda:1')``."""

    __slots__ = ("index", "type")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):  # torch: device(0) is cuda:0
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string or int, got {type!r}")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            type, idx = type.split(":", 1)
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda", "meta"):
            raise RuntimeError(
                f"Expected one of cpu, cuda, meta device type at start of device string: {type}"
            )
        self.type, self.index = type, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return (
            isinstance(other, device) and self.type == other.type and self.index == other.index
        )

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> Any:
        return (device, (self.type, self.index))


cpu = device("cpu")
_ndarray = np.ndarray


def xp_of(arr: Any) -> Any:
    """The array module (numpy or cupy) that owns `arr`."""
    if arr.__class__ is _ndarray:
        return np
    from ember.backends import cuda

    return cuda.xp_of(arr)


def device_of(arr: Any) -> device:
    """The ember device of an array."""
    if arr.__class__ is _ndarray:
        return cpu
    from ember.backends import cuda

    return cuda.device_of(arr)


def array_module(dev: device) -> Any:
    """The array module of a device (imports CuPy on first CUDA use)."""
    if dev.type == "cpu":
        return np
    from ember.backends import cuda

    return cuda.get_cupy()
