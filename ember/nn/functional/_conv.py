"""Convolutions as compositions of two linear primitives, ``unfold`` (im2col) and ``fold``
(col2im), plus one batched GEMM.

``unfold`` and ``fold`` are adjoint to each other, so each one's backward is the other: conv,
its transpose and their gradients of any order need no hand-written backward beyond these two.

    conv2d(x, W) = (W.reshape(G, O/G, C/G*kh*kw) @ unfold(x).reshape(N, G, C/G*kh*kw, L))
                   .reshape(N, O, OH, OW) + b
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.autograd.grad_mode import state as gm
from ember.autograd.node import Node, record
from ember.backends import xp_of
from ember.ops._core import wrap
from ember.tensor import Tensor

__all__ = [
    "unfold", "fold", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_tbc",
]  # fmt: skip


def _pair(v: Any, n: int = 2) -> tuple[int, ...]:
    if isinstance(v, int | np.integer):
        return (int(v),) * n
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise ValueError(f"expected {n} values, got {v}")
    return v


def _out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _patches(x: Any, k: tuple, d: tuple, p: tuple, s: tuple, batch_inner: bool) -> tuple:
    """A strided view of every kernel window of zero-padded x: (N, C, kh, kw, OH, OW), or
    (C, kh, kw, N, OH, OW) with `batch_inner` (the GEMM-friendly column order); and (OH, OW)."""
    n, c, h, w = x.shape
    xp = xp_of(x)
    if p[0] or p[1]:
        padded = xp.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), x.dtype)
        padded[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = x
        x = padded
    oh = _out_size(h, k[0], s[0], p[0], d[0])
    ow = _out_size(w, k[1], s[1], p[1], d[1])
    if oh <= 0 or ow <= 0:
        raise RuntimeError(
            f"Calculated output size: ({oh}x{ow}). Output size is too small (input ({h}x{w}), "
            f"kernel {k}, padding {p}, stride {s}, dilation {d})"
        )
    sn, sc, sh, sw = x.strides
    win = (k[0], k[1]), (sh * d[0], sw * d[1])
    out = (oh, ow), (sh * s[0], sw * s[1])
    if batch_inner:
        shape, strides = (c, *win[0], n, *out[0]), (sc, *win[1], sn, *out[1])
    else:
        shape, strides = (n, c, *win[0], *out[0]), (sn, sc, *win[1], *out[1])
    return xp.lib.stride_tricks.as_strided(x, shape, strides), (oh, ow)


def _im2col(x: Any, k: tuple, d: tuple, p: tuple, s: tuple) -> Any:
    """(N, C, H, W) -> (N, C*kh*kw, OH*OW) through one strided view and one copy."""
    view, (oh, ow) = _patches(x, k, d, p, s, batch_inner=False)
    n, c = x.shape[:2]
    cols = view.reshape(n, c * k[0] * k[1], oh * ow)
    # a 1x1 window with stride 1 reshapes without copying: unfold must not alias its input
    return (cols.copy() if k == (1, 1) and s == (1, 1) and not (p[0] or p[1]) else cols), (oh, ow)


def _col2im(cols: Any, hw: tuple, k: tuple, d: tuple, p: tuple, s: tuple) -> Any:
    """Adjoint of _im2col: (N, C*kh*kw, OH*OW) -> (N, C, H, W), summing overlaps."""
    n, ckk, _ = cols.shape
    c = ckk // (k[0] * k[1])
    h, w = hw
    oh = _out_size(h, k[0], s[0], p[0], d[0])
    ow = _out_size(w, k[1], s[1], p[1], d[1])
    from ember.backends import xp_of

    xp = xp_of(cols)
    out = xp.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), cols.dtype)
    cols6 = cols.reshape(n, c, k[0], k[1], oh, ow)
    for i in range(k[0]):
        hi = i * d[0]
        for j in range(k[1]):
            wj = j * d[1]
            out[
                :, :, hi : hi + s[0] * (oh - 1) + 1 : s[0], wj : wj + s[1] * (ow - 1) + 1 : s[1]
            ] += cols6[:, :, i, j]
    if p[0] or p[1]:
        out = xp.ascontiguousarray(out[:, :, p[0] : p[0] + h, p[1] : p[1] + w])  # as torch's
    return out


class Im2ColBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        hw, k, d, p, s = self.args
        return (fold(g, hw, k, d, p, s) if hasattr(g, "_data") else _col2im(g, hw, k, d, p, s),)


class Col2ImBackward0(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        k, d, p, s = self.args
        return (unfold(g, k, d, p, s) if hasattr(g, "_data") else _im2col(g, k, d, p, s)[0],)


def unfold(
    input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L) (torch.nn.functional.unfold)."""
    a = input._data
    if a.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    if a.ndim != 4:
        raise NotImplementedError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {a.ndim}D)"
        )
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    cols, _ = _im2col(a, k, d, p, s)
    r = wrap(cols)
    if gm.enabled and input._rg:
        record(Im2ColBackward0, r, (input,), args=(a.shape[2:], k, d, p, s))
    return r


