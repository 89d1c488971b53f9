"""Tensor printing with torch's exact text: ``tensor([1., 2.], requires_grad=True)``.

A port of ``torch/_tensor_str.py`` onto NumPy arrays: the same formatter (int mode, scientific
mode, widths from the non-zero finite values), the same summarisation with ``...``, line wrapping
at ``linewidth`` and the same suffixes (``dtype=``, ``size=``, ``device=``, ``grad_fn=``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ember import dtypes

__all__ = ["get_printoptions", "printoptions", "set_printoptions", "tensor_repr"]

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
_opts: dict[str, Any] = dict(_DEFAULTS)


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """torch.set_printoptions: precision, summarisation threshold, edge items, line width."""
    if profile == "default":
        _opts.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _opts.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _opts.update(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)
    for k, v in (
        ("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):  # fmt: skip
        if v is not None:
            _opts[k] = v
    _opts["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for set_printoptions."""
    return dict(_opts)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the print options."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Decides int/scientific mode and the column width from (summarised) values."""

    def __init__(self, a: np.ndarray) -> None:
        self.floating = a.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = a.reshape(-1)
        if not self.floating:
            if flat.size:
                if a.dtype.kind == "b":
                    self.max_width = 5 if not flat.all() else 4
                else:
                    self.max_width = max(len(str(int(flat.min()))), len(str(int(flat.max()))))
            return
        with np.errstate(invalid="ignore"):
            nz = flat[np.isfinite(flat) & (flat != 0)]
        if nz.size == 0:
            return
        absd = np.abs(nz.astype(np.float64))
        mn, mx = float(absd.min()), float(absd.max())
        self.int_mode = bool(np.all(nz == np.ceil(nz)))
        sci = _opts["sci_mode"]
        self.sci_mode = (mx / mn > 1000.0 or mx > 1.0e8 or mn < 1.0e-4) if sci is None else sci
        prec = _opts["precision"]
        vals = nz.astype(np.float64).tolist()
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{prec}e}") for v in vals)
        elif self.int_mode:
            self.max_width = max(len(f"{v:.0f}") for v in vals) + 1
        else:
            self.max_width = max(len(f"{v:.{prec}f}") for v in vals)
        self.max_width = max(self.max_width, 1)

    def format(self, value: Any) -> str:
        if self.floating:
            prec = _opts["precision"]
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{prec}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{prec}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a: np.ndarray) -> np.ndarray:
    """The values that get printed (edge items along every dim), for the formatter."""
    edge = _opts["edgeitems"]
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:edge], a[-edge:]]) if a.shape[0] > 2 * edge else a
    if not edge:
        return np.zeros((0,) * a.ndim, a.dtype)
    if a.shape[0] > 2 * edge:
        rows = [a[i] for i in range(edge)] + [a[i] for i in range(len(a) - edge, len(a))]
    else:
        rows = list(a)
    return np.stack([_summarized(r) for r in rows])


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    element_length = fmt.max_width + 2
    per_line = max(1, math.floor((_opts["linewidth"] - indent) / element_length))
    edge = _opts["edgeitems"]
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = (
            [fmt.format(v) for v in a[:edge].tolist()]
            + [" ..."]
            + [fmt.format(v) for v in a[-edge:].tolist()]
        )
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    edge = _opts["edgeitems"]
    if summarize and a.shape[0] > 2 * edge:
        slices = (
            [_tensor_str_with_formatter(a[i], indent + 1, summarize, fmt) for i in range(edge)]
            + ["..."]
            + [
                _tensor_str_with_formatter(a[i], indent + 1, summarize, fmt)
                for i in range(len(a) - edge, len(a))
            ]
        )
    else:
        slices = [
            _tensor_str_with_formatter(a[i], indent + 1, summarize, fmt) for i in range(len(a))
        ]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    summarize = a.size > _opts["threshold"]
    fmt = _Formatter(_summarized(a) if summarize else a)
    return _tensor_str_with_formatter(a, indent, summarize, fmt)


def _add_suffixes(tensor_str: str, suffixes: list[str], indent: int) -> str:
    parts = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _opts["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _host(t: Any) -> np.ndarray:
    a = t._data
    a = a if a.__class__ is np.ndarray else a.get()
    if a.dtype.kind == "V":  # bfloat16: printed through float32, where its values are exact
        a = a.astype(np.float32)
    return a


def tensor_repr(t: Any, tensor_contents: str | None = None) -> str:
    """torch's ``repr(tensor)`` text (byte for byte, dtype names included)."""
    cls = type(t)
    plain = cls.__name__ in ("Tensor", "Parameter")
    prefix = "tensor(" if plain else f"{cls.__name__}("
    indent = len(prefix)
    suffixes = []
    if not t.is_cpu:
        suffixes.append(f"device='{t.device}'")
    a = _host(t)
    d = t.dtype
    default = dtypes.get_default_dtype()
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if d is not default:
            suffixes.append(f"dtype={d}")
        body = "[]"
    else:
        if not _opts["edgeitems"]:
            suffixes.append(f"size={tuple(a.shape)}")
        if d is not default and d is not dtypes.int64 and d is not dtypes.bool:
            suffixes.append(f"dtype={d}")
        body = _tensor_str(a, indent)
    if tensor_contents is not None:
        body = tensor_contents
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
