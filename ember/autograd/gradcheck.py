"""gradcheck / gradgradcheck: analytic gradients against float64 central differences.

Unlike torch, inputs that are not float64 are checked on float64 copies (after torch's warning),
so a float32 function is not reported broken because of rounding (UP-83); and a failure names the
worst element: input/output index, the element in each, numerical vs analytical and the error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """The analytic and numerical Jacobians differ."""


def _tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _float_outputs(fn: Callable, inputs: tuple) -> list:
    from ember.tensor import Tensor

    return [o for o in _tuple(fn(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]


def _leaf64(x: Any) -> Any:
    """A contiguous float64 copy of `x` requiring grad (perturbed in place by the check)."""
    from ember.tensor import _make

    return _make(np.ascontiguousarray(np.asarray(x._data, dtype=np.float64)), True)


def _prepare(inputs: Any, stacklevel: int) -> tuple[list, list[int]]:
    from ember.tensor import Tensor

    xs = list(_tuple(inputs))
    diff = []
    for i, x in enumerate(xs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if x._data.dtype != np.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point or "
                "complex. This check will likely fail if all the inputs are not of double "
                "precision floating point or complex. (ember runs the check on float64 copies.)",
                UserWarning,
                stacklevel=stacklevel,
            )
        xs[i] = _leaf64(x)
        diff.append(i)
    if not diff:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them "
            "have requires_grad=True."
        )
    return xs, diff


def _analytic(func: Callable, xs: list, diff: list[int]) -> tuple[list, list[np.ndarray]]:
    """Outputs and, per output, the Jacobian rows (n_in_total, n_out) from backward."""
    from ember.autograd import grad as _grad
    from ember.tensor import _make

    outs = _float_outputs(func, tuple(xs))
    sizes = [xs[i].numel() for i in diff]
    jacs = []
    for out in outs:
        n_out = out.numel()
        jac = np.zeros((sum(sizes), n_out))
        if out.requires_grad:
            for k in range(n_out):
                go = np.zeros(n_out, dtype=out._data.dtype)
                go[k] = 1
                gs = _grad(
                    [out], [xs[i] for i in diff], [_make(go.reshape(out._data.shape))],
                    retain_graph=True, allow_unused=True,
                )  # fmt: skip
                col = [np.zeros(s) if g is None else np.asarray(g._data, np.float64).reshape(-1)
                       for g, s in zip(gs, sizes, strict=True)]  # fmt: skip
                jac[:, k] = np.concatenate(col) if col else jac[:, k]
        jacs.append(jac)
    return outs, jacs


def _numeric(func: Callable, xs: list, diff: list[int], eps: float, n_outs: int) -> list:
    """Central differences, per output: (n_in_total, n_out) in float64.

    Not under no_grad: `func` may itself differentiate (gradgradcheck's first derivative).
    """
    rows: list[list[np.ndarray]] = [[] for _ in range(n_outs)]
    for i in diff:
        flat = xs[i]._data.reshape(-1)  # a view: the copy is contiguous
        for j in range(flat.size):
            orig = flat[j].item()
            flat[j] = orig + eps
            plus = [np.asarray(o._data, np.float64).reshape(-1).copy()
                    for o in _float_outputs(func, tuple(xs))]  # fmt: skip
            flat[j] = orig - eps
            minus = [np.asarray(o._data, np.float64).reshape(-1).copy()
                     for o in _float_outputs(func, tuple(xs))]  # fmt: skip
            flat[j] = orig
            for oi in range(n_outs):
                rows[oi].append((plus[oi] - minus[oi]) / (2 * eps))
    return [np.stack(r) if r else np.zeros((0, 0)) for r in rows]


def _mismatch(oi: int, i: int, xs: list, out: Any, num: np.ndarray, ana: np.ndarray,
              atol: float, rtol: float) -> str:  # fmt: skip
    err = np.abs(ana - num)
    excess = err - (atol + rtol * np.abs(num))
    j, k = np.unravel_index(int(np.argmax(excess)), excess.shape)
    in_shape, out_shape = tuple(xs[i]._data.shape), tuple(out._data.shape)
    in_idx = np.unravel_index(int(j), in_shape) if in_shape else ()
    out_idx = np.unravel_index(int(k), out_shape) if out_shape else ()
    rel = err[j, k] / max(abs(num[j, k]), 1e-300)
    small = num.size <= 400
    body = f"numerical:{num}\nanalytical:{ana}\n" if small else ""
    return (
        f"Jacobian mismatch for output {oi} with respect to input {i},\n{body}"
        f"worst element: d output {oi}{list(map(int, out_idx))} / d input {i}"
        f"{list(map(int, in_idx))}: numerical {num[j, k]:.6g} vs analytical {ana[j, k]:.6g} "
        f"(abs err {err[j, k]:.3g}, rel err {rel:.3g}; atol={atol}, rtol={rtol}); "
        f"{int((excess > 0).sum())} of {excess.size} elements differ.\n"
        f"Input {i} has shape {list(in_shape)}, output {oi} has shape {list(out_shape)}."
    )


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
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Compare the Jacobian from backward with central differences for every input requiring grad.

    Returns True, or raises ``GradcheckError`` (returns False with ``raise_exception=False``)
    naming the output, the input and the worst element.
    """
    return _gradcheck(func, inputs, eps, atol, rtol, raise_exception, nondet_tol, stacklevel=4)


def _gradcheck(func: Callable, inputs: Any, eps: float, atol: float, rtol: float,
               raise_exception: bool, nondet_tol: float, stacklevel: int) -> bool:  # fmt: skip
    xs, diff = _prepare(inputs, stacklevel)
    outs, jacs = _analytic(func, xs, diff)
    if nondet_tol == 0.0:  # torch also checks that backward is deterministic (reentrant)
        _, again = _analytic(func, xs, diff)
        for oi, (a, b) in enumerate(zip(jacs, again, strict=True)):
            if not np.array_equal(a, b):
                return _fail(
                    f"Backward is not reentrant, i.e., running backward with same input and "
                    f"grad_output multiple times gives different values, although analytical "
                    f"gradient matches numerical gradient (output {oi}). The tolerance for "
                    "nondeterminism was 0.0.",
                    raise_exception,
                )
    nums = _numeric(func, xs, diff, eps, len(outs))
    for oi, out in enumerate(outs):
        start = 0
        for i in diff:
            n = xs[i].numel()
            ana = jacs[oi][start : start + n]
            num = nums[oi][start : start + n] if nums[oi].size else np.zeros_like(ana)
            start += n
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                return _fail(_mismatch(oi, i, xs, out, num, ana, atol, rtol), raise_exception)
    return True


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


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
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """gradcheck of the first derivative (``create_graph=True``): checks double backward.

    The check differentiates w.r.t. the inputs and the (random, float64) grad_outputs, as torch.
    """
    from ember.autograd import grad as _grad
    from ember.tensor import Tensor, _make

    xs, diff = _prepare(inputs, stacklevel=3)
    outs = _float_outputs(func, tuple(xs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [_make(rng.standard_normal(o._data.shape), True) for o in outs]
    gos = [g if isinstance(g, Tensor) else _make(np.asarray(g, np.float64), True)
           for g in _tuple(grad_outputs)]  # fmt: skip
    n_in = len(xs)

    def first_grad(*args: Any) -> tuple:
        ins, gouts = args[:n_in], args[n_in:]
        os = _float_outputs(func, ins)
        d = [ins[i] for i in diff]
        live = [(o, g) for o, g in zip(os, gouts, strict=True) if o.requires_grad]
        if not live:
            return tuple(x * 0 for x in d)
        gs = _grad([o for o, _ in live], d, [g for _, g in live], create_graph=True,
                   materialize_grads=True)  # fmt: skip
        return tuple(gs)

    return _gradcheck(first_grad, tuple(xs) + tuple(gos), eps, atol, rtol, raise_exception,
                      nondet_tol, stacklevel=4)  # fmt: skip
