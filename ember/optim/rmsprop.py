"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""

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
    _lerp_,
    _scalar_state,
    _tensor_steps,
    _zeros,
)  # fmt: skip

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (torch.optim.RMSprop).

    .. math::
        v \leftarrow \alpha v + (1-\alpha) g^2;\quad
        \bar g \leftarrow \alpha \bar g + (1-\alpha) g \ \text{(centered)};\quad
        d = \sqrt{v - \bar g^2} + \epsilon;\quad
        b \leftarrow \mu b + g / d;\quad p \leftarrow p - \gamma b
    (without momentum: :math:`p \leftarrow p - \gamma g / d`).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(alpha >= 0.0, f"Invalid alpha value: {alpha}")
        defaults = dict(
            lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
            weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
            differentiable=differentiable,
        )  # fmt: skip
        super().__init__(params, defaults)
        _check_flags(differentiable)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("momentum", 0), ("centered", False), ("foreach", None),
                         ("maximize", False), ("differentiable", False),
                         ("capturable", False)):  # fmt: skip
                group.setdefault(k, v)
        _tensor_steps(self)

    def _init_state(self, p: Array, group: dict) -> dict[str, Array]:
        s = {"step": _scalar_state(), "square_avg": _zeros(p)}
        if group["momentum"] > 0:
            s["momentum_buffer"] = _zeros(p)
        if group["centered"]:
            s["grad_avg"] = _zeros(p)
        return s

    def _update(self, p: Array, g: Array, state: dict[str, Array], group: dict) -> None:
        alpha, lr, momentum = _f(group["alpha"]), _f(group["lr"]), _f(group["momentum"])
        state["step"] += 1
        g = self._grad(p, g, group["maximize"], group["weight_decay"])
        sq, tmp = state["square_avg"], self._tmp(p, 1)
        sq *= alpha
        sq += np.multiply(np.multiply(g, 1 - alpha, out=tmp), g, out=tmp)
        if group["centered"]:
            ga = state["grad_avg"]
            _lerp_(ga, g, 1 - alpha, tmp)
            avg = np.sqrt(np.subtract(sq, np.multiply(ga, ga, out=tmp), out=tmp), out=tmp)
        else:
            avg = np.sqrt(sq, out=tmp)
        avg += _f(group["eps"])
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += np.divide(g, avg, out=avg)
            p += np.multiply(buf, -lr, out=tmp)
        else:
            upd = np.multiply(g, -lr, out=self._tmp(p, 0))
            upd /= avg
            p += upd
