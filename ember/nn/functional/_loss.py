"""torch.nn.functional losses, vectorised over the batch.

Elementwise regression losses and the two binary cross entropies are fused nodes (one node per
call); ``nll_loss`` is a fused node and ``cross_entropy`` is ``nll_loss(log_softmax(x))`` as in
torch. The rest are composites of differentiable ops. Every backward rule is written against the
NumPy-like namespace ``F`` so double backward works.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ember.nn.functional._basic import _sig, _softplus, log_softmax, logsigmoid, pairwise_distance
from ember.ops._core import Node, Tensor, _make, _tname, as_array_operands, gm, record, wrap

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "nll_loss", "cross_entropy", "kl_div",
    "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss",
    "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
    "multi_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
]  # fmt: skip


# ----------------------------------------------------------------------------- reduction
def legacy_get_string(
    size_average: bool | None, reduce: bool | None, emit_warning: bool = True
) -> str:
    """torch's mapping of the deprecated size_average/reduce flags to `reduction`."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{ret}' "
            "instead.",
            stacklevel=3,
        )
    return ret


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _warn_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def _check_float_target(name: str, input: Tensor, target: Tensor) -> None:
    """UP-14: say which argument has which dtype, and what was expected."""
    if target.dtype != input.dtype:
        raise RuntimeError(
            f"Found dtype {_tname(target.dtype)} but expected {_tname(input.dtype)}: {name} "
            f"`target` has dtype {target.dtype.name} but `input` has dtype {input.dtype.name}; "
            f"call `target.to(input.dtype)` (e.g. `target.float()`)"
        )


# ----------------------------------------------------------------------------- fused pair losses
class _PairLossBackward(Node):
    """Loss l(x - t) summed/averaged: dx = g l'(x - t), dt = -dx."""

    __slots__ = ()
    rule: Any = None

    def backward(self, F: Any, g: Any, x: Any, t: Any) -> tuple:
        reduction, n, params = self.args
        if reduction == "mean":
            g = g / n
        d = g * self.rule(F, x - t, *params)
        e = self.edges
        return (None if e[0] is None else d), (None if e[1] is None else -d)


def _pair_node(name: str, rule: Any) -> type[Node]:
    attrs = {"__slots__": (), "rule": staticmethod(rule), "__module__": __name__}
    return type(name, (_PairLossBackward,), attrs)


MseLossBackward0 = _pair_node("MseLossBackward0", lambda F, d: 2 * d)
L1LossBackward0 = _pair_node("L1LossBackward0", lambda F, d: F.sign(d))
SmoothL1LossBackward0 = _pair_node(
    "SmoothL1LossBackward0", lambda F, d, beta: F.where(F.abs(d) < beta, d / beta, F.sign(d))
)
HuberLossBackward0 = _pair_node(
    "HuberLossBackward0", lambda F, d, delta: F.minimum(F.maximum(d, -delta), delta)
)


def _pair_loss(node: type[Node], fwd: Any, input: Tensor, target: Tensor, reduction: str,
               params: tuple = ()) -> Tensor:  # fmt: skip
    x, t = as_array_operands(input, target)
    try:
        diff = x - t
    except ValueError:
        from ember.ops._core import broadcast_error

        raise broadcast_error(x.shape, t.shape) from None
    loss = fwd(diff, *params)
    if reduction == "mean":
        r = np.asarray(loss.mean(), loss.dtype) if loss.size else np.asarray(np.nan, loss.dtype)
    elif reduction == "sum":
        r = np.asarray(loss.sum(), loss.dtype)
    elif reduction == "none":
        r = loss
    else:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    out = wrap(r)
    if gm.enabled and (input._rg or target._rg):
        record(
            node, out, (input, target), saved=(input, target), args=(reduction, loss.size, params)
        )
    return out


