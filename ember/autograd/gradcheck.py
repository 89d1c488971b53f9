"""gradcheck / gradgradcheck: analytic gradients against float64 central differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """The analytic and numerical Jacobians differ."""


def _tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _outputs(fn: Callable, inputs: tuple) -> list:
    from ember.tensor import Tensor

    return [o for o in _tuple(fn(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]


def gradcheck(
    func: Callable,
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Compare the Jacobian from backward with central differences for every input requiring grad.

    Inputs should be float64 (a warning is given otherwise, as torch). On failure the error names
    the input and output index and the worst element (numerical vs analytical).
    """
    import warnings

    from ember.autograd import grad as _grad
    from ember.tensor import Tensor

    inputs = _tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in diff:
        if inputs[i].dtype.name != "float64":
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point. This "
                "check will likely fail if all the inputs are not of double precision floating "
                "point.",
                UserWarning,
                stacklevel=2,
            )
    outs = _outputs(func, inputs)
    for oi, out in enumerate(outs):
        n_out = out.numel()
        analytic = {i: np.zeros((inputs[i].numel(), n_out)) for i in diff}
        for k in range(n_out):
            go = np.zeros(n_out, dtype=out._data.dtype)
            go[k] = 1
            from ember.tensor import _make

            if not out.requires_grad:
                continue
            gs = _grad([out], [inputs[i] for i in diff], [_make(go.reshape(out._data.shape))], retain_graph=True, allow_unused=True)
            for i, g in zip(diff, gs, strict=True):
                if g is not None:
                    analytic[i][:, k] = g._data.reshape(-1)
        for i in diff:
            x = inputs[i]
            flat = x._data.reshape(-1)
            numeric = np.zeros((flat.size, n_out))
            for j in range(flat.size):
                orig = flat[j].item()
                flat[j] = orig + eps
                plus = _outputs(func, inputs)[oi]._data.astype(np.float64).reshape(-1).copy()
                flat[j] = orig - eps
                minus = _outputs(func, inputs)[oi]._data.astype(np.float64).reshape(-1).copy()
                flat[j] = orig
                numeric[j] = (plus - minus) / (2 * eps)
            a = analytic[i]
            bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
            if bad.any():
                j, k = np.unravel_index(np.argmax(np.abs(a - numeric) - rtol * np.abs(numeric)), a.shape)
                msg = (
                    f"Jacobian mismatch for output {oi} with respect to input {i},\n"
                    f"numerical:{numeric}\nanalytical:{a}\n"
                    f"worst element: input flat index {j}, output flat index {k}: numerical "
                    f"{numeric[j, k]:.6g} vs analytical {a[j, k]:.6g}"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(
    func: Callable,
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    **kwargs: Any,
) -> bool:
    """gradcheck of the first derivative: checks double backward (create_graph=True)."""
    from ember.autograd import grad as _grad
    from ember.tensor import Tensor, _make

    inputs = _tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [_make(rng.standard_normal(o._data.shape).astype(o._data.dtype), True) for o in outs]
    grad_outputs = _tuple(grad_outputs)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    n_in = len(inputs)

    def first_grad(*args: Any) -> tuple:
        xs, gos = args[:n_in], args[n_in:]
        os = _outputs(func, xs)
        d = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = _grad(os, d, list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    _ = diff
    return gradcheck(first_grad, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
