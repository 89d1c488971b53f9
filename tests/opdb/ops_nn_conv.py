"""OpSpecs for convolution and pooling (ember/nn/functional/_conv.py, _pool.py)."""

from __future__ import annotations

import numpy as np

from tests.opdb.spec import OpSpec


def _np_conv2d(x, w, stride=1, padding=0, dilation=1, groups=1):
    """Direct (slow, obviously correct) cross-correlation, the NumPy reference."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    s, p, d = (stride, stride), (padding, padding), (dilation, dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - d[0] * (kh - 1) - 1) // s[0] + 1
    ow = (wd + 2 * p[1] - d[1] * (kw - 1) - 1) // s[1] + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(oh):
            for j in range(ow):
                patch = xp[
                    :,
                    g * cg : (g + 1) * cg,
                    i * s[0] : i * s[0] + d[0] * (kh - 1) + 1 : d[0],
                    j * s[1] : j * s[1] + d[1] * (kw - 1) + 1 : d[1],
                ]
                out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
    return out


def _np_maxpool(x, k, s):
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * s : i * s + k, j * s : j * s + k].max(axis=(2, 3))
    return out


def _np_avgpool(x, k, s):
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * s : i * s + k, j * s : j * s + k].mean(axis=(2, 3))
    return out


SPECS = [
    OpSpec(
        "conv2d",
        lambda T, x, w, b: T.nn.functional.conv2d(x, w, b),
        lambda x, w, b: _np_conv2d(x, w) + b[None, :, None, None],
        ((2, 3, 5, 5), (4, 3, 3, 3), (4,)),
    ),
    OpSpec(
        "conv2d_stride_pad_dil",
        lambda T, x, w: T.nn.functional.conv2d(x, w, stride=2, padding=1, dilation=2),
        lambda x, w: _np_conv2d(x, w, 2, 1, 2),
        ((1, 2, 7, 6), (3, 2, 2, 2)),
    ),
    OpSpec(
        "conv2d_groups",
        lambda T, x, w: T.nn.functional.conv2d(x, w, padding=1, groups=2),
        lambda x, w: _np_conv2d(x, w, 1, 1, 1, 2),
        ((2, 4, 4, 4), (6, 2, 3, 3)),
    ),
    OpSpec(
        "conv2d_depthwise",
        lambda T, x, w: T.nn.functional.conv2d(x, w, groups=3),
        lambda x, w: _np_conv2d(x, w, 1, 0, 1, 3),
        ((1, 3, 4, 4), (3, 1, 2, 2)),
    ),
    OpSpec(
        "conv1d",
        lambda T, x, w: T.nn.functional.conv1d(x, w, stride=2, padding=1),
        None,
        ((2, 3, 9), (4, 3, 3)),
        torch=True,
    ),
    OpSpec(
        "unfold",
        lambda T, x: T.nn.functional.unfold(x, (2, 3), padding=1, stride=2),
        None,
        ((2, 3, 5, 4),),
    ),
    OpSpec(
        "fold", lambda T, x: T.nn.functional.fold(x, (4, 5), 3, padding=1), None, ((2, 18, 20),)
    ),
    OpSpec(
        "max_pool2d",
        lambda T, x: T.nn.functional.max_pool2d(x, 2),
        lambda x: _np_maxpool(x, 2, 2),
        ((2, 3, 4, 6),),
        distinct=True,
    ),
    OpSpec(
        "max_pool2d_overlap",
        lambda T, x: T.nn.functional.max_pool2d(x, 3, stride=1),
        lambda x: _np_maxpool(x, 3, 1),
        ((1, 2, 5, 5),),
        distinct=True,
    ),
    OpSpec(
        "max_pool2d_pad_ceil",
        lambda T, x: T.nn.functional.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
        None,
        ((1, 2, 6, 7),),
        distinct=True,
    ),
    OpSpec(
        "max_pool1d",
        lambda T, x: T.nn.functional.max_pool1d(x, 2),
        None,
        ((2, 3, 8),),
        distinct=True,
    ),
    OpSpec(
        "avg_pool2d",
        lambda T, x: T.nn.functional.avg_pool2d(x, 2),
        lambda x: _np_avgpool(x, 2, 2),
        ((2, 3, 4, 6),),
    ),
    OpSpec(
        "avg_pool2d_pad",
        lambda T, x: T.nn.functional.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
        None,
        ((1, 2, 6, 7),),
    ),
    OpSpec(
        "avg_pool1d", lambda T, x: T.nn.functional.avg_pool1d(x, 3, stride=2), None, ((2, 3, 9),)
    ),
    OpSpec(
        "adaptive_avg_pool2d",
        lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, (3, 2)),
        None,
        ((2, 3, 7, 5),),
    ),
    OpSpec(
        "adaptive_avg_pool2d_global",
        lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, 1),
        lambda x: x.mean(axis=(2, 3), keepdims=True),
        ((2, 3, 4, 4),),
    ),
    OpSpec(
        "adaptive_avg_pool1d",
        lambda T, x: T.nn.functional.adaptive_avg_pool1d(x, 4),
        None,
        ((2, 3, 10),),
    ),
    OpSpec(
        "adaptive_max_pool2d",
        lambda T, x: T.nn.functional.adaptive_max_pool2d(x, (3, 2)),
        None,
        ((2, 3, 7, 5),),
        distinct=True,
    ),
    OpSpec(
        "adaptive_max_pool2d_div",
        lambda T, x: T.nn.functional.adaptive_max_pool2d(x, (2, 2)),
        None,
        ((1, 2, 4, 6),),
        distinct=True,
    ),
]
