"""Pooling: max (strided windows + argmax, gradient scattered to the argmax), average (a
composite of ``unfold`` and a sum), adaptive average (two averaging matrices), adaptive max.

The max-pool gradient is a pair of linear primitives adjoint to each other (scatter by index /
gather by index), so pooling is differentiable to any order, like convolution.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember.autograd.grad_mode import state as gm
from ember.autograd.node import Node, record
from ember.backends import xp_of
from ember.ops._core import _make, wrap
from ember.tensor import Tensor

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool2d",
    "lp_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
]  # fmt: skip


def _tuple(v: Any, n: int = 2) -> tuple[int, ...]:
    if isinstance(v, int | np.integer):
        return (int(v),) * n
    v = tuple(int(x) for x in v)
    return v * n if len(v) == 1 else v


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p:  # the last window must start inside input or left pad
        out -= 1
    return out


# ------------------------------------------------------------------ index scatter/gather pair
class ScatterFlatBackward(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        (idx,) = self.args
        return (_gather_flat(g, idx) if hasattr(g, "_data") else _gather_arr(g, idx),)


class GatherFlatBackward(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        idx, size = self.args
        return (_scatter_flat(g, idx, size) if hasattr(g, "_data") else _scatter_arr(g, idx, size),)


def _scatter_arr(g: Any, idx: Any, size: int) -> Any:
    """out[..., idx[..., j]] += g[..., j] over the last axis of (B, J) arrays -> (B, size)."""
    b = g.shape[0]
    xp = xp_of(g)
    flat = (idx + (xp.arange(b) * size)[:, None]).ravel()
    out = xp.bincount(flat, weights=g.ravel().astype(np.float64, copy=False), minlength=b * size)
    return out.astype(g.dtype, copy=False).reshape(b, size)


def _gather_arr(x: Any, idx: Any) -> Any:
    xp = xp_of(x)
    return xp.take_along_axis(x, idx, axis=1)


def _scatter_flat(g: Tensor, idx: Any, size: int) -> Tensor:
    r = wrap(_scatter_arr(g._data, idx, size))
    if gm.enabled and g._rg:
        record(ScatterFlatBackward, r, (g,), args=(idx,))
    return r


def _gather_flat(x: Tensor, idx: Any) -> Tensor:
    r = wrap(_gather_arr(x._data, idx))
    if gm.enabled and x._rg:
        record(GatherFlatBackward, r, (x,), args=(idx, x._data.shape[1]))
    return r


class MaxPool2DWithIndicesBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        idx, in_shape = self.args
        n, c, h, w = in_shape
        if hasattr(g, "_data"):
            gx = _scatter_flat(g.reshape(n * c, -1), idx, h * w)
        else:
            gx = _scatter_arr(g.reshape(n * c, -1), idx, h * w)
        return (F.reshape(gx, in_shape),)


def _windows(a: Any, k: tuple, s: tuple, p: tuple, d: tuple, ceil: bool, fill: float) -> tuple:
    """Strided view (N, C, OH, OW, kh, kw) over `a` padded with `fill`; also (OH, OW)."""
    n, c, h, w = a.shape
    oh = _pool_out(h, k[0], s[0], p[0], d[0], ceil)
    ow = _pool_out(w, k[1], s[1], p[1], d[1], ceil)
    need_h = (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1
    ph_hi = max(0, need_h - h - p[0])
    pw_hi = max(0, need_w - w - p[1])
    xp = xp_of(a)
    if p[0] or p[1] or ph_hi or pw_hi:
        big = xp.full((n, c, h + p[0] + ph_hi, w + p[1] + pw_hi), fill, a.dtype)
        big[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = a
        a = big
    sn, sc, sh, sw = a.strides
    view = xp.lib.stride_tricks.as_strided(
        a, (n, c, oh, ow, k[0], k[1]), (sn, sc, sh * s[0], sw * s[1], sh * d[0], sw * d[1])
    )
    return view, oh, ow


class MaxPool2x2Backward(Node):
    """The 2x2/stride-2 fast path: the gradient goes to the first corner holding the max."""

    __slots__ = ()

    def name(self) -> str:
        return "MaxPool2DWithIndicesBackward0"

    def backward(self, F: Any, g: Any, x: Any, m: Any) -> tuple:
        in_shape = x.shape
        n, c, h, w = in_shape
        if hasattr(g, "_data"):  # create_graph: the general scatter, differentiable
            pos = _corners(x._data, m._data)
            idx = _corner_index(pos, w).reshape(n * c, -1)
            gx = _scatter_flat(g.reshape(n * c, -1), idx, h * w)
            return (F.reshape(gx, in_shape),)
        oh, ow = m.shape[2:]
        xp = xp_of(g)
        gx = xp.zeros(in_shape, g.dtype)
        taken = None
        for di, dj in ((0, 0), (0, 1), (1, 0), (1, 1)):
            hit = x[:, :, di : 2 * oh : 2, dj : 2 * ow : 2] == m
            if taken is not None:
                hit &= ~taken
                taken |= hit
            else:
                taken = hit.copy()
            gx[:, :, di : 2 * oh : 2, dj : 2 * ow : 2] = g * hit
        return (gx,)


def _corners(a: Any, m: Any) -> Any:
    """Which corner (0..3, row-major) of each 2x2 window first holds its max (torch's choice)."""
    xp = xp_of(a)
    oh, ow = m.shape[2:]
    pos = xp.full(m.shape, 3, np.uint8)
    for k, (di, dj) in reversed(list(enumerate(((0, 0), (0, 1), (1, 0))))):
        pos[a[:, :, di : 2 * oh : 2, dj : 2 * ow : 2] == m] = k
    return pos


def _corner_index(pos: Any, w: int) -> Any:
    """Window corner 0..3 -> flat input index (row-major, as torch's indices)."""
    xp = xp_of(pos)
    oh, ow = pos.shape[2:]
    rows = xp.arange(oh)[:, None] * 2 + (pos >> 1)
    cols = xp.arange(ow)[None, :] * 2 + (pos & 1)
    return (rows * w + cols).astype(np.int64)


def _max_pool_2x2(input: Tensor, need_pos: bool = False) -> tuple[Tensor, Any]:
    """max over 2x2 windows with stride 2: two elementwise maxima of strided slices, no copy of
    the windows and no argmax; which corner won is worked out only when needed (backward,
    return_indices), keeping the first max as torch's kernel does."""
    a = input._data
    _n, _c, h, w = a.shape
    oh, ow = h // 2, w // 2
    xp = xp_of(a)
    top = xp.maximum(
        a[:, :, 0 : 2 * oh : 2, 0 : 2 * ow : 2], a[:, :, 0 : 2 * oh : 2, 1 : 2 * ow : 2]
    )
    bot = xp.maximum(
        a[:, :, 1 : 2 * oh : 2, 0 : 2 * ow : 2], a[:, :, 1 : 2 * oh : 2, 1 : 2 * ow : 2]
    )
    out = xp.maximum(top, bot)
    r = wrap(out)
    if gm.enabled and input._rg:
        record(MaxPool2x2Backward, r, (input,), saved=(input, r))
    return r, (_corners(a, out) if need_pos else None)


def max_pool2d_with_indices(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> tuple[Tensor, Tensor]:
    """Max over sliding windows; indices are flat positions in each input plane (as torch)."""
    v, i = _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, need_idx=True)
    return v, (i if isinstance(i, Tensor) else _make(_corner_index(i, input.shape[-1])))


def _max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    need_idx: bool = False,
) -> tuple[Tensor, Any]:
    """(values, indices Tensor or the 2x2 fast path's corner array (None unless need_idx))."""
    a = input._data
    if (
        a.ndim == 4
        and _tuple(kernel_size) == (2, 2)
        and (stride is None or stride == [] or _tuple(stride) == (2, 2))
        and _tuple(padding) == (0, 0)
        and _tuple(dilation) == (1, 1)
        and (not ceil_mode or (a.shape[2] % 2 == 0 and a.shape[3] % 2 == 0))
        and a.shape[2] >= 2
        and a.shape[3] >= 2
        and a.dtype.kind == "f"
    ):
        return _max_pool_2x2(input, need_idx)
    if a.ndim == 3:
        v, i = max_pool2d_with_indices(
            input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode
        )
        return v.squeeze(0), i.squeeze(0)
    if a.ndim != 4:
        raise RuntimeError(
            f"non-empty 3D or 4D (batch mode) tensor expected for input, but got: {list(a.shape)}"
        )
    k = _tuple(kernel_size)
    s = _tuple(stride) if stride is not None and stride != [] else k
    p, d = _tuple(padding), _tuple(dilation)
    if any(pp > kk // 2 for pp, kk in zip(p, k, strict=True)):
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={p[0]}, "
            f"kernel_size={k[0]} and dilation={d[0]}"
        )
    n, c, _h, w = a.shape
    view, oh, ow = _windows(a, k, s, p, d, ceil_mode, -np.inf)
    win = view.reshape(n, c, oh, ow, k[0] * k[1])
    arg = win.argmax(axis=-1)
    vals = (
        np.take_along_axis(win, arg[..., None], -1)[..., 0]
        if a.__class__ is np.ndarray
        else xp_of(a).take_along_axis(win, arg[..., None], -1)[..., 0]
    )
    # window position -> flat input index
    xp = xp_of(a)
    ki, kj = arg // k[1], arg % k[1]
    rows = xp.arange(oh)[:, None] * s[0] - p[0] + ki * d[0]
    cols = xp.arange(ow)[None, :] * s[1] - p[1] + kj * d[1]
    idx = (rows * w + cols).astype(np.int64)
    r = wrap(np.ascontiguousarray(vals) if a.__class__ is np.ndarray else vals)
    if gm.enabled and input._rg:
        record(MaxPool2DWithIndicesBackward0, r, (input,), args=(idx.reshape(n * c, -1), a.shape))
    return r, _make(idx)


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """2-D max pooling over (N, C, H, W) or (C, H, W)."""
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)[0]