def fold(
    input: Tensor,
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Tensor:
    """Combine sliding blocks, summing overlaps: (N, C*kh*kw, L) -> (N, C, H, W)."""
    a = input._data
    if a.ndim == 2:
        return fold(
            input.unsqueeze(0), output_size, kernel_size, dilation, padding, stride
        ).squeeze(0)
    if a.ndim != 3:
        raise NotImplementedError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got {a.ndim}D)"
        )
    hw, k, d, p, s = (
        _pair(output_size),
        _pair(kernel_size),
        _pair(dilation),
        _pair(padding),
        _pair(stride),
    )
    if a.shape[1] % (k[0] * k[1]):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
            f"but got input.size(1)={a.shape[1]} and kernel_size={k}"
        )
    L = _out_size(hw[0], k[0], s[0], p[0], d[0]) * _out_size(hw[1], k[1], s[1], p[1], d[1])
    if a.shape[2] != L:
        raise RuntimeError(
            f"Given output_size={hw}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
            f"expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {L}, but got input.size(2)={a.shape[2]}."
        )
    r = wrap(_col2im(a, hw, k, d, p, s))
    if gm.enabled and input._rg:
        record(Col2ImBackward0, r, (input,), args=(k, d, p, s))
    return r


def _im2col_t(x: Any, k: tuple, d: tuple, p: tuple, s: tuple) -> tuple[Any, tuple]:
    """(N, C, H, W) -> (C*kh*kw, N*OH*OW): the GEMM-friendly layout (one copy)."""
    view, (oh, ow) = _patches(x, k, d, p, s, batch_inner=True)
    n, c = x.shape[:2]
    return view.reshape(c * k[0] * k[1], n * oh * ow), (oh, ow)


def _col2im_t(cols: Any, shape: tuple, k: tuple, d: tuple, p: tuple, s: tuple) -> Any:
    """Adjoint of _im2col_t: (C*kh*kw, N*OH*OW) -> (N, C, H, W), summing overlaps."""
    n, c, h, w = shape
    oh = _out_size(h, k[0], s[0], p[0], d[0])
    ow = _out_size(w, k[1], s[1], p[1], d[1])
    xp = xp_of(cols)
    # accumulate in the (C, N, H, W) layout the columns already have (contiguous adds), then one
    # transposing copy to NCHW
    acc = xp.zeros((c, n, h + 2 * p[0], w + 2 * p[1]), cols.dtype)
    c6 = cols.reshape(c, k[0], k[1], n, oh, ow)
    for i in range(k[0]):
        for j in range(k[1]):
            hi, wj = i * d[0], j * d[1]
            acc[
                :, :, hi : hi + s[0] * (oh - 1) + 1 : s[0], wj : wj + s[1] * (ow - 1) + 1 : s[1]
            ] += c6[:, i, j]
    if p[0] or p[1]:
        acc = acc[:, :, p[0] : p[0] + h, p[1] : p[1] + w]
    return xp.ascontiguousarray(acc.transpose(1, 0, 2, 3))


