"""Image functions with torchvision.transforms.functional's names and tensor semantics.

Images are CHW (or ..., C, H, W) tensors, or HxW / HxWxC NumPy arrays standing in for PIL
images (no PIL here). Geometry follows torchvision's tensor path; uint8 arrays are resized in
float32 and rounded, like uint8 tensors (PIL's own resampling differs slightly).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np

from ember import dtypes
from ember.tensor import Tensor, _make

__all__ = [
    "InterpolationMode", "center_crop", "convert_image_dtype", "crop", "get_dimensions",
    "hflip", "normalize", "pad", "resize", "to_tensor", "vflip",
]  # fmt: skip


class InterpolationMode(Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _is_array(img: Any) -> bool:
    return isinstance(img, np.ndarray)


def _check_image(img: Any) -> None:
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"Tensor is not a torch image (expected >= 2 dims, got {img.ndim}).")
    elif _is_array(img):
        if img.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {img.ndim} dimensions.")
    else:
        raise TypeError(f"img should be a Tensor or a NumPy array. Got {type(img)}")


def get_dimensions(img: Any) -> list[int]:
    """[channels, height, width]."""
    _check_image(img)
    if _is_array(img):
        return [1 if img.ndim == 2 else img.shape[2], img.shape[0], img.shape[1]]
    s = img.shape
    return [1 if img.ndim == 2 else s[-3], s[-2], s[-1]]


def _hw_first(img: Any) -> tuple[np.ndarray, Any]:
    """The image as a (..., H, W) array and a function rebuilding the original kind."""
    if _is_array(img):
        if img.ndim == 3:  # HWC -> CHW and back
            return np.moveaxis(img, 2, 0), lambda a: np.ascontiguousarray(np.moveaxis(a, 0, 2))
        return img, lambda a: a
    return img._host(), lambda a: _make(np.ascontiguousarray(a))


# ------------------------------------------------------------------------------ conversion
def to_tensor(pic: Any) -> Tensor:
    """HxW or HxWxC array -> CxHxW tensor; uint8 is scaled to [0, 1] in the default dtype."""
    if not _is_array(pic):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    a = pic[None] if pic.ndim == 2 else pic.transpose(2, 0, 1)
    if a.dtype == np.uint8:
        return _make(a.astype(dtypes.get_default_dtype().np) / np.float32(255))
    return _make(np.ascontiguousarray(a))


def _max_value(dt: np.dtype) -> int:
    return 1 if dt == np.bool_ else int(np.iinfo(dt).max)


def convert_image_dtype(image: Tensor, dtype: Any = None) -> Tensor:
    """Convert with rescaling (ints span [0, max], floats [0, 1]), as torchvision."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    target = dtypes.float32 if dtype is None else dtype
    src, dst = image._data.dtype, target.np
    if src == dst:
        return image
    a = image._data
    if src.kind == "f":
        if dst.kind == "f":
            return _make(a.astype(dst))
        if (src == np.float32 and dst in (np.int32, np.int64)) or (
            src == np.float64 and dst == np.int64
        ):
            raise RuntimeError(
                f"The cast from {image.dtype} to {target} cannot be performed safely."
            )
        return _make((a * (_max_value(dst) + 1.0 - 1e-3)).astype(dst))
    in_max = _max_value(src)
    if dst.kind == "f":
        return _make(a.astype(dst) / dst.type(in_max))
    out_max = _max_value(dst)
    if in_max > out_max:
        return _make((a // ((in_max + 1) // (out_max + 1))).astype(dst))
    return _make(a.astype(dst) * ((out_max + 1) // (in_max + 1)))


def normalize(
    tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False
) -> Tensor:
    """(tensor - mean) / std per channel of a (..., C, H, W) float tensor."""
    from ember.ops.creation import as_tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(
            "Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
            f"{tensor.size()}"
        )
    if not inplace:
        tensor = tensor.clone()
    m = as_tensor(mean, dtype=tensor.dtype)
    s = as_tensor(std, dtype=tensor.dtype)
    if (s == 0).any():
        raise ValueError(
            f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero."
        )
    if m.ndim == 1:
        m = m.view(-1, 1, 1)
    if s.ndim == 1:
        s = s.view(-1, 1, 1)
    return tensor.sub_(m).div_(s)


# ------------------------------------------------------------------------------ geometry
def hflip(img: Any) -> Any:
    _check_image(img)
    if _is_array(img):
        return np.ascontiguousarray(img[:, ::-1])
    return img.flip(-1)


def vflip(img: Any) -> Any:
    _check_image(img)
    if _is_array(img):
        return np.ascontiguousarray(img[::-1])
    return img.flip(-2)


def _ltrb(padding: Any) -> tuple[int, int, int, int]:
    if isinstance(padding, numbers.Number):
        p = int(padding)  # type: ignore[call-overload]
        return p, p, p, p
    padding = list(padding)
    if len(padding) == 1:
        return (int(padding[0]),) * 4  # type: ignore[return-value]
    if len(padding) == 2:
        return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
    if len(padding) == 4:
        return int(padding[0]), int(padding[1]), int(padding[2]), int(padding[3])
    raise ValueError(
        f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple"
    )


_PAD_MODES = {
    "constant": "constant",
    "edge": "edge",
    "reflect": "reflect",
    "symmetric": "symmetric",
}


def pad(img: Any, padding: Any, fill: float = 0, padding_mode: str = "constant") -> Any:
    """Pad the H and W borders: int, (left/right, top/bottom) or (left, top, right, bottom)."""
    _check_image(img)
    if padding_mode not in _PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _ltrb(padding)
    a, back = _hw_first(img)
    if min(left, top, right, bottom) < 0:  # negative padding crops, as torchvision allows
        h, w = a.shape[-2:]
        a = a[..., max(-top, 0) : h - max(-bottom, 0), max(-left, 0) : w - max(-right, 0)]
        left, top, right, bottom = (max(v, 0) for v in (left, top, right, bottom))
    widths = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
    kw = {"constant_values": fill} if padding_mode == "constant" else {}
    return back(np.pad(a, widths, mode=_PAD_MODES[padding_mode], **kw))  # type: ignore[call-overload]


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The region [top, top+height) x [left, left+width); zero-padded where it leaves the image."""
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        a, back = _hw_first(img)
        a = a[..., max(top, 0) : min(bottom, h), max(left, 0) : min(right, w)]
        padding = [max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0)]
        return pad(back(a), padding, fill=0)
    if _is_array(img):
        return np.ascontiguousarray(img[top:bottom, left:right])
    return img[..., top:bottom, left:right]


def _pair(size: Any, name: str = "size") -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)  # type: ignore[call-overload]
    size = list(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for {name}.")
    return int(size[0]), int(size[1])


def center_crop(img: Any, output_size: Any) -> Any:
    """Crop the center (padding with zeros when the crop is larger than the image)."""
    ch, cw = _pair(output_size)
    _, h, w = get_dimensions(img)
    if cw > w or ch > h:
        padding = [
            (cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
            (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0,
        ]  # fmt: skip
        img = pad(img, padding, fill=0)
        _, h, w = get_dimensions(img)
        if cw == w and ch == h:
            return img
    top = round((h - ch) / 2.0)
    left = round((w - cw) / 2.0)
    return crop(img, top, left, ch, cw)


def _resized_size(h: int, w: int, size: Any, max_size: int | None) -> tuple[int, int]:
    if isinstance(size, int) or (isinstance(size, Sequence) and len(size) == 1):
        short, long = (w, h) if w <= h else (h, w)
        new_short = size if isinstance(size, int) else size[0]
        new_long = int(new_short * long / short)
        if max_size is not None:
            if max_size <= new_short:
                raise ValueError(
                    f"max_size = {max_size} must be strictly greater than the requested size for "
                    f"the smaller edge size = {size}"
                )
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if max_size is not None:
        raise ValueError(
            "max_size should only be passed if size specifies the length of the smaller edge, "
            "i.e. size should be an int or a sequence of length 1 in torchscript mode."
        )
    return int(size[0]), int(size[1])


def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    # torch's legacy 'nearest': floor(dst * in/out) in float32, clamped
    scale = np.float32(n_in) / np.float32(n_out)
    idx = np.floor(np.arange(n_out, dtype=np.float32) * scale).astype(np.int64)
    return np.minimum(idx, n_in - 1)


def _linear_weights(n_in: int, n_out: int, antialias: bool) -> np.ndarray:
    """(n_out, n_in) interpolation matrix: bilinear (align_corners=False) or its AA version."""
    scale = n_in / n_out
    w = np.zeros((n_out, n_in), np.float64)
    if antialias:  # torch's _upsample_bilinear2d_aa: a triangle filter widened by the scale
        support = scale if scale >= 1.0 else 1.0
        invscale = 1.0 / scale if scale >= 1.0 else 1.0
        for i in range(n_out):
            center = scale * (i + 0.5)
            lo = max(int(center - support + 0.5), 0)
            hi = min(int(center + support + 0.5), n_in)
            j = np.arange(lo, hi)
            k = np.maximum(0.0, 1.0 - np.abs((j - center + 0.5) * invscale))
            total = k.sum()
            w[i, lo:hi] = k / total if total else 0.0
        return w
    src = np.maximum((np.arange(n_out) + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    rows = np.arange(n_out)
    np.add.at(w, (rows, i0), 1.0 - lam)
    np.add.at(w, (rows, i1), lam)
    return w


def resize(
    img: Any,
    size: Any,
    interpolation: InterpolationMode | str = InterpolationMode.BILINEAR,
    max_size: int | None = None,
    antialias: bool | None = True,
) -> Any:
    """Resize H and W to ``size`` ((h, w), or an int for the shorter edge keeping aspect)."""
    mode = InterpolationMode(interpolation).value
    _, h, w = get_dimensions(img)
    oh, ow = _resized_size(h, w, size, max_size)
    if (oh, ow) == (h, w):
        return img
    a, back = _hw_first(img)
    if mode == "nearest":
        out = a[..., _nearest_index(h, oh)[:, None], _nearest_index(w, ow)]
        return back(np.ascontiguousarray(out))
    ft = a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)
    wh = _linear_weights(h, oh, bool(antialias)).astype(ft)
    ww = _linear_weights(w, ow, bool(antialias)).astype(ft)
    out = wh @ a.astype(ft, copy=False) @ ww.T
    if a.dtype.kind != "f":  # integer images: round back, as torchvision does for uint8 tensors
        info = np.iinfo(a.dtype)
        out = np.clip(np.round(out), info.min, info.max).astype(a.dtype)
    return back(out)
