"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2020)."""

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
    _zeros,
)  # fmt: skip

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (torch.optim.RAdam).

    .. math::
        \rho_\infty = \tfrac{2}{1-\beta_2} - 1;\quad
        \rho_t = \rho_\infty - \tfrac{2 t \beta_2^t}{1-\beta_2^t};\quad
        \hat m = m / (1-\beta_1^t);\\
        p \leftarrow p - \gamma \hat m \, r_t \frac{\sqrt{1-\beta_2^t}}{\sqrt{v} + \epsilon}
        \text{ if } \rho_t > 5,\ \text{else } p - \gamma \hat m;\quad
        r_t = \sqrt{\tfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
            foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable,
        )  # fmt: skip
        super().__init__(params, defaults)
        _check_flags(differentiable)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("decoupled_weight_decay", False), ("capturable", False)):  # fmt: skip
                group.setdefault(k, v)
        _tensor_steps(self)

    def _init_state(self, p: Array, group: dict) -> dict[str, Array]:
        return {"step": _scalar_state(), "exp_avg": _zeros(p), "exp_avg_sq": _zeros(p)}

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
        bc1, bc2 = 1 - beta1**step, 1 - beta2**step
        upd = np.divide(m, bc1, out=self._tmp(p, 0))
        upd *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bc2
        if rho_t > 5.0:  # the variance is tractable: rectified adaptive step
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            adaptive = np.sqrt(v, out=tmp)
            adaptive += eps
            upd *= np.divide(bc2**0.5, adaptive, out=adaptive)
            upd *= rect
        p -= upd
