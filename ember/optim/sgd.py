"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.optim.optimizer import Array, Optimizer, _check, _check_flags, _check_lr, _f

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (torch.optim.SGD), optionally with (Nesterov) momentum.

    .. math::
        g \leftarrow \pm g + \lambda p;\quad
        b \leftarrow \mu b + (1 - \tau) g \ (b_1 = g);\quad
        p \leftarrow p - \gamma\,(g + \mu b \text{ if nesterov else } b)

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.8000, 1.6000], requires_grad=True)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_lr(lr)
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
            fused=fused,
        )  # fmt: skip
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_flags(differentiable, fused, foreach)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("nesterov", False), ("maximize", False), ("foreach", None),
                         ("differentiable", False), ("fused", False)):  # fmt: skip
                group.setdefault(k, v)

    def _update(self, p: Array, g: Array, state: dict[str, Array], group: dict) -> None:
        g = self._grad(p, g, group["maximize"], group["weight_decay"])
        momentum = _f(group["momentum"])
        tmp = self._tmp(p, 1)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                dampening = _f(group["dampening"])
                if dampening != 0:
                    buf += np.multiply(g, 1.0 - dampening, out=tmp)
                else:
                    buf += g
            if group["nesterov"]:
                g = np.add(g, np.multiply(buf, momentum, out=tmp), out=tmp)
            else:
                g = buf
        p += np.multiply(g, -_f(group["lr"]), out=tmp)
