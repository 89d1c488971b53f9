"""Elementwise primitives: arithmetic, powers, exp/log, trig, activations, comparisons.

Each op: the forward on arrays, then its node class with the gradient rule right below (written
against the NumPy-like namespace ``F``, so the same rule differentiates again under
``create_graph``). Gradients are returned in the output's shape; the engine undoes broadcasting.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember import dtypes
from ember.ops._core import (
    Node,
    Tensor,
    _make,
    as_array_operands,
    broadcast_error,
    check_inplace,
    commit_inplace,
    float_array,
    gm,
    record,
    to_tensor,
    wrap,
)  # fmt: skip
from ember.tensor import tensor_method

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "neg", "negative", "abs", "absolute", "sign", "sgn", "exp", "exp2",
    "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "square", "sin", "cos", "tan",
    "asin", "acos", "atan", "arcsin", "arccos", "arctan", "atan2", "arctan2", "sinh", "cosh",
    "tanh", "asinh", "acosh", "atanh", "sigmoid", "logit", "relu", "floor", "ceil", "round",
    "trunc", "fix", "frac", "reciprocal", "clamp", "clip", "clamp_min", "clamp_max", "maximum",
    "minimum", "fmax", "fmin", "lerp", "where", "nan_to_num", "isnan", "isinf", "isfinite",
    "isposinf", "isneginf", "isreal", "signbit", "eq", "ne", "lt", "le", "gt", "ge", "greater",
    "greater_equal", "less", "less_equal", "not_equal", "equal", "logical_and", "logical_or",
    "logical_not", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "bitwise_left_shift", "bitwise_right_shift", "addcmul", "addcdiv", "hypot", "xlogy",
    "copysign", "heaviside", "logaddexp", "logaddexp2", "deg2rad", "rad2deg", "float_power",
    "positive",
]  # fmt: skip

_np = np


def _bcast(fn: Any, xa: Any, ya: Any) -> Any:
    """fn(xa, ya), with NumPy's broadcasting ValueError turned into torch's RuntimeError."""
    try:
        return fn(xa, ya)
    except ValueError:
        raise broadcast_error(np.shape(xa), np.shape(ya)) from None


def _grad(*ts: Any) -> bool:
    if not gm.enabled:
        return False
    for t in ts:
        if t.__class__ is not int and t.__class__ is not float and isinstance(t, Tensor) and t._rg:
            return True
    return False


def _t(x: Any) -> Any:
    return x if isinstance(x, Tensor) else None


# --------------------------------------------------------------------------- arithmetic
class AddBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        alpha = self.args
        return g, (g if alpha == 1 else g * alpha)


class SubBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        alpha = self.args
        return g, (-g if alpha == 1 else g * -alpha)


class RsubBackward1(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (-g,)


class MulBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, a: Any, b: Any) -> tuple:
        # a is saved only if d/dother is needed, b only if d/dinput is
        return (None if b is None else g * b), (None if a is None else g * a)


class DivBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, a: Any, b: Any) -> tuple:
        ga = g / b
        gb = None if a is None else -ga * a / b
        return ga, gb


class NegBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (-g,)


@tensor_method
def add(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """input + alpha * other, with broadcasting and torch's type promotion."""
    if out is not None:
        return _out(out, add(input, other, alpha=alpha))
    xa, ya = as_array_operands(input, other)
    try:
        r = wrap(xa + ya if alpha == 1 else xa + ya * alpha)
    except ValueError:
        raise broadcast_error(np.shape(xa), np.shape(ya)) from None
    if _grad(input, other):
        record(AddBackward0, r, (_t(input), _t(other)), args=alpha)
    return r


