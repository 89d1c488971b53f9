"""torch.nn.functional: activations, linear/bilinear, dropout, softmax, distances, one_hot, pad.

Activations are fused pointwise nodes: the forward runs on arrays and the backward rule, written
against the NumPy-like namespace ``F`` (see docs/architecture.md), is differentiable again under
``create_graph``. Rules that need the input save a copy when the op runs in place.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ember import dtypes
from ember.ops._core import (
    Node,
    Tensor,
    _make,
    check_inplace,
    commit_inplace,
    float_array,
    gm,
    record,
    wrap,
)
from ember.random import _gen
from ember.tensor import _wrap_dim

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
    "celu", "celu_", "gelu", "silu", "mish", "sigmoid", "tanh", "softplus", "softsign",
    "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "tanhshrink", "softshrink",
    "hardshrink", "logsigmoid", "threshold", "threshold_", "prelu", "glu", "softmax",
    "log_softmax", "softmin", "linear", "bilinear", "dropout", "dropout1d", "dropout2d",
    "dropout3d", "alpha_dropout", "feature_alpha_dropout", "one_hot", "normalize",
    "cosine_similarity", "pairwise_distance", "pad",
]  # fmt: skip

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_K = math.sqrt(2.0 / math.pi)
_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))  # torch: hardsigmoid's grad uses 1.0f/6


# ----------------------------------------------------------------------------- helpers
def _sig(F: Any, x: Any) -> Any:
    """sigmoid(x) without overflow (exp of a non-positive number only), in either namespace."""
    e = F.exp(-F.abs(x))
    p = 1 / (1 + e)
    return F.where(x >= 0, p, e * p)


def _softplus(F: Any, x: Any) -> Any:
    """log(1 + exp(x)), stable for large |x|."""
    return F.maximum(x, 0) + F.log1p(F.exp(-F.abs(x)))


def _erf(a: Any) -> Any:
    # NOTE: NumPy has no erf; ember's Tensor.erf (ops/special) provides it
    return _make(a).erf()._data


class _PointwiseBackward(Node):
    """g * f'(s) for a pointwise activation; subclasses set ``rule(F, g, s, *args)``."""

    __slots__ = ()
    rule: Any = None

    def backward(self, F: Any, g: Any, s: Any) -> tuple:
        return (self.rule(F, g, s, *self.args),)


def _node(name: str, rule: Any) -> type[Node]:
    attrs = {"__slots__": (), "rule": staticmethod(rule), "__module__": __name__}
    return type(name, (_PointwiseBackward,), attrs)


def _pointwise(input: Tensor, fwd: Any, node: type[Node], args: tuple, inplace: bool,
               name: str, save_out: bool) -> Tensor:  # fmt: skip
    """y = fwd(x, *args); record `node` with the output (save_out) or the input saved."""
    if inplace:
        check_inplace(input, name + "_")
    a = float_array(input._data)
    r = wrap(fwd(a, *args))
    if gm.enabled and input._rg:
        if save_out:
            s: Any = r
        elif inplace:
            s = _make(a.copy() if a is input._data else a)  # the commit below overwrites a
        else:
            s = input if a is input._data else _make(a)
        record(node, r, (input,), saved=(s,), args=args)
    return commit_inplace(input, r, name + "_") if inplace else r


# ----------------------------------------------------------------------------- activations
HardtanhBackward0 = _node("HardtanhBackward0", lambda F, g, y, lo, hi: g * ((y > lo) & (y < hi)))
LeakyReluBackward0 = _node("LeakyReluBackward0", lambda F, g, s, k: F.where(s > 0, g, g * k))
EluBackward0 = _node(
    "EluBackward0",
    lambda F, g, x, a, sc, isc: F.where(
        x <= 0, g * (isc * a * sc) * F.exp(F.minimum(x, 0) * isc), g * sc
    ),
)
EluBackward1 = _node(  # from the output: valid for alpha >= 0 (torch's is_result branch)
    "EluBackward1",
    lambda F, g, y, a, sc, isc: F.where(y <= 0, g * isc * (y + a * sc), g * sc),
)
GeluTanhBackward = _node("GeluBackward0", lambda F, g, x: g * _gelu_tanh_grad(F, x))
SiluBackward0 = _node("SiluBackward0", lambda F, g, x: g * _silu_grad(F, x))
MishBackward0 = _node("MishBackward0", lambda F, g, x: g * _mish_grad(F, x))
SoftplusBackward0 = _node(
    "SoftplusBackward0",
    lambda F, g, x, b, th: F.where(x * b > th, g, g * _sig(F, F.minimum(x * b, th))),
)
HardsigmoidBackward0 = _node(
    "HardsigmoidBackward0", lambda F, g, x: g * ((x > -3) & (x < 3)) * _ONE_SIXTH_F32
)
HardswishBackward0 = _node(
    "HardswishBackward0",
    lambda F, g, x: F.where(x < -3, g * 0, F.where(x <= 3, g * (x / 3 + 0.5), g)),
)
ShrinkBackward = _node("SoftshrinkBackward0", lambda F, g, x, lam: g * ((x < -lam) | (x > lam)))
LogSigmoidBackward0 = _node("LogSigmoidBackward0", lambda F, g, x: g * _sig(F, -x))
ThresholdBackward0 = _node("ThresholdBackward0", lambda F, g, x, th, v: g * (x > th))


