"""Optimizer updates written from their papers, in float64 NumPy: the oracle that needs no torch.

Each reference is ``step(p, g, s, t, **hp) -> p_new``: ``p`` and ``g`` are float64 arrays, ``s`` a
dict the function fills on first use (``t == 1``), ``t`` the 1-based step. The formulas follow the
papers in their textbook form (bias-corrected moments, etc.) with torch's documented conventions
(``maximize`` negates g, ``weight_decay`` adds ``wd * p`` to g, decoupled decay scales ``p``), not
torch's rearranged arithmetic, so agreement to ~1e-10 checks the math rather than the op order.
"""

from __future__ import annotations

import numpy as np


def _g(p, g, maximize=False, weight_decay=0.0):
    g = -g if maximize else g
    return g + weight_decay * p


def sgd(
    p,
    g,
    s,
    t,
    lr=1e-3,
    momentum=0.0,
    dampening=0.0,
    weight_decay=0.0,
    nesterov=False,
    maximize=False,
):
    """Sutskever et al. (2013) momentum, as torch: b_1 = g, b_t = mu b + (1 - tau) g."""
    g = _g(p, g, maximize, weight_decay)
    if momentum:
        s["b"] = g.copy() if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def adam(
    p,
    g,
    s,
    t,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled_weight_decay=False,
):
    """Kingma & Ba (2015), Algorithm 1; AMSGrad (Reddi et al., 2018); AdamW (Loshchilov, 2019)."""
    b1, b2 = betas
    if decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
        g = _g(p, g, maximize)
    else:
        g = _g(p, g, maximize, weight_decay)
    if t == 1:
        s.update(m=np.zeros_like(p), v=np.zeros_like(p), vmax=np.zeros_like(p))
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g * g
    m_hat = s["m"] / (1 - b1**t)
    if amsgrad:
        s["vmax"] = np.maximum(s["vmax"], s["v"])
        v_hat = s["vmax"] / (1 - b2**t)
    else:
        v_hat = s["v"] / (1 - b2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def adamw(p, g, s, t, weight_decay=1e-2, **hp):
    return adam(p, g, s, t, weight_decay=weight_decay, decoupled_weight_decay=True, **hp)


def rmsprop(
    p,
    g,
    s,
    t,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
):
    """Tieleman & Hinton (2012), lecture 6e; centered form of Graves (2013)."""
    g = _g(p, g, maximize, weight_decay)
    if t == 1:
        s.update(v=np.zeros_like(p), gbar=np.zeros_like(p), b=np.zeros_like(p))
    s["v"] = alpha * s["v"] + (1 - alpha) * g * g
    v = s["v"]
    if centered:
        s["gbar"] = alpha * s["gbar"] + (1 - alpha) * g
        v = v - s["gbar"] ** 2
    step = g / (np.sqrt(v) + eps)
    if momentum > 0:
        s["b"] = momentum * s["b"] + step
        step = s["b"]
    return p - lr * step


def adagrad(
    p,
    g,
    s,
    t,
    lr=1e-2,
    lr_decay=0.0,
    weight_decay=0.0,
    initial_accumulator_value=0.0,
    eps=1e-10,
    maximize=False,
):
    """Duchi, Hazan & Singer (2011), diagonal form, with torch's lr decay lr / (1 + (t-1) d)."""
    g = _g(p, g, maximize, weight_decay)
    if t == 1:
        s["G"] = np.full_like(p, initial_accumulator_value)
    s["G"] = s["G"] + g * g
    return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["G"]) + eps)