@tensor_method
def sub(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """input - alpha * other."""
    if out is not None:
        return _out(out, sub(input, other, alpha=alpha))
    _check_bool_sub(input, other)
    xa, ya = as_array_operands(input, other)
    try:
        r = wrap(xa - ya if alpha == 1 else xa - ya * alpha)
    except ValueError:
        raise broadcast_error(np.shape(xa), np.shape(ya)) from None
    if _grad(input, other):
        record(SubBackward0, r, (_t(input), _t(other)), args=alpha)
    return r


subtract = sub


def _rsub(input: Tensor, other: Any) -> Tensor:
    _check_bool_sub(other, input)
    xa, ya = as_array_operands(other, input)
    r = wrap(xa - ya)
    if _grad(input):
        record(RsubBackward1, r, (input,))
    return r


@tensor_method
def mul(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Elementwise product."""
    if out is not None:
        return _out(out, mul(input, other))
    xa, ya = as_array_operands(input, other)
    try:
        r = wrap(xa * ya)
    except ValueError:
        raise broadcast_error(np.shape(xa), np.shape(ya)) from None
    if _grad(input, other):
        ti, to = _t(input), _t(other)
        # save only what the needed gradients use: d/dinput needs other, d/dother needs input
        a = input if (to is not None and to._rg) else None
        b = other if (ti is not None and ti._rg) else None
        record(MulBackward0, r, (ti, to), saved=(a, b))
    return r


multiply = mul


@tensor_method
def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Any = None) -> Tensor:
    """True division (ints give floats); rounding_mode 'trunc' or 'floor' as torch."""
    if out is not None:
        return _out(out, div(input, other, rounding_mode=rounding_mode))
    if rounding_mode is not None:
        if rounding_mode == "floor":
            return floor_divide(input, other)
        if rounding_mode == "trunc":
            xa, ya = as_array_operands(input, other)
            if xa.dtype.kind in "iu" and (not hasattr(ya, "dtype") or ya.dtype.kind in "iu"):
                q = np.floor_divide(xa, ya)
                fix = (np.remainder(xa, ya) != 0) & ((xa < 0) != (np.asarray(ya) < 0))
                return wrap(q + fix)
            r = wrap(np.trunc(xa / ya))
            if _grad(input, other):
                record(ZeroGradBackward, r, (_t(input), _t(other)), args="DivBackward1")
            return r
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    xa, ya = as_array_operands(input, other, true_div=True)
    try:
        r = wrap(xa / ya)
    except ValueError:
        raise broadcast_error(np.shape(xa), np.shape(ya)) from None
    if _grad(input, other):
        ti, to = _t(input), _t(other)
        bsave = other if to is not None else ya
        asave = input if (to is not None and to._rg) else None
        if asave is not None and (ti is None or ti._data.dtype != xa.dtype):
            asave = _make(xa)
        if to is not None and to._data.dtype != ya.dtype:
            bsave = _make(ya)
        record(DivBackward0, r, (ti, to), saved=(asave, bsave))
    return r


divide = true_divide = div


def _is_bool(x: Any) -> bool:
    return x._data.dtype == np.bool_ if isinstance(x, Tensor) else isinstance(x, bool | np.bool_)


def _check_bool_sub(input: Any, other: Any) -> None:
    """torch refuses `-` with bool operands (it almost always means a mask inversion)."""
    bi, bo = _is_bool(input), _is_bool(other)
    if bi and bo:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead."
        )
    if bi or bo:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def _rdiv(input: Tensor, other: Any) -> Tensor:
    return div(to_tensor(other, input), input)


class ZeroGradBackward(Node):
    """Gradient zero almost everywhere (floor, round, sign, ...)."""

    __slots__ = ()

    def name(self) -> str:
        return self.args or "ZeroGradBackward"

    def backward(self, F: Any, g: Any) -> tuple:
        return tuple(None if e is None else F.zeros_like(g) for e in self.edges)


@tensor_method
def floor_divide(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Division rounded towards minus infinity (Python's //)."""
    xa, ya = as_array_operands(input, other)
    if xa.dtype == np.bool_ and np.asarray(ya).dtype == np.bool_:
        raise NotImplementedError("\"div_floor_cpu\" not implemented for 'Bool'")
    r = wrap(_bcast(np.floor_divide, xa, ya))
    if _grad(input, other):
        record(ZeroGradBackward, r, (_t(input), _t(other)), args="DivBackward1")
    return _out(out, r) if out is not None else r


class RemainderBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, a: Any, b: Any) -> tuple:
        if self.edges[1] is None:
            return g, None
        return g, -g * F.floor(a / b)


@tensor_method
def remainder(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Python-style modulus: the result has the sign of the divisor."""
    xa, ya = as_array_operands(input, other)
    if xa.dtype == np.bool_ and np.asarray(ya).dtype == np.bool_:
        raise NotImplementedError("\"remainder_cpu\" not implemented for 'Bool'")
    r = wrap(_bcast(np.remainder, xa, ya))
    if _grad(input, other):
        record(
            RemainderBackward0,
            r,
            (_t(input), _t(other)),
            saved=(input if _t(input) is not None else xa, other if _t(other) is not None else ya),
        )
    return _out(out, r) if out is not None else r


class FmodBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, a: Any, b: Any) -> tuple:
        if self.edges[1] is None:
            return g, None
        return g, -g * F.trunc(a / b)


@tensor_method
def fmod(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """C-style modulus: the result has the sign of the dividend."""
    xa, ya = as_array_operands(input, other)
    r = wrap(_bcast(np.fmod, xa, ya))
    if _grad(input, other):
        record(
            FmodBackward0,
            r,
            (_t(input), _t(other)),
            saved=(input if _t(input) is not None else xa, other if _t(other) is not None else ya),
        )
    return _out(out, r) if out is not None else r


@tensor_method
def neg(input: Tensor, *, out: Any = None) -> Tensor:
    """-input."""
    if input._data.dtype == np.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )
    r = wrap(-input._data)
    if gm.enabled and input._rg:
        record(NegBackward0, r, (input,))
    return _out(out, r) if out is not None else r


negative = neg


@tensor_method
def positive(input: Tensor) -> Tensor:
    return input


class PowBackward0(Node):
    """x ** c for a constant c."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any) -> tuple:
        c = self.args
        if c == 0:
            return (F.zeros_like(g),)
        if c == 2:
            return (g * 2.0 * x,)
        return (g * c * x ** (c - 1),)


class PowBackward1(Node):
    """x ** y for tensors x, y."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, y: Any, out: Any) -> tuple:
        gx = gy = None
        if self.edges[0] is not None:
            gx = F.where(y == 0, 0.0, g * y * x ** F.where(y == 0, 1.0, y - 1))
        if self.edges[1] is not None:
            # torch: d/dy x**y = x**y * log(x), defined as 0 where x == 0 and y >= 0
            logx = F.log(F.where(x == 0, 1.0, x))
            gy = g * F.where((x == 0) & (y >= 0), 0.0, out * logx)
        return gx, gy


class PowBackward2(Node):
    """c ** x for a constant c."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, out: Any) -> tuple:
        c = self.args
        return (
            g * out * math.log(c)
            if c > 0
            else g * F.where(out == 0, 0.0, out * math.log(abs(c)) if c else 0.0),
        )


@tensor_method
def pow(input: Any, exponent: Any, *, out: Any = None) -> Tensor:
    """input ** exponent (either may be a scalar)."""
    if out is not None:
        return _out(out, pow(input, exponent))
    if not isinstance(input, Tensor):
        return _rpow(exponent, input)
    if not isinstance(exponent, Tensor):
        if input._data.dtype.kind in "iu" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        xa, e = as_array_operands(input, exponent)
        if xa.dtype.kind in "iu" and isinstance(e, int) and e < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        r = wrap(xa * xa if e == 2 else (xa**e))
        if gm.enabled and input._rg:
            record(PowBackward0, r, (input,), saved=(input,), args=e)
        return r
    xa, ya = as_array_operands(input, exponent)
    r = wrap(_bcast(np.power, xa, ya))
    if _grad(input, exponent):
        xs = input if xa is input._data else _make(xa)
        ys = exponent if ya is exponent._data else _make(ya)
        record(PowBackward1, r, (input, exponent), saved=(xs, ys, r))
    return r


def _rpow(input: Tensor, base: Any) -> Tensor:
    xa, ba = as_array_operands(input, base)
    r = wrap(np.power(ba, xa))
    if gm.enabled and input._rg:
        record(PowBackward2, r, (input,), saved=(r,), args=base)
    return r


@tensor_method
def float_power(input: Any, exponent: Any) -> Tensor:
    """pow computed in float64, as torch.float_power."""
    x = to_tensor(input).to(dtypes.float64) if isinstance(input, Tensor) else input
    e = exponent.to(dtypes.float64) if isinstance(exponent, Tensor) else exponent
    return pow(x, e)


def _out(out: Tensor, r: Tensor) -> Tensor:
    """Write a result into a user-provided `out=` tensor (resized if needed, as torch)."""
    if out._data.shape != r._data.shape:
        out._data = r._data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = r._data
    out._vc[0] += 1
    return out


# --------------------------------------------------------------------------- unary math
def _unary(
    name: str, node: str, fwd: Any, bwd: Any, save: str = "x", floating: bool = True, doc: str = ""
) -> Any:
    """Build a unary op ``name`` with node class ``node``.

    bwd(F, g, s) gets the saved value s: the input (save='x'), the output ('y'), or nothing ('').
    """
    if save == "x" or save == "y":

        def backward(self: Node, F: Any, g: Any, s: Any) -> tuple:
            return (bwd(F, g, s),)
    else:

        def backward(self: Node, F: Any, g: Any) -> tuple:  # type: ignore[misc]
            return (bwd(F, g, None),)

    cls = type(node, (Node,), {"__slots__": (), "backward": backward, "__module__": __name__})

    def op(input: Tensor, *, out: Any = None) -> Tensor:
        a = input._data
        if floating:
            a = float_array(a)
        r = wrap(fwd(a))
        if gm.enabled and input._rg:
            if save == "x":
                record(cls, r, (input,), saved=(input if a is input._data else _make(a),))
            elif save == "y":
                record(cls, r, (input,), saved=(r,))
            else:
                record(cls, r, (input,))
        if out is not None:
            return _out(out, r)
        return r

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f"Elementwise {name}."
    globals()[node] = cls
    tensor_method(op)
    # only rules that read the input need its pre-write value kept (the output is a new array)
    _inplace_method(name, op, saves_input=save == "x")
    return op


def _snapshot(t: Tensor) -> Tensor:
    """A copy of `t` that keeps its history: the input an in-place op's backward may need.

    torch saves the original value of `self` when the gradient needs it (``x.mul_(w)`` with w
    requiring grad, ``x.sin_()``); without a copy the write would invalidate the saved tensor.
    """
    c = _make(t._data.copy(), t._rg, t.grad_fn)
    c._out_nr = t._out_nr
    return c


def _needs_snapshot(self: Tensor, args: tuple) -> bool:
    if not gm.enabled:
        return False
    return self._rg or any(isinstance(a, Tensor) and a._rg for a in args)


def _inplace_method(name: str, op: Any, saves_input: bool = True) -> None:
    def inplace(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        check_inplace(self, name + "_")
        src = _snapshot(self) if saves_input and _needs_snapshot(self, args) else self
        return commit_inplace(self, op(src, *args, **kwargs), name + "_")

    inplace.__name__ = name + "_"
    setattr(Tensor, name + "_", inplace)


_SQRT_PI_2 = 2.0 / math.sqrt(math.pi)

exp = _unary("exp", "ExpBackward0", np.exp, lambda F, g, y: g * y, "y")
exp2 = _unary("exp2", "Exp2Backward0", np.exp2, lambda F, g, y: g * y * math.log(2.0), "y")
expm1 = _unary("expm1", "Expm1Backward0", np.expm1, lambda F, g, y: g * (y + 1), "y")
log = _unary("log", "LogBackward0", np.log, lambda F, g, x: g / x)
log2 = _unary("log2", "Log2Backward0", np.log2, lambda F, g, x: g / (x * math.log(2.0)))
log10 = _unary("log10", "Log10Backward0", np.log10, lambda F, g, x: g / (x * math.log(10.0)))
log1p = _unary("log1p", "Log1PBackward0", np.log1p, lambda F, g, x: g / (x + 1))
sqrt = _unary("sqrt", "SqrtBackward0", np.sqrt, lambda F, g, y: g / (2 * y), "y")
rsqrt = _unary(
    "rsqrt", "RsqrtBackward0", lambda a: 1 / np.sqrt(a), lambda F, g, y: -0.5 * g * y * y * y, "y"
)
sin = _unary("sin", "SinBackward0", np.sin, lambda F, g, x: g * F.cos(x))
cos = _unary("cos", "CosBackward0", np.cos, lambda F, g, x: -g * F.sin(x))
tan = _unary("tan", "TanBackward0", np.tan, lambda F, g, y: g * (1 + y * y), "y")
asin = _unary("asin", "AsinBackward0", np.arcsin, lambda F, g, x: g / F.sqrt(1 - x * x))
acos = _unary("acos", "AcosBackward0", np.arccos, lambda F, g, x: -g / F.sqrt(1 - x * x))
atan = _unary("atan", "AtanBackward0", np.arctan, lambda F, g, x: g / (1 + x * x))
sinh = _unary("sinh", "SinhBackward0", np.sinh, lambda F, g, x: g * F.cosh(x))
cosh = _unary("cosh", "CoshBackward0", np.cosh, lambda F, g, x: g * F.sinh(x))
tanh = _unary("tanh", "TanhBackward0", np.tanh, lambda F, g, y: g * (1 - y * y), "y")
asinh = _unary("asinh", "AsinhBackward0", np.arcsinh, lambda F, g, x: g / F.sqrt(x * x + 1))
acosh = _unary("acosh", "AcoshBackward0", np.arccosh, lambda F, g, x: g / F.sqrt(x * x - 1))
atanh = _unary("atanh", "AtanhBackward0", np.arctanh, lambda F, g, x: g / (1 - x * x))
reciprocal = _unary(
    "reciprocal", "ReciprocalBackward0", lambda a: 1 / a, lambda F, g, y: -g * y * y, "y"
)
deg2rad = _unary("deg2rad", "Deg2RadBackward0", np.deg2rad, lambda F, g, _: g * (math.pi / 180), "")
rad2deg = _unary("rad2deg", "Rad2DegBackward0", np.rad2deg, lambda F, g, _: g * (180 / math.pi), "")
arcsin, arccos, arctan = asin, acos, atan


def _sigmoid_fwd(a: Any) -> Any:
    # 1 / (1 + exp(-a)) in IEEE arithmetic is already safe: exp overflows to inf for a << 0 and
    # the result is 0; computed in place in one buffer (this op is on small models' hot path)
    t = np.negative(a)
    np.exp(t, out=t)
    t += 1
    np.reciprocal(t, out=t)
    return t


sigmoid = _unary("sigmoid", "SigmoidBackward0", _sigmoid_fwd, lambda F, g, y: g * y * (1 - y), "y")


@tensor_method
def square(input: Tensor) -> Tensor:
    """input * input (integer dtypes stay integer)."""
    return pow(input, 2)


def _logit_fwd(a: Any, eps: Any) -> Any:
    if eps is not None:
        a = np.clip(a, eps, 1 - eps)
    return np.log(a / (1 - a))


class LogitBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any) -> tuple:
        eps = self.args
        gx = g / (x * (1 - x))
        if eps is not None:
            gx = F.where((x < eps) | (x > 1 - eps), 0.0, gx)
        return (gx,)


@tensor_method
def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    a = float_array(input._data)
    r = wrap(_logit_fwd(a, eps))
    if gm.enabled and input._rg:
        record(LogitBackward0, r, (input,), saved=(input,), args=eps)
    return r


class ReluBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, y: Any) -> tuple:
        return (g * (y > 0),)  # relu'(0) = 0, as torch


@tensor_method
def relu(input: Tensor) -> Tensor:
    """max(input, 0)."""
    a = input._data
    r = wrap(np.maximum(a, 0, dtype=a.dtype) if a.dtype.kind != "b" else a.copy())
    if gm.enabled and input._rg:
        record(ReluBackward0, r, (input,), saved=(r,))
    return r


def relu_(input: Tensor) -> Tensor:
    check_inplace(input, "relu_")
    return commit_inplace(input, relu(input), "relu_")


Tensor.relu_ = relu_  # type: ignore[attr-defined]


class AbsBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any) -> tuple:
        return (g * F.sign(x),)