def _gelu_tanh_grad(F: Any, x: Any) -> Any:
    inner = _GELU_K * (x + 0.044715 * x * x * x)
    t = F.tanh(inner)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_K * (1 + 3 * 0.044715 * x * x)


def _silu_grad(F: Any, x: Any) -> Any:
    s = _sig(F, x)
    return s * (1 + x * (1 - s))


def _mish_grad(F: Any, x: Any) -> Any:
    t = F.tanh(_softplus(F, x))
    return t + x * _sig(F, x) * (1 - t * t)


def _np_sigmoid(a: Any) -> Any:
    return _sig(np, a).astype(a.dtype, copy=False)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x)."""
    return input.relu_() if inplace else input.relu()


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:  # fmt: skip
    """clip(x, min_val, max_val); gradient 1 strictly inside the interval."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _pointwise(
        input, np.clip, HardtanhBackward0, (min_val, max_val), inplace, "hardtanh", True
    )


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x."""
    return _pointwise(
        input, lambda a, k: np.where(a > 0, a, a * k), LeakyReluBackward0, (negative_slope,),
        inplace, "leaky_relu", negative_slope >= 0,  # y > 0 iff x > 0 only for a slope >= 0
    )  # fmt: skip


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


def _elu(input: Tensor, alpha: float, scale: float, input_scale: float, inplace: bool,
         name: str, x_rule: bool = False) -> Tensor:  # fmt: skip
    def fwd(a: Any, al: float, sc: float, _: float) -> Any:
        return np.where(a > 0, a * sc, np.expm1(np.minimum(a, 0) * input_scale) * (al * sc))

    by_y = alpha >= 0 and (inplace or not x_rule)  # y <= 0 iff x <= 0 needs alpha >= 0
    bscale = input_scale
    if x_rule:  # torch: celu's backward uses 1 / float32(alpha)
        bscale = 1.0 / float(np.float32(alpha))
    node = EluBackward1 if by_y else EluBackward0
    return _pointwise(input, fwd, node, (alpha, scale, bscale), inplace, name, by_y)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return _elu(input, alpha, 1.0, 1.0, inplace, "elu")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace, "selu")


def selu_(input: Tensor) -> Tensor:
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _elu(input, alpha, 1.0, 1.0 / alpha, inplace, "celu", x_rule=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, True)


class GeluBackward0(Node):
    """d/dx x*Phi(x) = Phi(x) + x*phi(x)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, cdf: Any) -> tuple:
        if isinstance(g, Tensor):  # create_graph: recompute Phi differentiably
            cdf = 0.5 * (1 + F.erf(x * _SQRT1_2))
        return (g * (cdf + x * F.exp(-0.5 * x * x) * _INV_SQRT_2PI),)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x); approximate='tanh': 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))."""
    a = float_array(input._data)
    if approximate == "tanh":
        r = wrap(0.5 * a * (1 + np.tanh(_GELU_K * (a + 0.044715 * a * a * a))))
        if gm.enabled and input._rg:
            record(GeluTanhBackward, r, (input,), saved=(input,), args=())
        return r
    if approximate != "none":
        raise RuntimeError(f"approximate argument must be either none or tanh. got {approximate}")
    cdf = 0.5 * (1 + _erf(a * _SQRT1_2))
    r = wrap((a * cdf).astype(a.dtype, copy=False))
    if gm.enabled and input._rg:
        # NOTE: the fast backward reuses Phi(x) from here (NumPy lacks erf)
        record(GeluBackward0, r, (input,), saved=(input, cdf))
    return r


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    return _pointwise(
        input, lambda a: a * _np_sigmoid(a), SiluBackward0, (), inplace, "silu", False
    )


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return _pointwise(
        input, lambda a: a * np.tanh(np.logaddexp(0, a)), MishBackward0, (), inplace, "mish", False
    )


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""

    def fwd(a: Any, b: float, th: float) -> Any:
        bx = a * b
        return np.where(bx > th, a, np.log1p(np.exp(np.minimum(bx, th))) / b)

    return _pointwise(input, fwd, SoftplusBackward0, (beta, threshold), False, "softplus", False)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x + 3, 0), 6) / 6."""
    return _pointwise(
        input, lambda a: np.minimum(np.maximum(a + 3, 0), 6) / 6, HardsigmoidBackward0, (),
        inplace, "hardsigmoid", False,
    )  # fmt: skip


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * min(max(x + 3, 0), 6) / 6."""
    return _pointwise(
        input, lambda a: a * np.minimum(np.maximum(a + 3, 0), 6) / 6, HardswishBackward0, (),
        inplace, "hardswish", False,
    )  # fmt: skip


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _pointwise(
        input, lambda a, lam: a - np.clip(a, -lam, lam), ShrinkBackward, (lambd,), False,
        "softshrink", False,
    )  # fmt: skip


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x if |x| > lambd else 0."""

    def fwd(a: Any, lam: float) -> Any:
        return np.where((a >= -lam) & (a <= lam), a.dtype.type(0), a)

    return _pointwise(input, fwd, ShrinkBackward, (lambd,), False, "hardshrink", False)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x)."""
    return _pointwise(
        input, lambda a: np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a))), LogSigmoidBackward0,
        (), False, "log_sigmoid", False,
    )  # fmt: skip


def _threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x if x > threshold else value."""
    return _pointwise(
        input, lambda a, th, v: np.where(a > th, a, a.dtype.type(v)), ThresholdBackward0,
        (threshold, value), inplace, "threshold", False,
    )  # fmt: skip


