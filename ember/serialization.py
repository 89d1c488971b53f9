"""Checkpoints in PyTorch's zip format, readable by ``torch.load(weights_only=True)``, and a loader
that never runs code.

File layout (what ``torch.save`` writes): a zip archive ``<name>/data.pkl`` (the object, pickled
with protocol 2; each tensor is a ``torch._utils._rebuild_tensor_v2`` call whose storage is a
persistent id ``('storage', torch.FloatStorage, key, 'cpu', numel)``), ``<name>/data/<key>`` (raw
little-endian storage bytes), plus ``byteorder``, ``version``, ``.format_version``,
``.storage_alignment`` and ``.data/serialization_id``.

Loading resolves only an allow-list of globals (tensor/parameter rebuild functions, storage
types, dtypes, ``OrderedDict``, ``torch.Size``/``device``, and what ``add_safe_globals`` adds);
anything else raises ``pickle.UnpicklingError`` naming the global. Writes are atomic: a temporary
file in the target directory, flushed and fsynced, then renamed over the old file.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import secrets
import tempfile
import zipfile
from typing import Any

import numpy as np

from ember import dtypes
from ember.backends import device as _device
from ember.size import Size
from ember.tensor import Tensor, _make

__all__ = [
    "save",
    "load",
    "add_safe_globals",
    "get_safe_globals",
    "clear_safe_globals",
    "safe_globals",
    "UnpicklingError",
]

UnpicklingError = pickle.UnpicklingError

_STORAGE_OF = {
    "float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
    "bfloat16": "BFloat16Storage", "int64": "LongStorage", "int32": "IntStorage",
    "int16": "ShortStorage", "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
}  # fmt: skip
_DTYPE_OF_STORAGE = {v: k for k, v in _STORAGE_OF.items()}


# ------------------------------------------------------------------------------------- writing
class _Global:
    """A stand-in pickled as GLOBAL 'module name' (torch need not be importable to write it)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAM = _Global("torch._utils", "_rebuild_parameter")
_ORDERED_DICT = _Global("collections", "OrderedDict")


class _Reduce:
    """An object pickled as REDUCE(func, args) (optionally with BUILD state)."""

    def __init__(self, func: _Global, args: tuple, state: Any = None) -> None:
        self.func, self.args, self.state = func, args, state


class _StorageRef:
    def __init__(self, key: str, dtype_name: str, numel: int) -> None:
        self.key, self.dtype_name, self.numel = key, dtype_name, numel


class _Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Pure-Python pickler that can emit torch's globals without importing torch."""

    def __init__(self, file: Any) -> None:
        super().__init__(file, protocol=2)

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _StorageRef):
            return (
                "storage",
                _Global("torch", _STORAGE_OF[obj.dtype_name]),
                obj.key,
                "cpu",
                obj.numel,
            )
        return None

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        if isinstance(obj, _Global):
            memo = self.memo.get(id(obj))
            if memo is not None:
                self.write(self.get(memo[0]))
                return
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            self.memoize(obj)
            return
        if isinstance(obj, _Reduce):
            self.save(obj.func)
            self.save(obj.args)
            self.write(pickle.REDUCE)
            if obj.state is not None:
                self.save(obj.state)
                self.write(pickle.BUILD)
            return
        super().save(obj, save_persistent_id)


