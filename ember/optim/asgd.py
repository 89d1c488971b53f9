"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky, 1992)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import dtypes
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

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD (torch.optim.ASGD).

    .. math::
        p \leftarrow p (1 - \lambda\eta_t) - \eta_t g;\quad
        \bar p \leftarrow \bar p + \mu_t (p - \bar p);\quad
        \eta_{t+1} = \frac{\gamma}{(1 + \lambda\gamma t)^\alpha};\quad
        \mu_{t+1} = \frac{1}{\max(1, t - t_0)}
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
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
        return {
            "step": _scalar_state(), "eta": _scalar_state(_f(group["lr"])),
            "mu": _scalar_state(1.0), "ax": _zeros(p),
        }  # fmt: skip

    def _update(self, p: Array, g: Array, state: dict[str, Array], group: dict) -> None:
        lr, lambd, alpha = _f(group["lr"]), _f(group["lambd"]), _f(group["alpha"])
        state["step"] += 1
        g = self._grad(p, g, group["maximize"], group["weight_decay"])
        eta = float(state["eta"])  # torch reads eta and mu back from float32 tensors
        p *= 1 - lambd * eta
        p += np.multiply(g, -eta, out=self._tmp(p, 1))
        ax, mu = state["ax"], float(state["mu"])
        if mu != 1:
            ax += np.multiply(np.subtract(p, ax, out=self._tmp(p, 1)), mu, out=self._tmp(p, 1))
        else:
            ax[...] = p
        step = float(state["step"])
        # torch builds these with torch.as_tensor (default dtype), then copies into the state
        default = dtypes.get_default_dtype().np
        state["eta"][()] = np.asarray(lr / ((1 + lambd * lr * step) ** alpha), dtype=default)
        state["mu"][()] = np.asarray(1 / max(1, step - _f(group["t0"])), dtype=default)
