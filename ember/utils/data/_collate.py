"""``default_collate`` / ``default_convert`` with torch.utils.data._utils.collate's rules.

Tensors are stacked, NumPy arrays and scalars become tensors, Python ints int64 and floats
float64 tensors, bools a bool tensor, strings/bytes stay lists; mappings, namedtuples and
sequences are collated field by field (tuples come back as lists, as torch does).
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ember.tensor import Tensor, _make

__all__ = [
    "collate", "collate_tensor_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn",
    "collate_float_fn", "collate_int_fn", "collate_str_fn", "default_collate",
    "default_collate_fn_map", "default_convert", "default_collate_err_msg_format",
]  # fmt: skip

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)

# dtypes ember tensors hold natively: arrays of these are stacked by NumPy directly
_NATIVE = {np.dtype(n) for n in (
    "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
)}  # fmt: skip


def default_convert(data: Any) -> Any:
    """Convert NumPy arrays/scalars (also inside mappings and sequences) to tensors."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        from ember.ops.creation import as_tensor

        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({k: default_convert(data[k]) for k in data})
                return clone
            return elem_type({k: default_convert(data[k]) for k in data})
        except TypeError:  # the mapping type may not take a dict in its constructor
            return {k: default_convert(data[k]) for k in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch's backwards-compatible list
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """Collate ``batch`` (a sequence of samples), dispatching on the first sample's type."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(
                    {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem}
                )
                return clone
            return elem_type(
                {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem}
            )
        except TypeError:
            return {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, s in enumerate(transposed):
                    clone[i] = collate(s, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(s, collate_fn_map=collate_fn_map) for s in transposed])
        except TypeError:
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def _np_stack(arrays: list) -> np.ndarray | None:
    """``np.stack`` when it equals torch.stack: one native dtype, one shape (else None)."""
    a0 = arrays[0]
    dt, shape = a0.dtype, a0.shape
    if dt not in _NATIVE:
        return None
    for a in arrays:
        if a.dtype != dt or a.shape != shape:
            return None  # promotion / ragged: ember.stack applies torch's rules and messages
    return np.stack(arrays)


def collate_tensor_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """Stack tensors along a new first dimension."""
    if all(t._data.__class__ is np.ndarray and not t._rg for t in batch):
        out = _np_stack([t._data for t in batch])
        if out is not None:
            return _make(out)
    from ember.ops.shape import stack

    return stack(list(batch), 0)


def collate_numpy_array_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """Stack NumPy arrays into a tensor (string/object arrays are an error, as in torch)."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    if all(type(b) is np.ndarray for b in batch):
        out = _np_stack(batch)
        if out is not None:
            return _make(out)
    from ember.ops.creation import as_tensor

    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    from ember.ops.creation import as_tensor

    return as_tensor(batch)


def collate_float_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    from ember import float64
    from ember.ops.creation import tensor

    return tensor(batch, dtype=float64)


def collate_int_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    from ember.ops.creation import tensor

    return tensor(batch)


def collate_str_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    return batch


# insertion order matters: np.float64 subclasses float but must go through the NumPy rule
default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: Any) -> Any:
    """Merge a list of samples into a batch (torch.utils.data.default_collate)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