def max_pool1d_with_indices(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> tuple[Tensor, Tensor]:
    k = _tuple(kernel_size, 1)[0]
    s = _tuple(stride, 1)[0] if stride is not None and stride != [] else k
    v, i = max_pool2d_with_indices(
        input.unsqueeze(-2),
        (1, k),
        (1, s),
        (0, _tuple(padding, 1)[0]),
        (1, _tuple(dilation, 1)[0]),
        ceil_mode,
    )
    return v.squeeze(-2), i.squeeze(-2)


def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """1-D max pooling over (N, C, L) or (C, L)."""
    v, i = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (v, i) if return_indices else v


def _avg_divisor(size: int, k: int, s: int, p: int, out: int, include_pad: bool) -> np.ndarray:
    starts = np.arange(out) * s - p
    ends = np.minimum(starts + k, size + p)
    if include_pad:
        return (ends - starts).astype(np.float64)
    return (np.minimum(ends, size) - np.maximum(starts, 0)).astype(np.float64)


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling: sum over each window (unfold) divided by torch's window count."""
    from ember.nn.functional._conv import unfold

    if input.ndim == 3:
        return avg_pool2d(
            input.unsqueeze(0),
            kernel_size,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
            divisor_override,
        ).squeeze(0)
    k = _tuple(kernel_size)
    s = _tuple(stride) if stride is not None and stride != [] else k
    p = _tuple(padding)
    if any(pp > kk // 2 for pp, kk in zip(p, k, strict=True)):
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={p[0]}, kernel_size={k[0]} and dilation=1"
        )
    n, c, h, w = input.shape
    oh = _pool_out(h, k[0], s[0], p[0], 1, ceil_mode)
    ow = _pool_out(w, k[1], s[1], p[1], 1, ceil_mode)
    x = input.reshape(n * c, 1, h, w)
    extra_h = max(0, (oh - 1) * s[0] + k[0] - (h + 2 * p[0]))
    extra_w = max(0, (ow - 1) * s[1] + k[1] - (w + 2 * p[1]))
    if extra_h or extra_w:
        from ember.ops import constant_pad

        x = constant_pad(x, [0, extra_w, 0, extra_h], 0.0)
    cols = unfold(x, k, 1, p, s)  # (N*C, kh*kw, OH*OW)
    total = cols.sum(1)
    if divisor_override:
        out = total / float(divisor_override)
    else:
        div = np.outer(
            _avg_divisor(h, k[0], s[0], p[0], oh, count_include_pad),
            _avg_divisor(w, k[1], s[1], p[1], ow, count_include_pad),
        )
        out = total / _make(
            xp_of(input._data).asarray(div.reshape(1, -1).astype(input._data.dtype))
        )
    return out.reshape(n, c, oh, ow)


def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling over (N, C, L) or (C, L)."""
    k = _tuple(kernel_size, 1)[0]
    s = _tuple(stride, 1)[0] if stride is not None and stride != [] else k
    out = avg_pool2d(
        input.unsqueeze(-2),
        (1, k),
        (1, s),
        (0, _tuple(padding, 1)[0]),
        ceil_mode,
        count_include_pad,
    )
    return out.squeeze(-2)


def _adaptive_ranges(size: int, out: int) -> list[tuple[int, int]]:
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _avg_matrix(size: int, out: int, dtype: Any, xp: Any) -> Any:
    m = np.zeros((out, size), np.float64)
    for i, (a, b) in enumerate(_adaptive_ranges(size, out)):
        m[i, a:b] = 1.0 / (b - a)
    return xp.asarray(m.astype(dtype))


def _adaptive_size(output_size: Any, shape: tuple, n: int) -> tuple[int, ...]:
    sz = (
        _tuple(output_size, n)
        if not isinstance(output_size, int | np.integer)
        else (int(output_size),) * n
    )
    return tuple(shape[-n + i] if v is None else int(v) for i, v in enumerate(sz))


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average over the adaptive windows torch uses: out = P_h @ x @ P_w^T."""
    oh, ow = _adaptive_size(output_size, tuple(input.shape), 2)
    h, w = input.shape[-2:]
    if (oh, ow) == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    if h % oh == 0 and w % ow == 0 and input.ndim == 4:
        return avg_pool2d(input, (h // oh, w // ow))
    xp = xp_of(input._data)
    ph = _make(_avg_matrix(h, oh, input._data.dtype, xp))
    pw = _make(_avg_matrix(w, ow, input._data.dtype, xp))
    return ph @ input @ pw.t()


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    o = _tuple(output_size, 1)[0]
    pm = _make(_avg_matrix(input.shape[-1], o, input._data.dtype, xp_of(input._data)))
    return input @ pm.t()


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over torch's adaptive windows (start=floor(i*H/OH), end=ceil((i+1)*H/OH))."""
    a = input._data
    squeeze = a.ndim == 3
    if squeeze:
        input = input.unsqueeze(0)
        a = input._data
    n, c, h, w = a.shape
    oh, ow = _adaptive_size(output_size, a.shape, 2)
    if h % oh == 0 and w % ow == 0:
        v, i = max_pool2d_with_indices(input, (h // oh, w // ow))
    else:
        rows, cols_ = [], []
        for hs, he in _adaptive_ranges(h, oh):
            for ws, we in _adaptive_ranges(w, ow):
                win = a[:, :, hs:he, ws:we].reshape(n, c, -1)
                j = win.argmax(-1)
                rows.append(hs + j // (we - ws))
                cols_.append(ws + j % (we - ws))
        idx = (np.stack(rows, -1) * w + np.stack(cols_, -1)).astype(np.int64)  # (N, C, OH*OW)
        g = _gather_flat(input.reshape(n * c, h * w), idx.reshape(n * c, -1))
        v, i = g.reshape(n, c, oh, ow), _make(idx.reshape(n, c, oh, ow))
    if squeeze:
        v, i = v.squeeze(0), i.squeeze(0)
    return (v, i) if return_indices else v


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    o = _tuple(output_size, 1)[0]
    v, i = adaptive_max_pool2d(input.unsqueeze(-2), (1, o), True)
    v, i = v.squeeze(-2), i.squeeze(-2)
    return (v, i) if return_indices else v


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """Place each value at its max-pool index in a zero canvas (inverse of max_pool2d)."""
    k = _tuple(kernel_size)
    s = _tuple(stride) if stride is not None else k
    p = _tuple(padding)
    n, c, h, w = input.shape if input.ndim == 4 else (1, *input.shape)
    if output_size is None:
        oh, ow = (h - 1) * s[0] - 2 * p[0] + k[0], (w - 1) * s[1] - 2 * p[1] + k[1]
    else:
        oh, ow = tuple(output_size)[-2:]
    out = _scatter_flat(input.reshape(n * c, h * w), indices._data.reshape(n * c, -1), oh * ow)
    return out.reshape((n, c, oh, ow) if input.ndim == 4 else (c, oh, ow))


def lp_pool2d(
    input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False
) -> Tensor:
    """(sum over window of x^p)^(1/p)."""
    k = _tuple(kernel_size)
    out = avg_pool2d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k[0] * k[1]).pow(1.0 / norm_type)


# ------------------------------------------------------------------------------ interpolation
def _interp_matrix(
    size_in: int, size_out: int, mode: str, align_corners: bool | None, scale: float | None
) -> np.ndarray:
    """(size_out, size_in) matrix M with out = M @ in along one axis (torch's index rules)."""
    m = np.zeros((size_out, size_in))
    dst = np.arange(size_out, dtype=np.float64)
    if mode == "nearest":
        s = (1.0 / scale) if scale else size_in / size_out
        src = np.minimum(np.floor(dst * s).astype(np.int64), size_in - 1)
        m[np.arange(size_out), src] = 1.0
        return m
    if mode == "nearest-exact":
        s = (1.0 / scale) if scale else size_in / size_out
        src = np.minimum(np.floor((dst + 0.5) * s).astype(np.int64), size_in - 1)
        m[np.arange(size_out), src] = 1.0
        return m
    if align_corners:
        src = dst * ((size_in - 1) / (size_out - 1)) if size_out > 1 else np.zeros(size_out)
    else:
        s = (1.0 / scale) if scale else size_in / size_out
        src = np.maximum((dst + 0.5) * s - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size_in - 1)
    i1 = np.minimum(i0 + 1, size_in - 1)
    lam = src - i0
    rows = np.arange(size_out)
    np.add.at(m, (rows, i0), 1.0 - lam)
    np.add.at(m, (rows, i1), lam)
    return m


def interpolate(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the trailing 1 or 2 spatial dims: nearest, nearest-exact, (bi)linear."""
    nd = input.ndim - 2
    if nd not in (1, 2):
        raise NotImplementedError(
            f"interpolate: only 3-D and 4-D inputs are supported (got {input.ndim}-D)"
        )
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if mode == "area":
        return (
            adaptive_avg_pool2d(
                input,
                size
                if size is not None
                else tuple(
                    int(s * f)
                    for s, f in zip(
                        input.shape[2:],
                        _tuple(scale_factor, nd)
                        if not isinstance(scale_factor, float)
                        else (scale_factor,) * nd,
                        strict=True,
                    )
                ),
            )
            if nd == 2
            else adaptive_avg_pool1d(input, size)
        )
    ins = tuple(input.shape[2:])
    if size is not None:
        outs = _tuple(size, nd)
        scales: tuple = (None,) * nd
    else:
        sf = (
            (float(scale_factor),) * nd
            if isinstance(scale_factor, int | float)
            else tuple(float(v) for v in scale_factor)
        )
        outs = tuple(math.floor(s * f) for s, f in zip(ins, sf, strict=True))
        scales = (None,) * nd if recompute_scale_factor else sf
    lin = {"linear": 1, "bilinear": 2}
    if mode in lin and lin[mode] != nd:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {lin[mode] + 2}D input"
        )
    if mode not in ("nearest", "nearest-exact", "linear", "bilinear"):
        raise NotImplementedError(f"interpolate: mode '{mode}' is not supported by ember")
    base = "nearest" if mode.startswith("nearest") else "linear"
    kind = mode if base == "nearest" else "linear"
    xp = xp_of(input._data)
    dt = input._data.dtype
    mats = [
        _make(xp.asarray(_interp_matrix(i, o, kind, align_corners, s).astype(dt)))
        for i, o, s in zip(ins, outs, scales, strict=True)
    ]
    if nd == 1:
        return input @ mats[0].t()
    return mats[0] @ input @ mats[1].t()


def upsample(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(N, C*r^2, H, W) -> (N, C, H*r, W*r)."""
    n, c, h, w = input.shape
    r = upscale_factor
    return (
        input.reshape(n, c // (r * r), r, r, h, w)
        .permute(0, 1, 4, 2, 5, 3)
        .reshape(n, c // (r * r), h * r, w * r)
    )


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(N, C, H*r, W*r) -> (N, C*r^2, H, W)."""
    n, c, h, w = input.shape
    r = downscale_factor
    return (
        input.reshape(n, c, h // r, r, w // r, r)
        .permute(0, 1, 3, 5, 2, 4)
        .reshape(n, c * r * r, h // r, w // r)
    )


__all__ += [
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
]