@tensor_method
def abs(input: Tensor, *, out: Any = None) -> Tensor:
    """|input| (the gradient at 0 is 0, as torch)."""
    r = wrap(np.abs(input._data))
    if gm.enabled and input._rg:
        record(AbsBackward0, r, (input,), saved=(input,))
    return _out(out, r) if out is not None else r


absolute = abs
_inplace_method("abs", abs)
_inplace_method("neg", neg, saves_input=False)


def _zero_grad_unary(name: str, node: str, fwd: Any, keep_int: bool = True) -> Any:
    def op(input: Tensor, *, out: Any = None) -> Tensor:
        a = input._data
        r = wrap(fwd(a) if (a.dtype.kind == "f" or not keep_int) else a.copy())
        if gm.enabled and input._rg:
            record(ZeroGradBackward, r, (input,), args=node)
        return _out(out, r) if out is not None else r

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} (zero gradient almost everywhere)."
    tensor_method(op)
    _inplace_method(name, op, saves_input=False)
    return op


floor = _zero_grad_unary("floor", "FloorBackward0", np.floor)
ceil = _zero_grad_unary("ceil", "CeilBackward0", np.ceil)
trunc = _zero_grad_unary("trunc", "TruncBackward0", np.trunc)
fix = trunc
sign = _zero_grad_unary("sign", "SignBackward0", np.sign, keep_int=False)
sgn = sign


