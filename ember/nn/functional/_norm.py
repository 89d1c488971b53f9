"""Normalisation: one fused primitive, ``xhat = (x - mean) / sqrt(var + eps)`` over given axes,
and the layer/batch/group/instance/RMS norms composed from it.

The primitive's fast backward is the closed form
    dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
and under ``create_graph`` it re-traces the composite definition, so higher derivatives work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.autograd.grad_mode import state as gm
from ember.autograd.node import Node, record
from ember.backends import xp_of
from ember.ops._core import wrap
from ember.tensor import Tensor

__all__ = [
    "layer_norm", "batch_norm", "group_norm", "instance_norm", "rms_norm", "normalize_axes",
    "local_response_norm",
]  # fmt: skip


def _composite(x: Tensor, axes: tuple, eps: float) -> Tensor:
    mu = x.mean(axes, keepdim=True)
    xc = x - mu
    var = (xc * xc).mean(axes, keepdim=True)
    return xc / (var + eps).sqrt()


class NativeNormBackward0(Node):
    __slots__ = ()

    def name(self) -> str:
        return "NativeLayerNormBackward0"

    def backward(self, F: Any, g: Any, x: Any, y: Any) -> tuple:
        axes, eps, rstd = self.args
        if hasattr(g, "_data"):  # create_graph: differentiate the composite definition
            from ember.autograd import grad

            out = _composite(x, axes, eps)
            return grad(out, x, g, create_graph=True)
        gm_ = g.mean(axis=axes, keepdims=True)
        gy = (g * y).mean(axis=axes, keepdims=True)
        return (rstd * (g - gm_ - y * gy),)


def normalize_axes(x: Tensor, axes: tuple, eps: float) -> tuple[Tensor, Any, Any]:
    """(xhat, mean, biased var) over `axes`; xhat is differentiable w.r.t. x."""
    a = x._data
    xp = xp_of(a)
    mu = a.mean(axis=axes, keepdims=True)
    xc = a - mu
    var = (xc * xc).mean(axis=axes, keepdims=True)
    rstd = 1.0 / xp.sqrt(var + eps)
    y = xc * rstd
    r = wrap(y)
    if gm.enabled and x._rg:
        record(NativeNormBackward0, r, (x,), saved=(x, r), args=(axes, eps, rstd))
    return r, mu, var


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    if weight is not None:
        y = y * (weight.reshape(shape) if weight.shape != shape else weight)
    if bias is not None:
        y = y + (bias.reshape(shape) if bias.shape != shape else bias)
    return y


def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last len(normalized_shape) dims, then scale and shift."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[-len(ns) :]) != ns:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape [*, "
            f"{', '.join(map(str, ns))}], but got input of size{list(input.shape)}"
        )
    axes = tuple(range(input.ndim - len(ns), input.ndim))
    y, _, _ = normalize_axes(input, axes, eps)
    return _affine(y, weight, bias, ns)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over all dims but 1 (channels); updates running stats in training."""
    if input.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
    c = input.shape[1]
    shape = (1, c) + (1,) * (input.ndim - 2)
    axes = (0,) + tuple(range(2, input.ndim))
    if training:
        count = input.numel() // c
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {input.shape}"
            )
        y, mu, var = normalize_axes(input, axes, eps)
        if running_mean is not None and running_var is not None:
            m = (
                0.1 if momentum is None else momentum
            )  # momentum=None (cumulative) is set by the module
            rm, rv = running_mean._data, running_var._data
            unbiased = var.reshape(c) * (count / (count - 1))
            rm *= 1 - m
            rm += m * mu.reshape(c).astype(rm.dtype, copy=False)
            rv *= 1 - m
            rv += m * unbiased.astype(rv.dtype, copy=False)
            running_mean._vc[0] += 1
            running_var._vc[0] += 1
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        rm = running_mean.reshape(shape)
        rstd = (running_var.reshape(shape) + eps).rsqrt()
        y = (input - rm) * rstd
    return _affine(
        y, weight, bias, shape if weight is None or weight.ndim == 1 else tuple(weight.shape)
    )


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each (sample, channel) over its spatial dims."""
    c = input.shape[1]
    shape = (1, c) + (1,) * (input.ndim - 2)
    axes = tuple(range(2, input.ndim))
    if use_input_stats:
        y, mu, var = normalize_axes(input, axes, eps)
        if running_mean is not None and running_var is not None:
            n = int(np.prod(input.shape[2:]))
            rm, rv = running_mean._data, running_var._data
            rm *= 1 - momentum
            rm += momentum * mu.reshape(input.shape[0], c).mean(0)
            rv *= 1 - momentum
            rv += momentum * (var.reshape(input.shape[0], c) * n / max(n - 1, 1)).mean(0)
    else:
        y = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
    return _affine(y, weight, bias, shape)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over groups of channels (and all spatial dims), then per-channel affine."""
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of shape {list(input.shape)} and num_groups={num_groups}"
        )
    x = input.reshape(n, num_groups, -1)
    y, _, _ = normalize_axes(x, (2,), eps)
    y = y.reshape(input.shape)
    return _affine(y, weight, bias, (1, c) + (1,) * (input.ndim - 2))


def rms_norm(
    input: Tensor, normalized_shape: Any, weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the last dims (eps defaults to finfo.eps)."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    axes = tuple(range(input.ndim - len(ns), input.ndim))
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    y = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Normalise each channel by its neighbours' squared activity (AlexNet's LRN)."""
    from ember.nn.functional._pool import avg_pool2d

    n, c = input.shape[0], input.shape[1]
    sq = (input * input).reshape(n, 1, c, -1)
    from ember.ops import constant_pad

    sq = constant_pad(sq, [0, 0, size // 2, (size - 1) // 2], 0.0)
    div = avg_pool2d(sq, (size, 1), stride=1).reshape(input.shape)
    return input / (div * alpha + k).pow(beta)
