"""ember.transforms: torchvision.transforms' semantics on CHW tensors and HxW(xC) arrays."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.transforms as T
import ember.transforms.functional as F
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")


def _img(h=6, w=8, c=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (h, w) if c is None else (h, w, c)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def test_to_tensor():
    a = _img()
    t = T.ToTensor()(a)
    assert t.dtype == ember.float32 and tuple(t.shape) == (1, 6, 8)
    np.testing.assert_allclose(t.numpy()[0], a / np.float32(255), rtol=1e-6)
    rgb = _img(c=3)
    t3 = T.ToTensor()(rgb)
    assert tuple(t3.shape) == (3, 6, 8)
    np.testing.assert_array_equal(t3.numpy()[2], rgb[:, :, 2] / np.float32(255))
    f = np.ones((2, 2), np.float64)
    assert T.ToTensor()(f).dtype == ember.float64  # non-uint8 arrays are not rescaled
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()(ember.zeros(2, 2))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional"):
        T.ToTensor()(np.zeros(3, np.uint8))


@needs_torch
@pytest.mark.parametrize("inplace", [False, True])
def test_normalize_matches_torch_formula(inplace):
    x = np.random.rand(3, 4, 5).astype(np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    t = ember.from_numpy(x.copy())
    out = T.Normalize(mean, std, inplace=inplace)(t)
    ref = (torch.from_numpy(x) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[
        :, None, None
    ]
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    assert (out is t) == inplace
    assert repr(T.Normalize(mean, std)) == "Normalize(mean=(0.1, 0.2, 0.3), std=(0.5, 0.25, 2.0))"


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        T.Normalize((0,), (1,))(ember.zeros(1, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0,), (0,))(ember.zeros(1, 2, 2))
    with pytest.raises(
        ValueError, match=r"Expected tensor to be a tensor image of size \(\.\.\., C, H, W\)"
    ):
        T.Normalize((0,), (1,))(ember.zeros(2, 2))
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.Normalize((0,), (1,))(np.zeros((1, 2, 2)))


def test_compose_and_lambda():
    c = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.Normalize((1.0,), (1.0,))])
    out = c(np.full((2, 2), 255, np.uint8))
    np.testing.assert_allclose(out.numpy(), 1.0)
    assert repr(c).startswith("Compose(\n    ToTensor()\n    Lambda()")
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


@pytest.mark.parametrize("kind", ["array", "rgb array", "tensor"])
def test_random_crop_and_center_crop(kind):
    a = _img(6, 8, 3 if kind == "rgb array" else None)
    img = ember.from_numpy(a[None].copy()) if kind == "tensor" else a
    view = (lambda o: o.numpy()[0]) if kind == "tensor" else (lambda o: o)
    ember.manual_seed(0)
    out = T.RandomCrop((4, 5))(img)
    ember.manual_seed(0)
    again = T.RandomCrop((4, 5))(img)
    np.testing.assert_array_equal(view(out), view(again))  # ember's RNG drives the offsets
    o = view(out)
    assert o.shape[:2] == (4, 5)
    hits = [
        (i, j) for i in range(3) for j in range(4) if np.array_equal(a[i : i + 4, j : j + 5], o)
    ]
    assert hits
    cc = view(T.CenterCrop(4)(img))
    np.testing.assert_array_equal(cc, a[1:5, 2:6])
    padded = view(T.RandomCrop(8, padding=1)(img))
    assert padded.shape[:2] == (8, 8)
    big = view(T.CenterCrop((8, 10))(img))  # larger than the image: zero padding around it
    np.testing.assert_array_equal(big[1:7, 1:9], a)
    assert big[0].sum() == 0
    with pytest.raises(ValueError, match="Required crop size"):
        T.RandomCrop(9)(img)


def test_random_crop_pad_if_needed_and_modes():
    a = _img(3, 3)
    out = T.RandomCrop(5, pad_if_needed=True)(a)
    assert out.shape == (5, 5)
    r = F.pad(a, 1, padding_mode="reflect")
    np.testing.assert_array_equal(r, np.pad(a, 1, mode="reflect"))
    e = F.pad(ember.from_numpy(a[None].copy()), [1, 2], padding_mode="edge")
    np.testing.assert_array_equal(e.numpy()[0], np.pad(a, ((2, 2), (1, 1)), mode="edge"))
    with pytest.raises(ValueError, match="Padding mode should be either"):
        T.Pad(1, padding_mode="wrap")


def test_flips_use_ember_rng():
    a = _img()
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(a), a[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(a), a)
    t = ember.from_numpy(a[None].astype(np.float32))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(t).numpy()[0], a[:, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(1.0)(a), a[::-1])
    ember.manual_seed(1)
    flips = [T.RandomHorizontalFlip()(a) is a for _ in range(40)]
    ember.manual_seed(1)
    assert flips == [T.RandomHorizontalFlip()(a) is a for _ in range(40)]
    assert 5 < sum(flips) < 35


@needs_torch
@pytest.mark.parametrize("size", [(3, 4), (12, 20), (6, 3), 4, [9]])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_matches_torch_interpolate(size, mode, antialias):
    x = np.random.rand(2, 6, 8).astype(np.float32)
    out = T.Resize(size, interpolation=mode, antialias=antialias)(ember.from_numpy(x))
    h, w = out.shape[-2:]
    if isinstance(size, int) or len(size) == 1:  # shorter edge, aspect kept (torchvision rule)
        s = size if isinstance(size, int) else size[0]
        assert (h, w) == (s, int(s * 8 / 6))
    kw = {"align_corners": False, "antialias": antialias} if mode == "bilinear" else {}
    ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=(h, w), mode=mode, **kw)
    np.testing.assert_allclose(out.numpy(), ref[0].numpy(), atol=2e-6)


def test_resize_uint8_array_rounds():
    a = _img(4, 4)
    out = T.Resize((2, 2), antialias=False)(a)  # halving: bilinear averages 2x2 blocks
    assert out.dtype == np.uint8 and out.shape == (2, 2)
    np.testing.assert_array_equal(out, np.round(a.reshape(2, 2, 2, 2).mean(axis=(1, 3))))
    aa = T.Resize((2, 2))(a)  # antialiased: the float path, rounded (uint8 tensor rule)
    ref = F.resize(ember.from_numpy(a[None].astype(np.float32)), (2, 2)).numpy()[0]
    np.testing.assert_array_equal(aa, np.round(ref))
    assert T.Resize((4, 4))(a) is a
    assert "interpolation=bilinear" in repr(T.Resize(3))


def test_convert_image_dtype():
    u = ember.tensor([[[0, 128, 255]]], dtype=ember.uint8)
    f = T.ConvertImageDtype(ember.float32)(u)
    np.testing.assert_allclose(f.numpy(), [[[0.0, 128 / 255, 1.0]]], rtol=1e-6)
    back = F.convert_image_dtype(f, ember.uint8)
    np.testing.assert_array_equal(
        back.numpy(), [[[0, 128, 255]]]
    )  # x * (255 + 1 - 1e-3), truncated
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(f, ember.int64)


def test_random_transforms_differ_between_workers():
    from ember.utils.data import DataLoader, Dataset

    class Crops(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return T.RandomCrop(4)(np.arange(100, dtype=np.uint8).reshape(10, 10))

    def corners():  # the top-left pixel of each crop encodes its offset
        return [int(b.numpy()[0, 0, 0]) for b in DataLoader(Crops(), batch_size=1, num_workers=2)]

    ember.manual_seed(0)
    a = corners()
    ember.manual_seed(0)
    assert corners() == a  # reproducible
    assert a[0::2] != a[1::2]  # workers 0 and 1 (alternating batches) crop differently