@tensor_method
def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even (as torch), optionally to `decimals` places."""
    a = input._data
    r = wrap(np.round(a, decimals) if a.dtype.kind == "f" else a.copy())
    if gm.enabled and input._rg:
        record(ZeroGradBackward, r, (input,), args="RoundBackward0")
    return r


_inplace_method("round", round, saves_input=False)


class FracBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        return (g,)


@tensor_method
def frac(input: Tensor) -> Tensor:
    """input - trunc(input) (gradient 1, as torch)."""
    a = input._data
    r = wrap(a - np.trunc(a))
    if gm.enabled and input._rg:
        record(FracBackward0, r, (input,))
    return r


_inplace_method("frac", frac, saves_input=False)


# --------------------------------------------------------------------------- clamp, min/max
class ClampBackward1(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, lo: Any, hi: Any) -> tuple:
        mask = None
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            m2 = x <= hi
            mask = m2 if mask is None else mask & m2
        gx = g if mask is None else g * mask
        if len(self.edges) == 1:
            return (gx,)
        # where min > max the result is max: only max gets the gradient there (as torch)
        glo = ghi = None
        if self.edges[1] is not None:
            glo = g * ((x < lo) & (lo < hi)) if hi is not None else g * (x < lo)
        if self.edges[2] is not None:
            ghi = g * ((x > hi) | (hi < lo)) if lo is not None else g * (x > hi)
        return gx, glo, ghi


@tensor_method
def clamp(input: Tensor, min: Any = None, max: Any = None, *, out: Any = None) -> Tensor:
    """Clamp into [min, max] (scalars or tensors); the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    a = input._data
    lo = min._data if isinstance(min, Tensor) else min
    hi = max._data if isinstance(max, Tensor) else max
    if a.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float)):
        a = a.astype(dtypes.get_default_dtype().np)
    r = a
    if lo is not None:
        r = np.maximum(r, lo)
    if hi is not None:
        r = np.minimum(r, hi)
    if r.dtype != a.dtype and not isinstance(min, Tensor) and not isinstance(max, Tensor):
        r = r.astype(a.dtype)
    r = wrap(r if r is not a else a.copy())
    if _grad(input, min, max):
        ins: tuple = (input,)
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            ins = (input, _t(min), _t(max))
        record(ClampBackward1, r, ins, saved=(input, min, max))
    return _out(out, r) if out is not None else r


