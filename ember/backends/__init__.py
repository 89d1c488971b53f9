"""Devices and array modules: every op computes through the `xp` of its tensors' device.

CPU tensors hold NumPy arrays; CUDA tensors hold CuPy arrays. CuPy is imported lazily, only the
first time a CUDA device is used (``ember.backends.cuda``), so ``import ember`` never touches it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["device", "xp_of", "device_of", "cpu", "array_module"]


_TYPES = ("cpu", "cuda", "meta")


class device:
    """A device: ``ember.device('cpu')``, ``ember.device('cuda', 0)``, ``device('cuda:1')``."""

    __slots__ = ("index", "type")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):  # torch: device(0) is cuda:0
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(
                f"device() received an invalid combination of arguments - got "
                f"({type.__class__.__name__}), but expected one of: (device), (str type, int index)"
            )
        if not type:
            raise RuntimeError("Device string must not be empty")
        name, sep, idx = type.partition(":")
        if name not in _TYPES:
            raise RuntimeError(
                "Expected one of cpu, cuda, meta device type at start of device string: "
                f"{name if not sep or name else type}"
            )
        if sep:
            if not idx.isdigit() or (len(idx) > 1 and idx[0] == "0") or ":" in idx:
                raise RuntimeError(f"Invalid device string: '{type}'")
            if index is not None:
                raise RuntimeError(
                    "type (string) must not include an index because index was passed "
                    f"explicitly: {type}"
                )
            index = int(idx)
        if index is not None:
            index = int(index)
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self.type, self.index = name, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        # as torch: a device never equals a string (compare `d.type == "cpu"` or `str(d)`)
        if other.__class__ is not device:
            return NotImplemented
        return self.type == other.type and self.index == other.index

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


class _Flags:
    """Settings objects that torch scripts assign to (``torch.backends.cudnn.benchmark = True``)."""

    def __init__(self, **defaults: Any) -> None:
        self.__dict__.update(defaults)

    def is_available(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__dict__})"


# ember has no cuDNN/MPS kernels: the flags are accepted and recorded, and ember's CPU ops are
# deterministic whatever they say
cudnn = _Flags(enabled=True, benchmark=False, deterministic=False, allow_tf32=True)
mps = _Flags()
mkldnn = _Flags(enabled=True)
__all__ += ["cudnn", "mps"]


def __getattr__(name: str) -> Any:
    # ember.backends.cuda is imported on first use (CuPy stays unimported until then)
    if name == "cuda":
        import importlib

        return importlib.import_module("ember.backends.cuda")
    raise AttributeError(f"module 'ember.backends' has no attribute '{name}'")