class _Writer:
    """Turns an object tree into picklable stand-ins, collecting tensor storages."""

    def __init__(self) -> None:
        self.storages: list[tuple[str, bytes]] = []

    def tensor(self, t: Tensor) -> _Reduce:
        a = t._data if t.is_cpu else t._data.get()
        if a.dtype.name == "bfloat16":
            name = "bfloat16"
        else:
            name = dtypes.from_np(a.dtype).name
        contig = np.ascontiguousarray(a)
        if contig.dtype.byteorder == ">":
            contig = contig.astype(contig.dtype.newbyteorder("<"))
        key = str(len(self.storages))
        ref = _StorageRef(key, name, int(contig.size))
        self.storages.append((key, contig.tobytes()))
        stride = tuple(int(np.prod(a.shape[i + 1 :])) for i in range(a.ndim))
        args = (ref, 0, tuple(int(s) for s in a.shape), stride, False, _Reduce(_ORDERED_DICT, ()))
        r = _Reduce(_REBUILD_TENSOR, args)
        from ember.nn.parameter import Parameter

        if isinstance(t, Parameter):
            return _Reduce(_REBUILD_PARAM, (r, bool(t.requires_grad), _Reduce(_ORDERED_DICT, ())))
        if t.requires_grad:
            r.args = args[:4] + (True,) + args[5:]
        return r

    def convert(self, obj: Any) -> Any:
        if isinstance(obj, Tensor):
            return self.tensor(obj)
        if isinstance(obj, dtypes.dtype):
            return _Global("torch", obj.name)
        if isinstance(obj, _device):
            return _Reduce(_Global("torch", "device"), (str(obj),))
        if isinstance(obj, Size):
            return _Reduce(_Global("torch", "Size"), (tuple(int(s) for s in obj),))
        if isinstance(obj, collections.OrderedDict):
            items = [(self.convert(k), self.convert(v)) for k, v in obj.items()]
            meta = getattr(obj, "_metadata", None)
            state = {"_metadata": self.convert(meta)} if meta is not None else None
            return _ODict(items, state)
        if isinstance(obj, dict):
            return {self.convert(k): self.convert(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.convert(v) for v in obj]
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            return tuple(self.convert(v) for v in obj)
        if isinstance(obj, str | bytes | int | float | bool | complex | type(None)):
            return obj
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            raise TypeError(
                "ember.save: NumPy arrays are not part of PyTorch's safe format; convert with "
                "ember.from_numpy(array) first"
            )
        from ember.nn.modules.module import Module

        if isinstance(obj, Module):
            raise TypeError(
                f"ember.save: saving a whole {type(obj).__name__} object would pickle its code; "
                "save `model.state_dict()` instead and rebuild the model before "
                "`model.load_state_dict(ember.load(path))`"
            )
        raise TypeError(
            f"ember.save: cannot save an object of type {type(obj).__name__}; checkpoints hold "
            "tensors, numbers, strings, bytes, None, dtypes, devices and nested dict/list/tuple/"
            "OrderedDict of those"
        )


class _ODict:
    """An OrderedDict to pickle as REDUCE(OrderedDict, ()) + SETITEMS (+ BUILD _metadata)."""

    def __init__(self, items: list, state: Any) -> None:
        self.items, self.state = items, state


def _reduce_odict(p: _Pickler, od: _ODict) -> None:
    p.save(_ORDERED_DICT)
    p.save(())
    p.write(pickle.REDUCE)
    p.memoize(od)
    if od.items:
        p.write(pickle.MARK)
        for k, v in od.items:
            p.save(k)
            p.save(v)
        p.write(pickle.SETITEMS)
    if od.state is not None:
        p.save(od.state)
        p.write(pickle.BUILD)


_Pickler.dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]
_Pickler.dispatch[_ODict] = _reduce_odict


def _archive_name(f: Any) -> str:
    if isinstance(f, str | os.PathLike):
        base = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        return base or "archive"
    return "archive"


