"""Tensor printing in torch's style: ``tensor([1., 2.], requires_grad=True)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import dtypes

_opts = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None, linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """torch.set_printoptions."""
    if profile == "default":
        _opts.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _opts.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _opts.update(precision=4, threshold=2**63 - 1, edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if v is not None:
            _opts[k] = v
    _opts["sci_mode"] = sci_mode


def _float_formatter(a: np.ndarray) -> Any:
    finite = a[np.isfinite(a)] if a.size else a
    prec = _opts["precision"]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.{prec}f}", False
    absf = np.abs(finite.astype(np.float64))
    int_mode = bool(np.all(finite == np.round(finite)))
    nz = absf[absf > 0]
    mx = float(absf.max()) if absf.size else 0.0
    mn = float(nz.min()) if nz.size else 0.0
    sci = _opts["sci_mode"]
    if sci is None:
        sci = (mx / mn > 1000.0 or mx > 1e8) if not int_mode and nz.size else (mx > 1e8 if int_mode else False)
        if not int_mode and nz.size and mn < 1e-4:
            sci = True
    if sci:
        return (lambda v: _special(v) or f"{v:.{prec}e}"), True
    if int_mode:
        return (lambda v: _special(v) or f"{v:.0f}."), False
    return (lambda v: _special(v) or f"{v:.{prec}f}"), False


def _special(v: float) -> str | None:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _fmt_array(a: np.ndarray) -> str:
    kind = a.dtype.kind
    if kind == "b":
        fmt = lambda v: "True" if v else "False"  # noqa: E731
    elif kind in "iu":
        fmt = lambda v: str(int(v))  # noqa: E731
    else:
        fmt, _ = _float_formatter(a.astype(np.float64) if a.dtype != np.float64 else a)
    summarize = a.size > _opts["threshold"]
    edge = _opts["edgeitems"]
    if a.ndim == 0:
        return fmt(a.item())
    flat = a
    if summarize:
        idx = [np.r_[0 : min(edge, s), max(s - edge, edge) : s] if s > 2 * edge else np.arange(s) for s in a.shape]
        sample = a[np.ix_(*idx)] if a.ndim else a
    else:
        sample = flat
    strs = [fmt(v) for v in sample.reshape(-1).tolist()]
    width = max((len(s) for s in strs), default=1)
    return _nest(a, fmt, width, summarize, edge, 1)


def _nest(a: np.ndarray, fmt: Any, width: int, summarize: bool, edge: int, indent: int) -> str:
    if a.ndim == 1:
        n = a.shape[0]
        if summarize and n > 2 * edge:
            items = [fmt(v).rjust(width) for v in a[:edge].tolist()] + ["..."] + [fmt(v).rjust(width) for v in a[-edge:].tolist()]
        else:
            items = [fmt(v).rjust(width) for v in a.tolist()]
        per_line = max(1, (_opts["linewidth"] - indent) // (width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    n = a.shape[0]
    if summarize and n > 2 * edge:
        rows = [_nest(a[i], fmt, width, summarize, edge, indent + 1) for i in range(edge)] + ["..."] + [_nest(a[i], fmt, width, summarize, edge, indent + 1) for i in range(n - edge, n)]
    else:
        rows = [_nest(a[i], fmt, width, summarize, edge, indent + 1) for i in range(n)]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def tensor_repr(t: Any) -> str:
    a = t._data if t.is_cpu else t._data.get()
    if a.dtype.name == "bfloat16":
        a = a.astype(np.float32)
    prefix = "tensor("
    body = _fmt_array(a) if a.size else "[]"
    body = body.replace("\n", "\n" + " " * len(prefix))
    extras = []
    if a.size == 0 and a.shape != (0,):
        extras.append(f"size={tuple(a.shape)}")
    if not t.is_cpu:
        extras.append(f"device='{t.device}'")
    d = t.dtype
    if not (d is dtypes.get_default_dtype() or d is dtypes.int64 or d is dtypes.bool):
        extras.append(f"dtype={d}")
    elif d is not dtypes.get_default_dtype() and a.size == 0 and d is not dtypes.int64:
        pass
    if a.size == 0 and d is dtypes.int64:
        extras.append(f"dtype={d}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