threshold = _threshold


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _threshold(input, threshold, value, True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + weight * min(0, x), weight per channel (dim 1) or shared."""
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or n != channels:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{n} and channel size = {channels}."
            )
        if input.ndim >= 2:
            weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    elif input.ndim == 0:
        weight = weight.reshape(())
    from ember.ops.elementwise import where

    return where(input > 0, input, weight * input)


class GluBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any) -> tuple:
        a, b = F.split(x, 2, axis=self.args)
        s = _sig(F, b)
        return (F.concatenate([g * s, g * a * s * (1 - s)], axis=self.args),)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) where a, b are the two halves of `input` along `dim`."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}"
        )
    x = float_array(input._data)
    a, b = np.split(x, 2, axis=d)
    r = wrap(a * _np_sigmoid(b))
    if gm.enabled and input._rg:
        record(GluBackward0, r, (input,), saved=(input,), args=d)
    return r


# ----------------------------------------------------------------------------- softmax
def _get_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_family(input: Tensor, dim: int | None, stacklevel: int, dtype: Any, name: str,
                    log: bool) -> Tensor:  # fmt: skip
    if dim is None:
        dim = _get_softmax_dim(name, input.ndim, stacklevel + 1)
    if dtype is not None:
        input = input.to(dtypes.as_dtype(dtype))
    from ember.ops import special

    return special.log_softmax(input, dim) if log else special.softmax(input, dim)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:  # fmt: skip
    """exp(x_i) / sum_j exp(x_j) along `dim`."""
    return _softmax_family(input, dim, _stacklevel, dtype, "softmax", False)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:  # fmt: skip
    """x_i - log sum_j exp(x_j) along `dim`, computed stably."""
    return _softmax_family(input, dim, _stacklevel, dtype, "log_softmax", True)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:  # fmt: skip
    """softmax(-x)."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.ndim, _stacklevel)
    return _softmax_family(-input, dim, _stacklevel, dtype, "softmin", False)


# ----------------------------------------------------------------------------- linear
class LinearBackward0(Node):
    """y = x W^T + b: dx = g W, dW = g^T x (batch dims flattened), db = g (engine sums)."""

    __slots__ = ()

    def name(self) -> str:
        return "AddmmBackward0" if len(self.edges) == 3 else "MmBackward0"

    def backward(self, F: Any, g: Any, x: Any, w: Any) -> tuple:
        e = self.edges
        gx = None if e[0] is None else F.matmul(g, w)
        gw = None
        if e[1] is not None:
            out_f, in_f = self.args
            gw = F.matmul(F.reshape(g, (-1, out_f)).T, F.reshape(x, (-1, in_f)))
        if len(e) == 2:
            return gx, gw
        return gx, gw, (None if e[2] is None else g)


def _dtype_name(d: Any) -> str:
    from ember.ops._core import _tname

    return _tname(dtypes.from_np(d))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b (one matmul and an in-place add)."""
    x, w = input._data, weight._data
    if x.dtype != w.dtype:
        hint = ""
        if x.dtype == np.float64 and w.dtype == np.float32:
            hint = (
                "\n  input is float64 (NumPy's default); use `x.float()` or "
                "`ember.set_default_dtype(ember.float64)` (and `model.double()`)"
            )
        raise RuntimeError(
            "mat1 and mat2 must have the same dtype, but got "
            f"{_dtype_name(x.dtype)} and {_dtype_name(w.dtype)}{hint}"
        )
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        if w.ndim == 2 and x.ndim:
            m = math.prod(x.shape[:-1])
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({m}x{x.shape[-1]} and "
                f"{w.shape[1]}x{w.shape[0]})"
            )
        raise RuntimeError(f"linear: bad shapes input {tuple(x.shape)}, weight {tuple(w.shape)}")
    y = x @ w.T
    if bias is not None:
        b = bias._data
        if b.dtype != x.dtype:
            raise RuntimeError(
                "self and mat2 must have the same dtype, but got "
                f"{_dtype_name(b.dtype)} and {_dtype_name(x.dtype)}"
            )
        y += b  # y is a fresh array: no second allocation
    r = wrap(y)
    rg = input._rg or weight._rg or (bias is not None and bias._rg)
    if gm.enabled and rg:
        ins = (input, weight) if bias is None else (input, weight, bias)
        saved = (input if weight._rg else None, weight if input._rg else None)
        record(LinearBackward0, r, ins, saved=saved, args=w.shape)
    return r


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T W_k x2 + b_k for weight (out, in1, in2)."""
    out_f, in1, in2 = weight.shape
    lead = tuple(input1.shape[:-1])
    if tuple(input2.shape[:-1]) != lead:
        raise RuntimeError(
            "bilinear(): input batch dimensions do not match: got "
            f"{list(lead)} and {list(input2.shape[:-1])}"
        )
    if input1.shape[-1] != in1:
        raise RuntimeError(
            f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
            f"expected {in1}"
        )
    if input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
            f"expected {in2}"
        )
    # (..., in1) @ (in1, out*in2) -> (..., out, in2), then contract in2 with x2
    w = weight.permute(1, 0, 2).reshape(in1, out_f * in2)
    u = input1.matmul(w).reshape(lead + (out_f, in2))
    y = (u * input2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias


# ----------------------------------------------------------------------------- dropout
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _bernoulli_keep(shape: tuple, p: float, like: Tensor) -> Any:
    """A 0/1 mask of `shape` (keep probability 1 - p) in like's dtype and device."""
    keep = (_gen(None).random(shape, dtype=np.float32) >= p).astype(like._data.dtype)
    return keep if like.is_cpu else like.xp.asarray(keep)


def _dropout_impl(input: Tensor, p: float, training: bool, inplace: bool, feature: bool,
                  alpha: bool) -> Tensor:  # fmt: skip
    _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    shape = tuple(input.shape)
    if feature:
        shape = shape[:2] + (1,) * (len(shape) - 2)
    if p == 1 and not alpha:
        noise = np.zeros(shape, input._data.dtype)
        noise = noise if input.is_cpu else input.xp.asarray(noise)
    else:
        noise = _bernoulli_keep(shape, p, input)
    if not alpha:
        m = _make(noise / (1 - p)) if p < 1 else _make(noise)
        return input.mul_(m) if inplace else input * m
    # torch: out = x * a * keep + (keep - 1) * alpha' * a + alpha' * a * p
    al = 1.7580993408473766
    a = 1.0 / math.sqrt((al * al * p + 1) * (1 - p))
    b = _make((noise - 1) * (al * a) + al * a * p)
    m = _make(noise * a)
    return input.mul_(m).add_(b) if inplace else input * m + b


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    return _dropout_impl(input, p, training, inplace, False, False)


def _channel_dropout(input: Tensor, p: float, training: bool, inplace: bool, name: str,
                     batched_ndim: int) -> Tensor:  # fmt: skip
    _check_p(p)
    nd = input.ndim
    if name == "dropout1d" and nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
            "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
            "dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."
        )
    if name != "dropout1d" and nd not in (batched_ndim - 1, batched_ndim):
        warnings.warn(
            f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in "
            "an error in a future release. To retain the behavior and silence this warning, "
            "please use dropout instead.",
            stacklevel=3,
        )
    if name == "dropout2d" and nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=3,
        )
    unbatched = name != "dropout2d" and nd == batched_ndim - 1
    x = input.unsqueeze(0) if unbatched else input
    r = _dropout_impl(x, p, training, False, True, False)
    if r is x:  # eval mode or p == 0
        return input
    if unbatched:
        r = r.squeeze(0)
    return input.copy_(r) if inplace else r