def _weighted(loss: Tensor, weight: Tensor, input: Tensor, reduction: str) -> Tensor:
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    w = loss * weight
    if reduction == "none":
        return w
    if reduction == "sum":
        return w.sum()
    if reduction == "mean":
        return w.sum() / weight.sum()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:  # fmt: skip
    """mean((x - y)^2) (or sum / none)."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        d = input - target
        return _weighted(d * d, weight, input, reduction)
    return _pair_loss(MseLossBackward0, lambda d: d * d, input, target, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:  # fmt: skip
    """mean(|x - y|)."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted((input - target).abs(), weight, input, reduction)
    return _pair_loss(L1LossBackward0, np.abs, input, target, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:  # fmt: skip
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - y)."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta == 0.0:
        return _pair_loss(L1LossBackward0, np.abs, input, target, reduction)

    def fwd(d: Any, b: float) -> Any:
        ad = np.abs(d)
        return np.where(ad < b, 0.5 * d * d / b, ad - 0.5 * b)

    return _pair_loss(SmoothL1LossBackward0, fwd, input, target, reduction, (beta,))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:  # fmt: skip
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    _warn_size(input, target)

    def fwd(d: Any, dl: float) -> Any:
        ad = np.abs(d)
        return np.where(ad < dl, 0.5 * d * d, dl * (ad - 0.5 * dl))

    if weight is not None:
        loss = _pair_loss(HuberLossBackward0, fwd, input, target, "none", (delta,))
        return _weighted(loss, weight, input, reduction)
    return _pair_loss(HuberLossBackward0, fwd, input, target, reduction, (delta,))


# ----------------------------------------------------------------------------- binary CE
def _reduce_array(loss: Any, reduction: str) -> Any:
    if reduction == "mean":
        return np.asarray(loss.mean() if loss.size else np.nan, loss.dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(), loss.dtype)
    return loss


class BinaryCrossEntropyBackward0(Node):
    """dx = w (x - t) / max(x (1 - x), 1e-12); dt = -w (log x - log(1 - x)) (logs clamped)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, t: Any, w: Any) -> tuple:
        reduction, n = self.args
        if reduction == "mean":
            g = g / n
        if w is not None:
            g = g * w
        e = self.edges
        gx = None if e[0] is None else g * (x - t) / F.maximum((1 - x) * x, 1e-12)
        gt = None
        if e[1] is not None:
            gt = -g * (F.maximum(F.log(x), -100) - F.maximum(F.log(1 - x), -100))
        return gx, gt


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:  # fmt: skip
    """-w (t log x + (1 - t) log(1 - x)), logs clamped at -100 as torch."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}) is deprecated. Please ensure they have the same size."
        )
    _check_float_target("binary_cross_entropy", input, target)
    x, t = input._data, target._data
    if x.size and (x.min() < 0 or x.max() > 1):
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore"):
        loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    w = None
    if weight is not None:
        w = _make(np.broadcast_to(weight._data, np.broadcast_shapes(weight.shape, t.shape)))
        loss = loss * w._data
    out = wrap(_reduce_array(loss.astype(x.dtype, copy=False), reduction))
    if gm.enabled and (input._rg or target._rg):
        record(BinaryCrossEntropyBackward0, out, (input, target), saved=(input, target, w),
               args=(reduction, loss.size))  # fmt: skip
    return out


class BinaryCrossEntropyWithLogitsBackward0(Node):
    """dx = w (lw sigmoid(x) - p t) with lw = (p - 1) t + 1; dt = w ((p - 1) sp(-x) - x)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, t: Any, w: Any, pw: Any) -> tuple:
        reduction, n = self.args
        if reduction == "mean":
            g = g / n
        if w is not None:
            g = g * w
        e = self.edges
        gx = gt = None
        if pw is None:
            if e[0] is not None:
                gx = g * (_sig(F, x) - t)
            if e[1] is not None:
                gt = -g * x
        else:
            if e[0] is not None:
                gx = g * (((pw - 1) * t + 1) * _sig(F, x) - pw * t)
            if e[1] is not None:
                gt = g * ((pw - 1) * _softplus(F, -x) - x)
        return gx, gt


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:  # fmt: skip
    """BCE on sigmoid(x), computed stably: (1 - t) x + lw softplus(-x)."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Target size ({target.size()}) must be the same as input size ({input.size()})"
        )
    _check_float_target("binary_cross_entropy_with_logits", input, target)
    x, t = input._data, target._data
    sp = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))  # softplus(-x)
    pw = None if pos_weight is None else pos_weight._data
    loss = (1 - t) * x + (sp if pw is None else ((pw - 1) * t + 1) * sp)
    if weight is not None:
        loss = loss * weight._data
    out = wrap(_reduce_array(np.asarray(loss, x.dtype), reduction))
    if gm.enabled and (input._rg or target._rg):
        record(BinaryCrossEntropyWithLogitsBackward0, out, (input, target),
               saved=(input, target, weight, pos_weight), args=(reduction, loss.size))  # fmt: skip
    return out