def _write_zip(fileobj: Any, name: str, pkl: bytes, storages: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/data.pkl", pkl)
        z.writestr(f"{name}/.format_version", b"1")
        z.writestr(f"{name}/.storage_alignment", b"64")
        z.writestr(f"{name}/byteorder", b"little")
        for key, data in storages:
            z.writestr(f"{name}/data/{key}", data)
        z.writestr(f"{name}/version", b"3\n")
        z.writestr(f"{name}/.data/serialization_id", str(secrets.randbits(128)).zfill(40).encode())


def save(
    obj: Any,
    f: Any,
    pickle_module: Any = None,
    pickle_protocol: int = 2,
    _use_new_zipfile_serialization: bool = True,
) -> None:
    """Write `obj` (nested containers of tensors, numbers, strings...) in PyTorch's zip format.

    `f` is a path (written atomically: temp file + fsync + rename) or a writable binary file.
    """
    w = _Writer()
    tree = w.convert(obj)
    buf = io.BytesIO()
    _Pickler(buf).dump(tree)
    name = _archive_name(f)
    if isinstance(f, str | os.PathLike):
        path = os.fspath(f)
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".ember-save-", suffix=".tmp", dir=d)
        try:
            with os.fdopen(fd, "wb") as out:
                _write_zip(out, name, buf.getvalue(), w.storages)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            try:  # make the rename itself durable
                dfd = os.open(d, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
            except OSError:
                pass
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    else:
        _write_zip(f, name, buf.getvalue(), w.storages)


# ------------------------------------------------------------------------------------- reading
_safe_globals: dict[tuple[str, str], Any] = {}


def add_safe_globals(safe_globals: list[Any]) -> None:
    """Allow more globals in checkpoints: objects, or (object, "module.name") pairs."""
    for g in safe_globals:
        if isinstance(g, tuple):
            obj, full = g
            mod, _, name = full.rpartition(".")
        else:
            obj, mod, name = g, g.__module__, g.__qualname__
        _safe_globals[(mod, name)] = obj


def get_safe_globals() -> list[Any]:
    return list(_safe_globals.values())


def clear_safe_globals() -> None:
    _safe_globals.clear()


class safe_globals:
    """Context manager: allow `globals` only inside the block."""

    def __init__(self, globals: list[Any]) -> None:
        self.globals = globals

    def __enter__(self) -> None:
        self._saved = dict(_safe_globals)
        add_safe_globals(self.globals)

    def __exit__(self, *exc: object) -> None:
        _safe_globals.clear()
        _safe_globals.update(self._saved)


def _rebuild_tensor_v2(
    storage: Any,
    storage_offset: int,
    size: tuple,
    stride: tuple,
    requires_grad: bool = False,
    backward_hooks: Any = None,
    metadata: Any = None,
) -> Tensor:
    arr, _dt = storage
    item = arr.itemsize
    n_needed = storage_offset + (
        sum((s - 1) * st for s, st in zip(size, stride, strict=True)) + 1
        if all(s > 0 for s in size)
        else 0
    )
    if n_needed > arr.size:
        raise pickle.UnpicklingError(
            f"checkpoint is corrupted: a tensor of size {list(size)} with stride {list(stride)} at "
            f"offset {storage_offset} needs {n_needed} elements but its storage has {arr.size}"
        )
    view = np.lib.stride_tricks.as_strided(
        arr[storage_offset:] if arr.size else arr, tuple(size), tuple(s * item for s in stride)
    )
    t = _make(view)
    if requires_grad:
        t.requires_grad = True
    return t


def _rebuild_parameter(
    data: Tensor, requires_grad: bool, backward_hooks: Any = None, *args: Any
) -> Any:
    from ember.nn.parameter import Parameter

    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(
    data: Tensor, requires_grad: bool, backward_hooks: Any, state: Any
) -> Any:
    return _rebuild_parameter(data, requires_grad)


class _StorageType:
    def __init__(self, dtype_name: str) -> None:
        self.dtype_name = dtype_name


def _dtype_global(name: str) -> Any:
    d = getattr(dtypes, name, None)
    if isinstance(d, dtypes.dtype):
        return d
    raise pickle.UnpicklingError(f"unsupported dtype in checkpoint: torch.{name}")


def _allowed(module: str, name: str) -> Any:
    if (module, name) in _safe_globals:
        return _safe_globals[(module, name)]
    if module == "collections" and name == "OrderedDict":
        return collections.OrderedDict
    if module == "torch._utils":
        if name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if name == "_rebuild_parameter":
            return _rebuild_parameter
        if name == "_rebuild_parameter_with_state":
            return _rebuild_parameter_with_state
    if module == "torch":
        if name in _DTYPE_OF_STORAGE:
            return _StorageType(_DTYPE_OF_STORAGE[name])
        if name == "Size":
            return Size
        if name == "device":
            return _device
        if name in (
            "float32",
            "float64",
            "float16",
            "bfloat16",
            "int64",
            "int32",
            "int16",
            "int8",
            "uint8",
            "bool",
            "float",
            "double",
            "half",
            "long",
            "int",
            "short",
        ):
            return _dtype_global(name)
    if module == "torch.serialization" and name == "_get_layout":
        return lambda name: name
    if module == "_codecs" and name == "encode":  # protocol 2 pickles bytes this way
        import codecs

        return codecs.encode
    if module == "builtins" and name in ("set", "frozenset", "complex", "slice", "bytearray"):
        import builtins

        return getattr(builtins, name)
    if module == "ember.dtypes" or module == "ember":
        d = getattr(dtypes, name, None)
        if isinstance(d, dtypes.dtype):
            return d
    raise pickle.UnpicklingError(
        f"Weights only load failed: unsupported global {module}.{name}. ember never runs code from "
        f"a checkpoint. If you trust this file and {module}.{name} is a plain data type, allow it "
        f"with `ember.serialization.add_safe_globals([{name}])`."
    )


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, storages: Any) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        return _allowed(module, name)

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(
                f"checkpoint is corrupted: unexpected persistent id {pid!r}"
            )
        typ, key, _location, numel = pid[1], pid[2], pid[3], pid[4]
        if not isinstance(typ, _StorageType):
            if isinstance(typ, dtypes.dtype):  # torch.storage.UntypedStorage-style (dtype given)
                typ = _StorageType(typ.name)
            else:
                raise pickle.UnpicklingError(f"checkpoint is corrupted: bad storage type {typ!r}")
        return self._storages(str(key), typ.dtype_name, int(numel))