def adadelta(p, g, s, t, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    """Zeiler (2012), Algorithm 1 (torch adds the lr factor)."""
    g = _g(p, g, maximize, weight_decay)
    if t == 1:
        s.update(Eg2=np.zeros_like(p), Edx2=np.zeros_like(p))
    s["Eg2"] = rho * s["Eg2"] + (1 - rho) * g * g
    dx = -np.sqrt(s["Edx2"] + eps) / np.sqrt(s["Eg2"] + eps) * g
    s["Edx2"] = rho * s["Edx2"] + (1 - rho) * dx * dx
    return p + lr * dx


def adamax(p, g, s, t, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    """Kingma & Ba (2015), Algorithm 2 (torch puts eps inside the max)."""
    b1, b2 = betas
    g = _g(p, g, maximize, weight_decay)
    if t == 1:
        s.update(m=np.zeros_like(p), u=np.zeros_like(p))
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["u"] = np.maximum(b2 * s["u"], np.abs(g) + eps)
    return p - lr / (1 - b1**t) * s["m"] / s["u"]


def nadam(
    p,
    g,
    s,
    t,
    lr=2e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    momentum_decay=4e-3,
    decoupled_weight_decay=False,
    maximize=False,
):
    """Dozat (2016) with the momentum schedule mu_t = b1 (1 - 0.5 * 0.96^(t psi)).

    torch keeps the running product of mu_t as a float32 scalar; the reference rounds it alike.
    """
    b1, b2 = betas
    if decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
        g = _g(p, g, maximize)
    else:
        g = _g(p, g, maximize, weight_decay)
    if t == 1:
        s.update(m=np.zeros_like(p), v=np.zeros_like(p), mu_prod=1.0)

    def mu(k):
        return b1 * (1 - 0.5 * 0.96 ** (k * momentum_decay))

    s["mu_prod"] = float(np.float32(s["mu_prod"]) * np.float32(mu(t)))
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g * g
    v_hat = s["v"] / (1 - b2**t)
    m_bar = mu(t + 1) * s["m"] / (1 - s["mu_prod"] * mu(t + 1)) + (1 - mu(t)) * g / (
        1 - s["mu_prod"]
    )
    return p - lr * m_bar / (np.sqrt(v_hat) + eps)


def radam(
    p,
    g,
    s,
    t,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    decoupled_weight_decay=False,
    maximize=False,
):
    """Liu et al. (2020), Algorithm 2."""
    b1, b2 = betas
    if decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
        g = _g(p, g, maximize)
    else:
        g = _g(p, g, maximize, weight_decay)
    if t == 1:
        s.update(m=np.zeros_like(p), v=np.zeros_like(p))
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g * g
    m_hat = s["m"] / (1 - b1**t)
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    if rho <= 5:
        return p - lr * m_hat
    ell = np.sqrt(1 - b2**t) / (np.sqrt(s["v"]) + eps)
    r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    return p - lr * m_hat * r * ell


def asgd(p, g, s, t, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False):
    """Polyak & Juditsky (1992) averaging with Bottou's (2012) eta_t schedule, as torch.

    torch keeps eta and mu as float32 scalars; the reference rounds them the same way.
    """
    g = _g(p, g, maximize, weight_decay)
    if t == 1:
        s.update(eta=float(np.float32(lr)), mu=1.0, ax=np.zeros_like(p))
    p = p * (1 - lambd * s["eta"]) - s["eta"] * g
    s["ax"] = p.copy() if s["mu"] == 1 else s["ax"] + s["mu"] * (p - s["ax"])
    s["eta"] = float(np.float32(lr / (1 + lambd * lr * t) ** alpha))
    s["mu"] = float(np.float32(1 / max(1, t - t0)))
    return p


def rprop(p, g, s, t, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    """Riedmiller & Braun (1993), the iRprop- variant (no step after a sign change)."""
    g = -g if maximize else g
    if t == 1:
        s.update(prev=np.zeros_like(p), delta=np.full_like(p, lr))
    prod = g * s["prev"]
    factor = np.where(prod > 0, etas[1], np.where(prod < 0, etas[0], 1.0))
    s["delta"] = np.clip(s["delta"] * factor, *step_sizes)
    g = np.where(prod < 0, 0.0, g)
    s["prev"] = g
    return p - np.sign(g) * s["delta"]


REFS = {
    "SGD": sgd, "Adam": adam, "AdamW": adamw, "RMSprop": rmsprop, "Adagrad": adagrad,
    "Adadelta": adadelta, "Adamax": adamax, "NAdam": nadam, "RAdam": radam, "ASGD": asgd,
    "Rprop": rprop,
}  # fmt: skip


def lbfgs(x, fg, lr=1.0, max_iter=20, history_size=100, tolerance_grad=1e-7, tolerance_change=1e-9):
    """Nocedal (1980) two-loop recursion with a fixed step (torch's line_search_fn=None rules).

    `fg(x) -> (f, g)`. One call runs one ``LBFGS.step`` from a fresh state: the first step is
    ``min(1, 1/|g|_1) * lr``, later ones ``lr``; pairs with ``y.s <= 1e-10`` are skipped, and
    H0 = (y.s / y.y) I from the newest pair.
    """
    f, g = fg(x)
    if np.abs(g).max() <= tolerance_grad:
        return x
    S, Y, H0 = [], [], 1.0
    d = t = g_prev = None
    for k in range(1, max_iter + 1):
        if k == 1:
            d = -g
        else:
            y, s = g - g_prev, d * t
            if y @ s > 1e-10:
                if len(S) == history_size:
                    S.pop(0), Y.pop(0)
                S.append(s), Y.append(y)
                H0 = (y @ s) / (y @ y)
            q, alphas = -g, []
            for s_i, y_i in zip(reversed(S), reversed(Y)):
                a = (s_i @ q) / (y_i @ s_i)
                alphas.append(a)
                q = q - a * y_i
            r = H0 * q
            for s_i, y_i, a in zip(S, Y, reversed(alphas)):
                r = r + (a - (y_i @ r) / (y_i @ s_i)) * s_i
            d = r
        g_prev, f_prev = g, f
        t = min(1.0, 1.0 / np.abs(g).sum()) * lr if k == 1 else lr
        if g @ d > -tolerance_change:
            break
        x = x + t * d
        if k == max_iter:
            break
        f, g = fg(x)
        if np.abs(g).max() <= tolerance_grad or np.abs(d * t).max() <= tolerance_change:
            break
        if abs(f - f_prev) < tolerance_change:
            break
    return x