# ----------------------------------------------------------------------------- NLL / CE
class NllLossBackward0(Node):
    """dx = g * W where W holds -w[t]/denominator at each target position (a constant)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, coef: Any) -> tuple:
        cdim, none = self.args
        if none and coef.ndim > 1:
            g = F.expand_dims(g, cdim)
        return (g * coef,)


def _class_dim(input: Tensor) -> int:
    return 1 if input.ndim >= 2 else 0


def _check_index_target(name: str, input: Tensor, target: Tensor) -> None:
    """UP-14/UP-15: any integer dtype is a class index; anything else is explained."""
    if target._data.dtype.kind in "iu":
        return
    cdim = _class_dim(input)
    shape = tuple(input.shape[:cdim]) + tuple(input.shape[cdim + 1 :])
    same = " with the same shape as input[:, 0]" if tuple(target.shape) == shape else ""
    raise RuntimeError(
        f"expected target dtype to be Long or Byte, but got {_tname(target.dtype)}: {name} "
        f"`target` has dtype {target.dtype.name}{same}; class indices must be an integer dtype "
        "(call `target.long()`); for class probabilities pass a floating target with the "
        f"input's shape {tuple(input.shape)}"
    )


def _nll_target_shape_error(input: Tensor, target: Tensor) -> Exception:
    if input.ndim == 2 and target.ndim == 1:
        return ValueError(  # torch raises ValueError for this one
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
            f"({target.shape[0]})."
        )
    want = list(input.shape[:1]) + list(input.shape[2:])
    return RuntimeError(f"Expected target size {want}, got {list(target.shape)}")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    """-w[t] x[t] per sample; 'mean' divides by the sum of the weights of non-ignored targets."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_index_target("nll_loss", input, target)
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    cdim = _class_dim(input)
    x, t = input._data, target._data.astype(np.int64, copy=False)
    if x.shape[:cdim] + x.shape[cdim + 1 :] != t.shape:
        raise _nll_target_shape_error(input, target)
    n_classes = x.shape[cdim]
    xp = input.xp
    valid = t != ignore_index
    ts = xp.where(valid, t, 0)
    bad = (ts < 0) | (ts >= n_classes)
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    picked = xp.take_along_axis(x, xp.expand_dims(ts, cdim), axis=cdim).squeeze(cdim)
    wt = valid.astype(x.dtype) if weight is None else weight._data[ts] * valid
    loss = -(picked * wt)
    denom = 1
    if reduction == "mean":
        denom = wt.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            r = xp.asarray(loss.sum() / denom, dtype=x.dtype)
    else:
        r = (
            xp.asarray(loss.sum(), dtype=x.dtype)
            if reduction == "sum"
            else loss.astype(x.dtype, copy=False)
        )
    out = wrap(r)
    if gm.enabled and input._rg:
        with np.errstate(invalid="ignore", divide="ignore"):
            c = (-wt / denom).astype(x.dtype, copy=False)
        classes = xp.arange(n_classes).reshape((n_classes,) + (1,) * (x.ndim - cdim - 1))
        coef = (xp.expand_dims(ts, cdim) == classes) * xp.expand_dims(c, cdim)
        record(NllLossBackward0, out, (input,), saved=(_make(coef.astype(x.dtype, copy=False)),),
               args=(cdim, reduction == "none"))  # fmt: skip
    return out


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:  # fmt: skip
    """nll_loss(log_softmax(x)); targets are class indices (any int dtype) or probabilities."""
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = _class_dim(input)
    logp = log_softmax(input, cdim)
    n_classes = input.shape[cdim]
    wshape = tuple(n_classes if i == cdim else 1 for i in range(input.ndim))
    if target.is_floating_point() and tuple(target.shape) == tuple(input.shape):
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        prod = logp * target if weight is None else logp * target * weight.reshape(wshape)
        loss = -prod.sum(cdim)
        if reduction == "mean":
            return (
                loss.sum() / (input.numel() / n_classes) if input.numel() else loss.sum() * math.nan
            )
        return _reduce(loss, reduction)
    _check_index_target("cross_entropy", input, target)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing <= 0:
        return nll
    from ember.ops.elementwise import where

    valid = _make(target._data != ignore_index)
    smooth = -(logp if weight is None else logp * weight.reshape(wshape)).sum(cdim)
    smooth = where(valid, smooth, 0.0)
    if reduction == "mean":
        if weight is None:
            ret = smooth.sum() / float(valid._data.sum())
        else:
            t = target._data.astype(np.int64)
            ret = smooth.sum() / float(weight._data[np.where(valid._data, t, 0)][valid._data].sum())
    else:
        ret = smooth.sum() if reduction == "sum" else smooth
    return (1 - label_smoothing) * nll + ret * (label_smoothing / n_classes)