class ConvolutionBackward0(Node):
    """conv2d without bias. Fast path: two GEMMs on the saved im2col buffer. Under create_graph:
    the same math with differentiable unfold/fold/matmul, so higher derivatives work."""

    __slots__ = ()

    def backward(self, F: Any, g: Any, x: Any, w: Any) -> tuple:
        k, d, p, s, groups, cols = self.args
        o = w.shape[0]
        x.shape[0]
        if hasattr(g, "_data"):  # differentiable path
            return _conv_backward_graph(g, x, w, k, d, p, s, groups)
        gx = gw = None
        if groups == 1:  # plain 2-D GEMMs: BLAS handles the transposed operands directly
            g2d = g.transpose(1, 0, 2, 3).reshape(o, -1)  # (O, N*L), one copy
            if self.edges[1] is not None:
                gw = (g2d @ cols.T).reshape(w.shape)
            if self.edges[0] is not None:
                gx = _col2im_t(w.reshape(o, -1).T @ g2d, x.shape, k, d, p, s)
            return gx, gw
        g2 = g.transpose(1, 0, 2, 3).reshape(groups, o // groups, -1)  # (G, O/G, N*L)
        if self.edges[1] is not None:
            gw = (
                g2 @ cols.reshape(groups, cols.shape[0] // groups, -1).transpose(0, 2, 1)
            ).reshape(w.shape)
        if self.edges[0] is not None:
            w3 = w.reshape(groups, o // groups, -1)
            gcols = (w3.transpose(0, 2, 1) @ g2).reshape(cols.shape)
            gx = _col2im_t(gcols, x.shape, k, d, p, s)
        return gx, gw


def _conv_backward_graph(
    g: Any, x: Any, w: Any, k: tuple, d: tuple, p: tuple, s: tuple, groups: int
) -> tuple:
    n, _c = x.shape[0], x.shape[1]
    o = w.shape[0]
    g3 = g.reshape(n, groups, o // groups, -1)  # (N, G, O/G, L)
    cols = unfold(x, k, d, p, s).reshape(n, groups, -1, g3.shape[-1])  # (N, G, Cg*kk, L)
    gw = (g3 @ cols.transpose(-1, -2)).sum(0).reshape(w.shape)
    w3 = w.reshape(groups, o // groups, -1)
    gcols = (w3.transpose(-1, -2) @ g3).reshape(n, -1, g3.shape[-1])
    gx = fold(gcols, tuple(x.shape[2:]), k, d, p, s)
    return gx, gw


def _conv2d_prim(
    x: Tensor, w: Tensor, k: tuple, d: tuple, p: tuple, s: tuple, groups: int
) -> Tensor:
    a, wa = x._data, w._data
    n = a.shape[0]
    o = wa.shape[0]
    cols, (oh, ow) = _im2col_t(a, k, d, p, s)  # (C*kk, N*L)
    if groups == 1:
        out = wa.reshape(o, -1) @ cols  # (O, N*L): one GEMM
    else:
        out = wa.reshape(groups, o // groups, -1) @ cols.reshape(
            groups, cols.shape[0] // groups, -1
        )
    xp = xp_of(a)
    r = wrap(xp.ascontiguousarray(out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)))
    if gm.enabled and (x._rg or w._rg):
        record(ConvolutionBackward0, r, (x, w), saved=(x, w), args=(k, d, p, s, groups, cols))
    return r


def _check_conv(x: Tensor, w: Tensor, groups: int, nd: int, transposed: bool = False) -> None:
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to conv{nd}d, but got "
            f"input of size: {list(x.shape)}"
        )
    if w.ndim != nd + 2:
        raise RuntimeError(f"weight should have {nd + 2} dimensions, got {w.ndim}")
    cin = x.shape[-nd - 1]
    if not transposed and cin != w.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(w.shape)}, expected input"
            f"{list(x.shape)} to have {w.shape[1] * groups} channels, but got {cin} channels instead"
        )
    if transposed and cin != w.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(w.shape)}, expected input{list(x.shape)} to "
            f"have {w.shape[0]} channels, but got {cin} channels instead"
        )
    if x.dtype != w.dtype:
        raise RuntimeError(f"Input type ({x.dtype}) and weight type ({w.dtype}) should be the same")