def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input."""
    return _channel_dropout(input, p, training, inplace, "dropout1d", 3)


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, H, W) input."""
    return _channel_dropout(input, p, training, inplace, "dropout2d", 4)


def dropout3d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    return _channel_dropout(input, p, training, inplace, "dropout3d", 5)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:  # fmt: skip
    """Dropout that keeps SELU's zero mean and unit variance."""
    return _dropout_impl(input, p, training, inplace, False, True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:  # fmt: skip
    return _dropout_impl(input, p, training, inplace, True, True)


# ----------------------------------------------------------------------------- misc
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a new last dimension of size num_classes."""
    a = tensor._data
    if a.dtype.kind not in "iu":
        raise RuntimeError(
            "one_hot is only applicable to index tensor of type LongTensor "
            f"(got {tensor.dtype}; any integer dtype works in ember)."
        )
    if a.size and int(a.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
        if not a.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    elif a.size and int(a.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    xp = tensor.xp
    return wrap((a[..., None] == xp.arange(num_classes)).astype(np.int64))


class LinalgVectorNormBackward0(Node):
    """d||x||_p: x |x|^(p-2) / ||x||^(p-1); 0 where the norm is 0 (torch's subgradient)."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, y: Any) -> tuple:
        p, dim, keepdim = self.args
        if not keepdim:
            g = F.expand_dims(g, dim)
            y = F.expand_dims(y, dim)
        if p == 2:
            return (g * x / F.where(y == 0, 1, y),)
        if p == 1:
            return (g * F.sign(x),)
        if p == math.inf:
            hit = F.abs(x) == y
            return (g * F.sign(x) * hit / F.sum(hit, axis=dim, keepdims=True),)
        ys = F.where(y == 0, 1, y)
        return (g * F.sign(x) * (F.abs(x) / ys) ** (p - 1),)


def _vector_norm(x: Tensor, p: float, dim: int, keepdim: bool = False) -> Tensor:
    """||x||_p over one dim (p > 0), with torch's zero-norm gradient."""
    a = float_array(x._data)
    d = _wrap_dim(dim, a.ndim)
    if p == math.inf:
        r = np.abs(a).max(axis=d, keepdims=keepdim)
    elif p == 2:
        r = np.sqrt((a * a).sum(axis=d, keepdims=keepdim))
    elif p == 1:
        r = np.abs(a).sum(axis=d, keepdims=keepdim)
    else:
        r = (np.abs(a) ** p).sum(axis=d, keepdims=keepdim) ** (1.0 / p)
    out = wrap(np.asarray(r, a.dtype))
    if gm.enabled and x._rg:
        record(LinalgVectorNormBackward0, out, (x,), saved=(x, out), args=(p, d, keepdim))
    return out


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:  # fmt: skip
    """x / max(||x||_p, eps) along `dim`."""
    denom = _vector_norm(input, p, dim, keepdim=True).clamp_min(eps)
    r = input / denom
    return out.copy_(r) if out is not None else r


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along `dim` (x1, x2 broadcast)."""
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.expand(shape), x2.expand(shape)

    def clamped_norm(x: Tensor) -> Tensor:
        n = _vector_norm(x, 2, dim, keepdim=True)
        # torch clamps in place under no_grad: the clamped value, the unclamped gradient
        return n + (n.clamp_min(eps) - n).detach()

    return ((x1 / clamped_norm(x1)) * (x2 / clamped_norm(x2))).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:  # fmt: skip
    """||x1 - x2 + eps||_p over the last dimension."""
    nd = max(x1.ndim, x2.ndim)
    return _vector_norm(x1 - x2 + eps, p, nd - 1 if nd else 0, keepdim)


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 dims: pad = (left_last, right_last, left_prev, right_prev, ...)."""
    from ember import ops

    pad = [int(v) for v in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode == "constant":
        return ops.constant_pad(input, pad, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    fn = {"reflect": "reflect_pad", "replicate": "replicate_pad", "circular": "circular_pad"}
    if mode not in fn:
        raise NotImplementedError(
            f"Unrecognised padding mode {mode}; expected constant, reflect, replicate or circular"
        )
    return getattr(ops, fn[mode])(input, pad)
