"""ember: a deep-learning framework with PyTorch's API on NumPy (CPU) and CuPy (GPU).

``import ember as torch`` runs ordinary PyTorch code: tensors with define-by-run autograd, nn,
optim, data loading, checkpoints in PyTorch's format, and distributed data-parallel training.
"""
# ruff: noqa: F401, F403  (this module re-exports the public API)

from __future__ import annotations

from typing import Any as _Any

from ember import autograd, random
from ember._tensor_str import get_printoptions, printoptions, set_printoptions
from ember.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)  # fmt: skip
from ember.backends import device
from ember.dtypes import (
    bfloat16,
    bool,
    can_cast,
    double,
    dtype,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)  # fmt: skip
from ember.ops import *
from ember.random import (
    Generator,
    default_generator,
    fork_rng,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)  # fmt: skip
from ember.size import Size
from ember.tensor import (
    LEGACY_TYPES as _LEGACY_TYPES,
)  # fmt: skip
from ember.tensor import (
    Tensor,
    channels_last,
    channels_last_3d,
    contiguous_format,
    layout,
    memory_format,
    preserve_format,
    strided,
)

__version__ = "0.1.0"

# torch computes inf/nan silently (1/0, log(0), overflow); NumPy would warn on every such element
# op, and test suites running with -W error would fail where torch passes. ember therefore turns
# those NumPy warnings off when it is imported (call np.seterr(...) to restore them).
import numpy as _np

_np.seterr(divide="ignore", over="ignore", invalid="ignore")
from ember._settings import (  # noqa: E402
    are_deterministic_algorithms_enabled,
    compile,
    get_float32_matmul_precision,
    set_float32_matmul_precision,
    use_deterministic_algorithms,
)
from ember._threads import (  # noqa: E402
    get_num_interop_threads,
    get_num_threads,
    set_num_interop_threads,
    set_num_threads,
)
from ember.autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled  # noqa: E402

globals().update(_LEGACY_TYPES)  # FloatTensor, LongTensor, ... (legacy constructors/type checks)

# subpackages load on first use: `import ember` stays fast (no nn/optim/data import cost)
_LAZY = {
    "nn",
    "optim",
    "utils",
    "linalg",
    "distributed",
    "serialization",
    "datasets",
    "transforms",
    "testing",
    "special",
    "cuda",
    "backends_cuda",
    "fft",
    "amp",
    "hub",
    "onnx",
    "jit",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"ember.{name}")
    if name in ("save", "load"):  # ember.save / ember.load live in ember.serialization
        from ember import serialization

        return getattr(serialization, name)
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


float_ = float


def _need_tensor(fn: str, obj: _Any) -> None:
    if not isinstance(obj, Tensor):
        raise TypeError(
            f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(obj).__name__}"
        )


def is_tensor(obj: _Any) -> bool:
    """True if `obj` is an ember Tensor (or a subclass, such as a Parameter)."""
    return isinstance(obj, Tensor)


def is_storage(obj: _Any) -> bool:
    """ember has no separate storage objects: always False for tensors."""
    return False


def numel(input: Tensor) -> int:
    """The number of elements of `input`."""
    _need_tensor("numel", input)
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    """True if `input` has a floating dtype."""
    _need_tensor("is_floating_point", input)
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    """ember has no complex dtypes: always False."""
    _need_tensor("is_complex", input)
    return False


def is_nonzero(input: Tensor) -> bool:
    """``bool(input)`` for a single-element tensor (torch's errors otherwise)."""
    _need_tensor("is_nonzero", input)
    return input.__bool__()