def _storage_loader(z: zipfile.ZipFile, prefix: str) -> Any:
    cache: dict[str, Any] = {}

    def get(key: str, dtype_name: str, numel: int) -> Any:
        if key in cache:
            return cache[key]
        name = f"{prefix}data/{key}"
        try:
            raw = z.read(name)
        except KeyError:
            raise pickle.UnpicklingError(
                f"checkpoint is corrupted: missing record {name}"
            ) from None
        np_dtype = (
            dtypes.as_dtype(dtype_name).np if dtype_name != "bfloat16" or dtypes.bfloat16 else None
        )
        if np_dtype is None:
            raise pickle.UnpicklingError(
                "checkpoint has bfloat16 tensors: install ml_dtypes to load them"
            )
        if len(raw) % np_dtype.itemsize:
            raise pickle.UnpicklingError(
                f"checkpoint is corrupted: record {name} has {len(raw)} bytes, not a multiple of {np_dtype.itemsize}"
            )
        arr = np.frombuffer(bytearray(raw), dtype=np_dtype.newbyteorder("<"))
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "<" and not np.little_endian):
            arr = arr.astype(np_dtype)
        cache[key] = (arr, dtype_name)
        return cache[key]

    return get


def load(
    f: Any,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = True,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Read a checkpoint written by ``torch.save`` or ``ember.save`` (a path or a binary file).

    Only data is reconstructed, never code (see the module docstring). `map_location` may be a
    device, a string or a dict; CUDA tensors load on the CPU when no GPU is present only if
    `map_location='cpu'` is given (as torch).
    """
    if weights_only is False:
        import warnings

        warnings.warn(
            "ember.load ignores weights_only=False: checkpoints are always loaded without running "
            "code (allow extra plain-data types with ember.serialization.add_safe_globals)",
            UserWarning,
            stacklevel=2,
        )
    opened = None
    if isinstance(f, str | os.PathLike):
        if not os.path.exists(f):
            raise FileNotFoundError(f"[Errno 2] No such file or directory: '{os.fspath(f)}'")
        opened = f = open(f, "rb")  # noqa: SIM115
    try:
        return _load_file(f, map_location)
    finally:
        if opened is not None:
            opened.close()


def _load_file(f: Any, map_location: Any) -> Any:
    head = f.read(4)
    f.seek(0)
    if head[:2] != b"PK":
        if head[:1] == b"\x80":
            raise RuntimeError(
                "ember.load: this is a legacy (pre-1.6, non-zip) PyTorch checkpoint; re-save it with "
                "a current torch (`torch.save(torch.load(f))`) to convert it"
            )
        raise RuntimeError(
            "ember.load: not a PyTorch/ember checkpoint (expected a zip archive starting with "
            f"'PK', got {head!r}); safetensors files load with ember.utils.safetensors.load_file"
        )
    try:
        z = zipfile.ZipFile(f)
        names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise RuntimeError(f"ember.load: the checkpoint is truncated or corrupted ({e})") from None
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") <= 1]
    if not pkl:
        raise RuntimeError(
            "ember.load: the archive has no data.pkl record: not a PyTorch checkpoint"
        )
    prefix = pkl[0][: -len("data.pkl")]
    try:
        data = z.read(pkl[0])
        obj = _Unpickler(data, _storage_loader(z, prefix)).load()
    except pickle.UnpicklingError:
        raise
    except (
        zipfile.BadZipFile,
        EOFError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        OverflowError,
        MemoryError,
        RecursionError,
    ) as e:
        raise RuntimeError(
            f"ember.load: the checkpoint is truncated or corrupted ({type(e).__name__}: {e})"
        ) from None
    except Exception as e:  # zlib.error, struct.error, ...
        raise RuntimeError(
            f"ember.load: the checkpoint is truncated or corrupted ({type(e).__name__}: {e})"
        ) from None
    if map_location is not None:
        obj = _map(obj, map_location)
    return obj


def _map(obj: Any, loc: Any) -> Any:
    if callable(loc) and not isinstance(loc, str | _device):
        return obj
    if isinstance(loc, dict):
        loc = loc.get("cpu", "cpu")
    dev = _device(loc)
    if isinstance(obj, Tensor):
        return obj if dev.type == "cpu" else obj.to(dev)
    if isinstance(obj, collections.OrderedDict):
        out = collections.OrderedDict((k, _map(v, loc)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            out._metadata = obj._metadata  # type: ignore[attr-defined]
        return out
    if isinstance(obj, dict):
        return {k: _map(v, loc) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_map(v, loc) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_map(v, loc) for v in obj)
    return obj