clip = clamp


@tensor_method
def clamp_min(input: Tensor, min: Any) -> Tensor:
    return clamp(input, min=min)


@tensor_method
def clamp_max(input: Tensor, max: Any) -> Tensor:
    return clamp(input, max=max)


for _n, _f in (
    ("clamp", clamp),
    ("clip", clamp),
    ("clamp_min", clamp_min),
    ("clamp_max", clamp_max),
):
    _inplace_method(_n, _f)
Tensor.clip = clamp  # type: ignore[attr-defined]


class MaximumBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, a: Any, b: Any) -> tuple:
        # ties split the gradient in half, as torch
        ga = g * ((a > b) + (a == b) * 0.5)
        return ga, g - ga


class MinimumBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, a: Any, b: Any) -> tuple:
        ga = g * ((a < b) + (a == b) * 0.5)
        return ga, g - ga


def _binary_tensor_op(fwd: Any, node: type[Node], input: Any, other: Any) -> Tensor:
    other = to_tensor(other, input)
    xa, ya = as_array_operands(input, other)
    r = wrap(_bcast(fwd, xa, ya))
    if _grad(input, other):
        xs = input if xa is input._data else _make(xa)
        ys = other if ya is other._data else _make(ya)
        record(node, r, (input, other), saved=(xs, ys))
    return r


