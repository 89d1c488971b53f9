"""safetensors read/write (the format of the `safetensors` package), with no dependency on it.

Layout: 8-byte little-endian header length N, an N-byte JSON header
``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}``,
then the raw little-endian tensor bytes. Nothing in a safetensors file can run code.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import tempfile
from typing import Any

import numpy as np

from ember import dtypes
from ember.tensor import Tensor, _make

__all__ = ["save", "save_file", "load", "load_file", "safe_open", "SafetensorError"]

_CODE = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64",
    "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
}  # fmt: skip
_NAME = {v: k for k, v in _CODE.items()}
_MAX_HEADER = 100 * 1024 * 1024


class SafetensorError(RuntimeError):
    """A malformed safetensors file or an unsupported tensor."""


def _dtype_name(t: Tensor) -> str:
    return "bfloat16" if t._data.dtype.name == "bfloat16" else dtypes.from_np(t._data.dtype).name


def save(tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """Serialise a flat dict of tensors to safetensors bytes."""
    header: dict[str, Any] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise SafetensorError("metadata must be a dict of str to str")
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name in sorted(tensors, key=lambda k: (-_align_key(tensors[k]), k)):
        t = tensors[name]
        if not isinstance(t, Tensor):
            raise SafetensorError(f"{name!r} is a {type(t).__name__}, not a Tensor")
        a = t._data if t.is_cpu else t._data.get()
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {
            "dtype": _CODE[_dtype_name(t)],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # align the data to 8 bytes, as the reference writer does
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def _align_key(t: Tensor) -> int:
    return int(t._data.itemsize)


def save_file(
    tensors: dict[str, Tensor], filename: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    """Write tensors to `filename` atomically (temp file + fsync + rename)."""
    data = save(tensors, metadata)
    path = os.fspath(filename)
    fd, tmp = tempfile.mkstemp(prefix=".ember-st-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _parse_header(buf: Any) -> tuple[dict, int]:
    if len(buf) < 8:
        raise SafetensorError(
            "file is too small to be a safetensors file (no 8-byte header length)"
        )
    (n,) = struct.unpack("<Q", bytes(buf[:8]))
    if n > _MAX_HEADER or 8 + n > len(buf):
        raise SafetensorError(
            f"invalid header length {n} for a file of {len(buf)} bytes (truncated or not safetensors)"
        )
    try:
        header = json.loads(bytes(buf[8 : 8 + n]))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorError(f"invalid JSON header: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorError("invalid header: expected a JSON object")
    return header, 8 + n


def _tensor_from(buf: Any, start: int, name: str, info: Any, copy: bool) -> Tensor:
    try:
        code, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
    except (KeyError, TypeError, ValueError):
        raise SafetensorError(f"invalid header entry for {name!r}: {info!r}") from None
    if code not in _NAME:
        raise SafetensorError(f"{name!r}: unsupported dtype {code}")
    d = dtypes.as_dtype(_NAME[code]) if _NAME[code] != "bfloat16" or dtypes.bfloat16 else None
    if d is None:
        raise SafetensorError(f"{name!r} is bfloat16: install ml_dtypes to load it")
    count = int(np.prod(shape)) if shape else 1
    if not (0 <= b <= e <= len(buf) - start) or e - b != count * d.np.itemsize:
        raise SafetensorError(
            f"{name!r}: data_offsets {[b, e]} do not match dtype {code} and shape {shape} (file truncated or corrupted)"
        )
    arr = np.frombuffer(buf, dtype=d.np.newbyteorder("<"), count=count, offset=start + b).reshape(
        shape
    )
    return _make(arr.astype(d.np, copy=True) if copy or arr.dtype.byteorder == ">" else arr)


def load(data: bytes) -> dict[str, Tensor]:
    """Tensors from safetensors bytes."""
    header, start = _parse_header(data)
    return {
        k: _tensor_from(data, start, k, v, True) for k, v in header.items() if k != "__metadata__"
    }


def load_file(filename: str | os.PathLike, device: Any = "cpu") -> dict[str, Tensor]:
    """All tensors of a safetensors file (copied into memory)."""
    with open(filename, "rb") as f:
        data = f.read()
    out = load(data)
    if str(device) != "cpu":
        out = {k: v.to(device) for k, v in out.items()}
    return out


class safe_open:
    """Lazy access through mmap: ``with safe_open(path, framework="pt") as f: f.get_tensor(k)``."""

    def __init__(
        self, filename: str | os.PathLike, framework: str = "pt", device: Any = "cpu"
    ) -> None:
        self._f = open(filename, "rb")  # noqa: SIM115
        size = os.fstat(self._f.fileno()).st_size
        self._mm = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._header, self._start = _parse_header(self._mm)
        self.device = device

    def keys(self) -> list[str]:
        return sorted(k for k in self._header if k != "__metadata__")

    def metadata(self) -> dict[str, str] | None:
        return self._header.get("__metadata__")

    def get_tensor(self, name: str) -> Tensor:
        if name not in self._header or name == "__metadata__":
            raise SafetensorError(f"File does not contain tensor {name}")
        t = _tensor_from(self._mm, self._start, name, self._header[name], True)
        return t if str(self.device) == "cpu" else t.to(self.device)

    def get_slice(self, name: str) -> Any:
        return self.get_tensor(name)

    def close(self) -> None:
        if isinstance(self._mm, mmap.mmap):
            self._mm.close()
        self._f.close()

    def __enter__(self) -> safe_open:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
