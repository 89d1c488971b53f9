"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""

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

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (torch.optim.NAdam), with the momentum-decay schedule of Dozat's paper.

    .. math::
        \mu_t = \beta_1 (1 - \tfrac12\, 0.96^{t \psi});\quad
        m \leftarrow \beta_1 m + (1-\beta_1) g;\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2;\\
        p \leftarrow p - \gamma \Big(\frac{(1-\mu_t)\, g}{1 - \prod_{i \le t} \mu_i}
            + \frac{\mu_{t+1}\, m}{1 - \prod_{i \le t+1} \mu_i}\Big)
            \Big/ \Big(\sqrt{v / (1-\beta_2^t)} + \epsilon\Big)

    ``decoupled_weight_decay=True`` gives NAdamW (decay applied to :math:`p`, not :math:`g`).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
        _check(momentum_decay >= 0.0, f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable,
        )  # fmt: skip
        super().__init__(params, defaults)
        _check_flags(differentiable)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("maximize", False), ("foreach", None), ("capturable", False),
                         ("differentiable", False), ("decoupled_weight_decay", False)):  # fmt: skip
                group.setdefault(k, v)
        _tensor_steps(self)

    def _init_state(self, p: Array, group: dict) -> dict[str, Array]:
        return {
            "step": _scalar_state(), "mu_product": _scalar_state(1.0), "exp_avg": _zeros(p),
            "exp_avg_sq": _zeros(p),
        }  # fmt: skip

    def _update(self, p: Array, g: Array, state: dict[str, Array], group: dict) -> None:
        lr, wd, eps = _f(group["lr"]), _f(group["weight_decay"]), _f(group["eps"])
        beta1, beta2 = _f(group["betas"][0]), _f(group["betas"][1])
        psi = _f(group["momentum_decay"])
        decoupled = group["decoupled_weight_decay"]
        state["step"] += 1
        step = float(state["step"])
        g = self._grad(p, g, group["maximize"], 0.0 if decoupled else wd)
        if decoupled and wd != 0:
            p *= 1 - lr * wd
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
        state["mu_product"] *= mu  # a float32 running product, rounded each step as torch's
        mu_product = float(state["mu_product"])
        m, v, tmp = state["exp_avg"], state["exp_avg_sq"], self._tmp(p, 1)
        _lerp_(m, g, 1 - beta1, tmp)
        v *= beta2
        v += np.multiply(np.multiply(g, 1 - beta2, out=tmp), g, out=tmp)
        denom = np.sqrt(np.divide(v, 1 - beta2**step, out=tmp), out=tmp)
        denom += eps
        upd = self._tmp(p, 0)  # g (possibly this very buffer) is consumed by the first product
        p += np.divide(
            np.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=upd), denom, out=upd
        )
        c = -lr * mu_next / (1.0 - mu_product * mu_next)
        p += np.divide(np.multiply(m, c, out=upd), denom, out=upd)