# ----------------------------------------------------------------------------- other losses
def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:  # fmt: skip
    """target * (log target - input) (input is log-probabilities)."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            stacklevel=2,
        )
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    """exp(x) - t x (log_input) or x - t log(x + eps); `full` adds Stirling's term for t > 1."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        from ember.ops.elementwise import where

        big = target > 1
        ts = where(big, target, 1.0)  # keeps log() finite where the term is masked anyway
        stirling = ts * ts.log() - ts + 0.5 * (2 * math.pi * ts).log()
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:  # fmt: skip
    """0.5 (log max(var, eps) + (x - t)^2 / max(var, eps)) (+ 0.5 log 2 pi if full)."""
    from ember.ops.creation import ones_like

    if isinstance(var, float | int):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
            y for x, y in zip(input.shape, var.shape, strict=True) if x != y
        ) == 1):  # fmt: skip
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var + (var.clamp_min(eps) - var).detach()  # torch clamps under no_grad
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:  # fmt: skip
    """1 - cos(x1, x2) for target 1; max(0, cos - margin) for target -1."""
    from ember.ops.elementwise import where

    reduction = _reduction(size_average, reduce, reduction)
    d = input1.ndim - 1
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + 1e-12
    mag2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    pos = where(target == 1, 1 - cos, 0.0)
    neg = where(target == -1, (cos - margin).clamp_min(0), 0.0)
    return _reduce(pos + neg, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:  # fmt: skip
    """max(0, -y (x1 - x2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:  # fmt: skip
    """x for target 1, max(0, margin - x) for target -1."""
    from ember.ops.elementwise import where

    reduction = _reduction(size_average, reduce, reduction)
    m = where(target != 1, (margin - input).clamp_min(0), 0.0)
    return _reduce(m + where(target != -1, input, 0.0), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    """log(1 + exp(-y x))."""
    reduction = _reduction(size_average, reduce, reduction)
    z = -input * target
    return _reduce(z.clamp_min(0) + (-z.abs()).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:  # fmt: skip
    """-mean_c [y log sigmoid(x) + (1 - y) log sigmoid(-x)]."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    c = input.ndim - 1
    return _reduce(loss.sum(c) / input.shape[c], reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:  # fmt: skip
    """sum_{j != y} max(0, margin - x[y] + x[j])^p / C (times weight[y])."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _check_index_target("multi_margin_loss", input, target)
    c = input.shape[-1]
    t = target._data.astype(np.int64)
    onehot = _make((t[..., None] == np.arange(c)).astype(input._data.dtype))
    xy = (input * onehot).sum(-1, keepdim=True)
    z = (margin - xy + input).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * _make(weight._data[t][..., None])
    return _reduce((z * (1 - onehot)).sum(-1) / c, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:  # fmt: skip
    """max(0, d(a, p) - d(a, n) + margin) with the p-norm pairwise distance."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Any = None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:  # fmt: skip
    """Triplet loss with a custom distance (default pairwise_distance)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
            f"{negative.ndim}D inputs"
        )
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)
