"""ember: a deep-learning framework with PyTorch's API on NumPy (CPU) and CuPy (GPU).

``import ember as torch`` runs ordinary PyTorch code: tensors with define-by-run autograd, nn,
optim, data loading, checkpoints in PyTorch's format, and distributed data-parallel training.
"""

from ember import autograd
from ember._tensor_str import set_printoptions
from ember.autograd.grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)  # fmt: skip
from ember.backends import device
from ember.dtypes import (
    bfloat16, bool, can_cast, double, dtype, finfo, float, float16, float32, float64,
    get_default_dtype, half, iinfo, int, int8, int16, int32, int64, long, promote_types,
    result_type, set_default_dtype, short, uint8,
)  # fmt: skip
from ember.ops import *  # noqa: F403
from ember.random import (
    Generator, default_generator, fork_rng, get_rng_state, initial_seed, manual_seed, seed,
    set_rng_state,
)  # fmt: skip
from ember.size import Size
from ember.tensor import Tensor

__version__ = "0.1.0"

# subpackages load on first use: `import ember` stays fast (no nn/optim/data import cost)
_LAZY = {
    "nn", "optim", "utils", "linalg", "distributed", "serialization", "datasets", "transforms",
    "testing", "special", "cuda", "backends_cuda", "fft", "amp", "hub", "onnx", "jit",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"ember.{name}")
    raise AttributeError(f"module 'ember' has no attribute '{name}'")

float_ = float
cfloat = None
is_tensor = lambda obj: isinstance(obj, Tensor)  # noqa: E731
