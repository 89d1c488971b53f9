"""Rprop: resilient backpropagation (Riedmiller & Braun, 1993)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.backends import xp_of
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

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Rprop (torch.optim.Rprop): per-element step sizes driven by the gradient's sign.

    .. math::
        s \leftarrow \mathrm{clip}(s \cdot \eta_{\pm}, s_{min}, s_{max})
        \text{ by the sign of } g\, g_{prev};\quad
        g \leftarrow 0 \text{ where the sign flipped};\quad p \leftarrow p - s\,\mathrm{sign}(g)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(0.0 < etas[0] < 1.0 < etas[1], f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(
            lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
            differentiable=differentiable, capturable=capturable,
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
            "step": _scalar_state(), "prev": _zeros(p),
            "step_size": xp_of(p).full_like(p, _f(group["lr"])),
        }  # fmt: skip

    def _update(self, p: Array, g: Array, state: dict[str, Array], group: dict) -> None:
        etaminus, etaplus = _f(group["etas"][0]), _f(group["etas"][1])
        smin, smax = _f(group["step_sizes"][0]), _f(group["step_sizes"][1])
        state["step"] += 1
        g = self._grad(p, g, group["maximize"], 0.0)
        prev, size = state["prev"], state["step_size"]
        sign = np.sign(np.multiply(g, prev, out=self._tmp(p, 1)), out=self._tmp(p, 1))
        # torch assigns in this order (NaN signs stay NaN)
        np.copyto(sign, etaplus, where=sign > 0)
        np.copyto(sign, etaminus, where=sign < 0)
        np.copyto(sign, 1.0, where=sign == 0)
        size *= sign
        np.clip(size, smin, smax, out=size)
        prev[...] = g
        np.copyto(prev, 0.0, where=sign == etaminus)  # no step where the gradient changed sign
        p -= np.multiply(np.sign(prev, out=sign), size, out=sign)
