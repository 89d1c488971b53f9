"""Gradient clipping: ``clip_grad_norm_`` (returns the total norm) and ``clip_grad_value_``."""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ember.autograd.grad_mode import no_grad
from ember.ops._core import wrap
from ember.tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]  # fmt: skip


def _as_list(parameters: Any) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _norm(a: Any, p: float) -> Any:
    """||a||_p over all elements, accumulated in float64 for stability (one pass per tensor)."""
    a = np.asarray(a, np.float64) if a.__class__ is np.ndarray else a.astype(np.float64)
    if p == np.inf:
        return abs(a).max() if a.size else 0.0
    if p == -np.inf:
        return abs(a).min() if a.size else np.inf
    if p == 0:
        return (a != 0).sum()
    if p == 2:
        return np.sqrt((a * a).sum())
    if p == 1:
        return abs(a).sum()
    return (abs(a) ** p).sum() ** (1.0 / p)


def get_total_norm(tensors: Any, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:  # fmt: skip
    """The p-norm of the norms of `tensors` (= the norm of their concatenation)."""
    ts = _as_list(tensors)
    norm_type = float(norm_type)
    if not ts:
        from ember.ops.creation import tensor

        return tensor(0.0)
    norms = [float(_norm(t._data, norm_type)) for t in ts]
    total = float(_norm(np.asarray(norms), norm_type))
    dt = ts[0]._data.dtype
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    r = wrap(np.asarray(total, dt))
    return r if ts[0].is_cpu else r.to(ts[0].device)


def clip_grads_with_norm_(parameters: Any, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:  # fmt: skip
    """Scale every grad by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    coef = min(float(max_norm) / (float(total_norm.item()) + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g.mul_(coef)


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:  # fmt: skip
    """Rescale grads so that their joint `norm_type`-norm is at most max_norm; return the norm."""
    is_gen = isinstance(parameters, types.GeneratorType)
    params = _as_list(parameters)
    if is_gen and not params:
        warnings.warn(
            "`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2
        )
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters: Any, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:  # fmt: skip
    """Deprecated alias of clip_grad_norm_."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float,
                     foreach: bool | None = None) -> None:  # fmt: skip
    """Clamp every grad to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