@tensor_method
def maximum(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Elementwise max of two tensors (NaN propagates)."""
    r = _binary_tensor_op(np.maximum, MaximumBackward0, input, other)
    return _out(out, r) if out is not None else r


@tensor_method
def minimum(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Elementwise min of two tensors (NaN propagates)."""
    r = _binary_tensor_op(np.minimum, MinimumBackward0, input, other)
    return _out(out, r) if out is not None else r


@tensor_method
def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise max ignoring NaN."""
    return _binary_tensor_op(np.fmax, MaximumBackward0, input, other)


@tensor_method
def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise min ignoring NaN."""
    return _binary_tensor_op(np.fmin, MinimumBackward0, input, other)


class Atan2Backward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, a: Any, b: Any) -> tuple:
        d = a * a + b * b
        return g * b / d, -g * a / d


@tensor_method
def atan2(input: Tensor, other: Any) -> Tensor:
    """atan(input / other) in the right quadrant."""
    other = to_tensor(other, input)
    xa, ya = as_array_operands(input, other, true_div=True)
    r = wrap(_bcast(np.arctan2, xa, ya))
    if _grad(input, other):
        record(
            Atan2Backward0,
            r,
            (input, other),
            saved=(
                _make(xa) if xa is not input._data else input,
                _make(ya) if ya is not other._data else other,
            ),
        )
    return r


arctan2 = atan2
_inplace_method("atan2", atan2)


class HypotBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, a: Any, b: Any, out: Any) -> tuple:
        return g * a / out, g * b / out


@tensor_method
def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input**2 + other**2)."""
    other = to_tensor(other, input)
    xa, ya = as_array_operands(input, other)
    r = wrap(_bcast(np.hypot, xa, ya))
    if _grad(input, other):
        record(HypotBackward0, r, (input, other), saved=(input, other, r))
    return r


class LerpBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, s: Any, e: Any, w: Any) -> tuple:
        ge = g * w
        res = [g - ge, ge]
        if len(self.edges) > 2:
            res.append(g * (e - s) if self.edges[2] is not None else None)
        return tuple(res)


@tensor_method
def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight * (end - input)."""
    wa = weight._data if isinstance(weight, Tensor) else weight
    xa, ea = as_array_operands(input, end)
    r = wrap(xa + wa * (ea - xa))
    if _grad(input, end, weight):
        ins = (input, _t(end), _t(weight)) if isinstance(weight, Tensor) else (input, _t(end))
        record(LerpBackward0, r, ins, saved=(input, end, weight))
    return r