def _same_padding(k: tuple, d: tuple) -> tuple[tuple[int, int], ...]:
    """'same' padding per dim as (before, after); torch pads the extra element at the end."""
    res = []
    for kk, dd in zip(k, d, strict=True):
        total = dd * (kk - 1)
        res.append((total // 2, total - total // 2))
    return tuple(res)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation) over (N, C, H, W) or (C, H, W) input."""
    _check_conv(input, weight, groups, 2)
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(
            0
        )
    k = tuple(weight.shape[2:])
    s, d = _pair(stride), _pair(dilation)
    if isinstance(padding, str):
        if padding == "valid":
            p = (0, 0)
        elif padding == "same":
            if any(v != 1 for v in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = _same_padding(k, d)
            if any(a != b for a, b in pads):
                from ember.ops import constant_pad

                input = constant_pad(input, [pads[1][0], pads[1][1], pads[0][0], pads[0][1]], 0.0)
                p = (0, 0)
            else:
                p = (pads[0][0], pads[1][0])
        else:
            raise ValueError(
                f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}"
            )
    else:
        p = _pair(padding)
    o = weight.shape[0]
    out = _conv2d_prim(input, weight, k, d, p, s, groups)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return out


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution over (N, C, L) or (C, L): conv2d on a height-1 image."""
    _check_conv(input, weight, groups, 1)
    if input.ndim == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(
            0
        )
    pad = padding if isinstance(padding, str) else (0, _pair(padding, 1)[0])
    out = conv2d(
        input.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        (1, _pair(stride, 1)[0]),
        pad,
        (1, _pair(dilation, 1)[0]),
        groups,
    )
    return out.squeeze(2)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution as a sum of 2-D convolutions over the depth taps."""
    _check_conv(input, weight, groups, 3)
    if input.ndim == 4:
        return conv3d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(
            0
        )
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        else:
            raise NotImplementedError("conv3d: padding='same' is not supported yet")
    s, p, d = _pair(stride, 3), _pair(padding, 3), _pair(dilation, 3)
    _n, _c, dd, _h, _w = input.shape
    kd = weight.shape[2]
    if p[0]:
        from ember.ops import constant_pad

        input = constant_pad(input, [0, 0, 0, 0, p[0], p[0]], 0.0)
    od = _out_size(dd, kd, s[0], p[0], d[0])
    outs = []
    for z in range(od):
        acc = None
        for t in range(kd):
            sl = input[:, :, z * s[0] + t * d[0]]
            y = conv2d(sl, weight[:, :, t], None, s[1:], p[1:], d[1:], groups)
            acc = y if acc is None else acc + y
        outs.append(acc)
    from ember.ops import stack

    out = stack(outs, 2)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed 2-D convolution: the adjoint of conv2d, fold(W^T @ x) (weight (Cin, Cout/G, kh, kw))."""
    _check_conv(input, weight, groups, 2, transposed=True)
    if input.ndim == 3:
        return conv_transpose2d(
            input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    n, cin, h, w = input.shape
    k = tuple(weight.shape[2:])
    s, p, op, d = _pair(stride), _pair(padding), _pair(output_padding), _pair(dilation)
    if any(o >= max(ss, dd) for o, ss, dd in zip(op, s, d, strict=True)):
        raise RuntimeError("output padding must be smaller than either stride or dilation")
    cout_g = weight.shape[1]
    oh = (h - 1) * s[0] - 2 * p[0] + d[0] * (k[0] - 1) + op[0] + 1
    ow = (w - 1) * s[1] - 2 * p[1] + d[1] * (k[1] - 1) + op[1] + 1
    x = input.reshape(n, groups, cin // groups, h * w)
    wt = weight.reshape(groups, cin // groups, cout_g * k[0] * k[1]).transpose(
        1, 2
    )  # (G, Cout/G*kk, Cin/G)
    cols = (wt @ x).reshape(n, groups * cout_g * k[0] * k[1], h * w)
    # fold onto the full (output_padding-extended) canvas, then crop the padding
    out = fold(cols, (oh + 2 * p[0], ow + 2 * p[1]), k, d, 0, s)
    if p[0] or p[1]:
        out = out[:, :, p[0] : p[0] + oh, p[1] : p[1] + ow].contiguous()  # torch: contiguous
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed 1-D convolution (via the 2-D one on a height-1 image)."""
    if input.ndim == 2:
        return conv_transpose1d(
            input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    one = lambda v: (1, _pair(v, 1)[0]) if not isinstance(v, str) else v
    out = conv_transpose2d(
        input.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        one(stride),
        (0, _pair(padding, 1)[0]),
        (0, _pair(output_padding, 1)[0]),
        groups,
        one(dilation),
    )
    return out.squeeze(2)


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:
    """Time-batch-channel 1-D convolution (torch.conv_tbc)."""
    x = input.permute(1, 2, 0)
    out = conv1d(x, weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)
