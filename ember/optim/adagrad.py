"""Adagrad (Duchi, Hazan & Singer, 2011)."""

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
)  # fmt: skip
from ember.tensor import _make

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (torch.optim.Adagrad).

    .. math::
        \tilde\gamma = \frac{\gamma}{1 + (t-1)\eta};\quad s \leftarrow s + g^2;\quad
        p \leftarrow p - \tilde\gamma\, g / (\sqrt{s} + \epsilon)

    As torch, the state (``sum`` filled with ``initial_accumulator_value``) exists from the
    constructor on, for every parameter.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_lr(lr)
        _check(lr_decay >= 0.0, f"Invalid lr_decay value: {lr_decay}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(
            initial_accumulator_value >= 0.0,
            f"Invalid initial_accumulator_value value: {initial_accumulator_value}",
        )
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        defaults = dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, foreach=foreach,
            maximize=maximize, differentiable=differentiable, fused=fused,
        )  # fmt: skip
        super().__init__(params, defaults)
        _check_flags(differentiable, fused, foreach)
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                for k, a in self._init_state(p._data, group).items():
                    st[k] = _make(a)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("fused", None)):  # fmt: skip
                group.setdefault(k, v)
        _tensor_steps(self)

    def _init_state(self, p: Array, group: dict) -> dict[str, Array]:
        # torch: the initial accumulator comes from the defaults, not from the param group
        init = self.defaults["initial_accumulator_value"]
        return {"step": _scalar_state(), "sum": xp_of(p).full_like(p, init)}

    def _update(self, p: Array, g: Array, state: dict[str, Array], group: dict) -> None:
        state["step"] += 1
        step = float(state["step"])
        g = self._grad(p, g, group["maximize"], group["weight_decay"])
        clr = _f(group["lr"]) / (1 + (step - 1) * _f(group["lr_decay"]))
        s, tmp = state["sum"], self._tmp(p, 1)
        s += np.multiply(g, g, out=tmp)
        std = np.sqrt(s, out=tmp)
        std += _f(group["eps"])
        upd = np.multiply(g, -clr, out=self._tmp(p, 0))
        upd /= std
        p += upd