_inplace_method("lerp", lerp)


class WhereBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, c: Any) -> tuple:
        z = F.zeros_like(g)
        return None, F.where(c, g, z), F.where(c, z, g)


@tensor_method
def where(condition: Tensor, input: Any = None, other: Any = None, *, out: Any = None) -> Any:
    """input where condition else other (broadcast); ``where(c)`` is ``nonzero(c, as_tuple=True)``."""
    if input is None and other is None:
        from ember.ops.indexing import nonzero

        return nonzero(condition, as_tuple=True)
    ref = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else condition
    c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if c.dtype != np.bool_:
        if c.dtype == np.uint8:
            c = c.astype(bool)
        else:
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with dtype {dtypes.from_np(c.dtype)}"
            )
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        d = dtypes.result_type(input, other)
        xa, ya = d.np.type(input), d.np.type(other)
    elif isinstance(input, Tensor) and isinstance(other, Tensor):
        xa, ya = as_array_operands(input, other)
    elif isinstance(input, Tensor):
        xa, ya = as_array_operands(input, other)
        ya = xa.dtype.type(ya)  # a typed scalar: works for NumPy and CuPy arrays alike
    else:
        xa, ya = as_array_operands(input, other)
        xa = ya.dtype.type(xa)
    xp = np if c.__class__ is np.ndarray else ref.xp
    r = wrap(xp.where(c, xa, ya))
    if _grad(input, other):
        record(WhereBackward0, r, (None, _t(input), _t(other)), saved=(_make(c),))
    return _out(out, r) if out is not None else r


@tensor_method
def nan_to_num(
    input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """Replace NaN / +inf / -inf by finite numbers (gradient passes where input was finite)."""
    a = input._data
    r = wrap(np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf))
    if gm.enabled and input._rg:
        record(NanToNumBackward0, r, (input,), saved=(input,))
    return r


class NanToNumBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any) -> tuple:
        return (g * F.isfinite(x),)


_inplace_method("nan_to_num", nan_to_num)


@tensor_method
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 * tensor2."""
    return add(input, mul(mul(tensor1, tensor2), value))


@tensor_method
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 / tensor2."""
    return add(input, mul(div(tensor1, tensor2), value))


_inplace_method("addcmul", addcmul)
_inplace_method("addcdiv", addcdiv)


@tensor_method
def xlogy(input: Any, other: Any) -> Tensor:
    """input * log(other), defined as 0 where input == 0."""
    input = to_tensor(input, other if isinstance(other, Tensor) else None)
    other = to_tensor(other, input)
    prod = mul(input, log(other))
    return where(input._data == 0 if not input._rg else eq(input, 0), to_tensor(0.0, prod), prod)


class CopysignBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, out: Any) -> tuple:
        # d/dx |x| sign(other) = sign(x) * sign(out); zero w.r.t. other (as torch)
        gx = g * F.sign(x) * F.sign(out)
        return gx, (None if len(self.edges) < 2 or self.edges[1] is None else F.zeros_like(g))


@tensor_method
def copysign(input: Tensor, other: Any) -> Tensor:
    """|input| with the sign of other."""
    xa, oa = as_array_operands(input, other, true_div=True)
    r = wrap(np.copysign(xa, oa))
    if _grad(input, other):
        record(CopysignBackward0, r, (input, _t(other)), saved=(input, r))
    return r


@tensor_method
def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """Heaviside step: 0 below 0, `values` at 0, 1 above (not differentiable)."""
    xa, va = as_array_operands(input, values)
    return wrap(np.heaviside(xa, va))


@tensor_method
def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(exp(input) + exp(other)), computed stably."""
    m = maximum(input, other).detach()
    return add(m, log(add(exp(sub(input, m)), exp(sub(other, m)))))


@tensor_method
def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2**input + 2**other)."""
    return div(logaddexp(mul(input, math.log(2.0)), mul(other, math.log(2.0))), math.log(2.0))


# --------------------------------------------------------------------------- comparisons & logic
def _cmp(name: str, ufunc: Any) -> Any:
    def op(input: Any, other: Any, *, out: Any = None) -> Tensor:
        if not isinstance(other, Tensor) and not isinstance(
            other, int | float | bool | np.number | np.bool_
        ):
            other = to_tensor(other, input)
        xa, ya = as_array_operands(input, other)
        r = wrap(_bcast(ufunc, xa, ya))
        return _out(out, r) if out is not None else r

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} comparison (a bool tensor)."
    tensor_method(op)

    def inplace(self: Tensor, other: Any) -> Tensor:
        return commit_inplace(self, op(self, other), name + "_")

    setattr(Tensor, name + "_", inplace)
    return op


