"""Adamax: Adam with the infinity norm (Kingma & Ba, 2015, section 7.1)."""

from __future__ import annotations

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

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (torch.optim.Adamax).

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g;\quad u \leftarrow \max(\beta_2 u, |g| + \epsilon);
        \quad p \leftarrow p - \frac{\gamma}{1-\beta_1^t}\, m / u
    """

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize, differentiable=differentiable, capturable=capturable,
        )  # fmt: skip
        super().__init__(params, defaults)
        _check_flags(differentiable)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("capturable", False)):  # fmt: skip
                group.setdefault(k, v)
        _tensor_steps(self)

    def _init_state(self, p: Array, group: dict) -> dict[str, Array]:
        return {"step": _scalar_state(), "exp_avg": _zeros(p), "exp_inf": _zeros(p)}

    def _update(self, p: Array, g: Array, state: dict[str, Array], group: dict) -> None:
        beta1, beta2 = _f(group["betas"][0]), _f(group["betas"][1])
        state["step"] += 1
        step = float(state["step"])
        g = self._grad(p, g, group["maximize"], group["weight_decay"])
        m, u, tmp = state["exp_avg"], state["exp_inf"], self._tmp(p, 1)
        _lerp_(m, g, 1 - beta1, tmp)
        u *= beta2
        np.abs(g, out=tmp)
        tmp += _f(group["eps"])
        np.maximum(u, tmp, out=u)
        upd = np.multiply(m, -_f(group["lr"]) / (1 - beta1**step), out=tmp)
        upd /= u
        p += upd
