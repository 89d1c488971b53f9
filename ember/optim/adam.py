"""Adam (with optional AMSGrad, L2 or decoupled weight decay)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember.optim.optimizer import (
    Array,
    Optimizer,
    _check,
    _check_betas,
    _check_flags,
    _check_lr,
    _f,
    _lerp_,
    _scalar_state,
    _tensor_steps,
    _to_scalar,
    _zeros,
)  # fmt: skip
from ember.tensor import Tensor

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with torch.optim.Adam's defaults and options.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g;\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2;\quad
        p \leftarrow p - \gamma\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    ``weight_decay`` adds :math:`\lambda p` to :math:`g` (L2), or, with
    ``decoupled_weight_decay=True`` (AdamW), scales :math:`p` by :math:`1 - \gamma\lambda` first.
    ``amsgrad`` divides by the running maximum of :math:`v`.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        both_float = isinstance(betas[0], float) and isinstance(betas[1], float)
        both_tensor = isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)
        _check(both_float or both_tensor, "betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            _check(
                not isinstance(b, Tensor) or b.numel() == 1, f"Tensor betas[{i}] must be 1-element"
            )
        betas = (_to_scalar(betas[0]), _to_scalar(betas[1]))
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )  # fmt: skip
        super().__init__(params, defaults)
        _check_flags(differentiable, fused, foreach)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("amsgrad", False), ("maximize", False), ("foreach", None),
                         ("capturable", False), ("differentiable", False),
                         ("decoupled_weight_decay", False), ("fused", None)):  # fmt: skip
                group.setdefault(k, v)
        _tensor_steps(self)

    def _init_state(self, p: Array, group: dict) -> dict[str, Array]:
        s = {"step": _scalar_state(), "exp_avg": _zeros(p), "exp_avg_sq": _zeros(p)}
        if group["amsgrad"]:
            s["max_exp_avg_sq"] = _zeros(p)
        return s

    def _update(self, p: Array, g: Array, state: dict[str, Array], group: dict) -> None:
        lr, wd, eps = _f(group["lr"]), _f(group["weight_decay"]), _f(group["eps"])
        beta1, beta2 = _f(group["betas"][0]), _f(group["betas"][1])
        decoupled = group["decoupled_weight_decay"]
        state["step"] += 1
        step = float(state["step"])
        g = self._grad(p, g, group["maximize"], 0.0 if decoupled else wd)
        if decoupled and wd != 0:
            p *= 1 - lr * wd
        m, v, tmp = state["exp_avg"], state["exp_avg_sq"], self._tmp(p, 1)
        _lerp_(m, g, 1 - beta1, tmp)
        v *= beta2
        v += np.multiply(np.multiply(g, 1 - beta2, out=tmp), g, out=tmp)
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        # torch's order: denom = sqrt(v) / sqrt(1 - b2^t) + eps; p += (-lr / (1 - b1^t)) m / denom
        denom = np.sqrt(v, out=tmp)
        denom /= math.sqrt(1 - beta2**step)
        denom += eps
        upd = np.multiply(m, -lr / (1 - beta1**step), out=self._tmp(p, 0))
        upd /= denom
        p += upd