eq = _cmp("eq", np.equal)
ne = _cmp("ne", np.not_equal)
lt = _cmp("lt", np.less)
le = _cmp("le", np.less_equal)
gt = _cmp("gt", np.greater)
ge = _cmp("ge", np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
for _n, _f in (
    ("greater", gt),
    ("greater_equal", ge),
    ("less", lt),
    ("less_equal", le),
    ("not_equal", ne),
):
    setattr(Tensor, _n, _f)


@tensor_method
def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and elements."""
    a, b = input._data, other._data
    return a.shape == b.shape and bool((a == b).all())


def _logic(name: str, ufunc: Any, nargs: int = 2) -> Any:
    if nargs == 2:

        def op(input: Any, other: Any, *, out: Any = None) -> Tensor:
            other = to_tensor(other, input)
            r = wrap(_bcast(ufunc, input._data, other._data))
            return _out(out, r) if out is not None else r
    else:

        def op(input: Any, *, out: Any = None) -> Tensor:  # type: ignore[misc]
            r = wrap(ufunc(input._data))
            return _out(out, r) if out is not None else r

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}."
    tensor_method(op)

    def inplace(self: Tensor, *args: Any) -> Tensor:
        return commit_inplace(self, op(self, *args), name + "_")

    setattr(Tensor, name + "_", inplace)
    return op


logical_and = _logic("logical_and", np.logical_and)
logical_or = _logic("logical_or", np.logical_or)
logical_xor = _logic("logical_xor", np.logical_xor)
logical_not = _logic("logical_not", np.logical_not, 1)


def _bitwise(name: str, ufunc: Any, nargs: int = 2) -> Any:
    def check(a: Any) -> None:
        if a.dtype.kind == "f":
            raise RuntimeError(
                f"\"{name}_cpu\" not implemented for '{dtypes.from_np(a.dtype).name.capitalize()}'"
            )

    if nargs == 2:

        def op(input: Any, other: Any) -> Tensor:
            xa, ya = as_array_operands(input, other)
            check(xa)
            return wrap(_bcast(ufunc, xa, ya))
    else:

        def op(input: Any) -> Tensor:  # type: ignore[misc]
            check(input._data)
            return wrap(ufunc(input._data))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} on integer or bool tensors."
    tensor_method(op)

    def inplace(self: Tensor, *args: Any) -> Tensor:
        return commit_inplace(self, op(self, *args), name + "_")

    setattr(Tensor, name + "_", inplace)
    return op


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)
bitwise_not = _bitwise("bitwise_not", np.invert, 1)
bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift)
bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift)


def _pred(name: str, fn: Any) -> Any:
    def op(input: Tensor) -> Tensor:
        return wrap(fn(input._data))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} test (a bool tensor)."
    tensor_method(op)
    return op


isnan = _pred("isnan", np.isnan)
isinf = _pred("isinf", np.isinf)
isfinite = _pred("isfinite", np.isfinite)
isposinf = _pred("isposinf", np.isposinf)
isneginf = _pred("isneginf", np.isneginf)
isreal = _pred("isreal", lambda a: np.ones(a.shape, bool))
signbit = _pred("signbit", np.signbit)


# --------------------------------------------------------------------------- in-place arithmetic
def _arith_inplace(name: str, op: Any) -> None:
    keeps_self = name not in ("add_", "sub_", "subtract_")  # their gradients never read self

    def inplace(self: Tensor, other: Any, *args: Any, **kwargs: Any) -> Tensor:
        if not (gm.enabled and (self._rg or (isinstance(other, Tensor) and other._rg))):
            return commit_inplace(self, op(self, other, *args, **kwargs), name)
        check_inplace(self, name)
        src = _snapshot(self) if keeps_self else self
        return commit_inplace(self, op(src, other, *args, **kwargs), name)

    inplace.__name__ = name
    setattr(Tensor, name, inplace)


for _n, _f in (
    ("add_", add), ("sub_", sub), ("subtract_", sub), ("mul_", mul), ("multiply_", mul),
    ("div_", div), ("divide_", div), ("true_divide_", div), ("floor_divide_", floor_divide),
    ("remainder_", remainder), ("fmod_", fmod), ("pow_", pow), ("maximum_", maximum),
    ("minimum_", minimum), ("hypot_", hypot), ("xlogy_", xlogy), ("copysign_", copysign),
):  # fmt: skip
    _arith_inplace(_n, _f)
for _n in (
    "sigmoid",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sin",
    "cos",
    "reciprocal",
    "rsqrt",
    "logit",
    "square",
):
    if not hasattr(Tensor, _n + "_"):
        _inplace_method(_n, globals()[_n])
