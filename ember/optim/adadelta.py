"""Adadelta (Zeiler, 2012)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.optim.optimizer import (
    Array,
    Optimizer,
    _check,
    _check_flags,
    _check_lr,
    _f,
    _scalar_state,
    _tensor_steps,
    _zeros,
)  # fmt: skip

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (torch.optim.Adadelta).

    .. math::
        v \leftarrow \rho v + (1-\rho) g^2;\quad
        \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g;\quad
        u \leftarrow \rho u + (1-\rho) \Delta^2;\quad p \leftarrow p - \gamma \Delta
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
            capturable=capturable, foreach=foreach, differentiable=differentiable,
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
        return {"step": _scalar_state(), "square_avg": _zeros(p), "acc_delta": _zeros(p)}

    def _update(self, p: Array, g: Array, state: dict[str, Array], group: dict) -> None:
        rho, eps = _f(group["rho"]), _f(group["eps"])
        state["step"] += 1
        g = self._grad(p, g, group["maximize"], group["weight_decay"])
        sq, acc = state["square_avg"], state["acc_delta"]
        std, delta = self._tmp(p, 1), self._tmp(p, 2)
        sq *= rho
        sq += np.multiply(np.multiply(g, 1 - rho, out=std), g, out=std)
        np.sqrt(np.add(sq, eps, out=std), out=std)
        np.sqrt(np.add(acc, eps, out=delta), out=delta)
        delta /= std
        delta *= g
        acc *= rho
        acc += np.multiply(np.multiply(delta, 1 - rho, out=std), delta, out=std)
        p += np.multiply(delta, -_f(group["lr"]), out=delta)
