"""Embedding lookups: a row gather and its adjoint row scatter-add (each the other's backward),
and bags (sum/mean/max over segments) on top for recommender models."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.autograd.grad_mode import state as gm
from ember.autograd.node import Node, record
from ember.backends import xp_of
from ember.ops._core import _make, wrap
from ember.tensor import Tensor

__all__ = ["embedding", "embedding_bag", "one_hot_rows"]


def _scatter_rows_arr(g: Any, idx: Any, n_rows: int) -> Any:
    """out[idx[i]] += g[i] for rows; (N, D) -> (n_rows, D)."""
    xp = xp_of(g)
    out = xp.zeros((n_rows,) + g.shape[1:], g.dtype)
    if g.shape[0]:
        xp.add.at(out, idx, g)  # NumPy and CuPy both provide ufunc.at
    return out


class IndexRowsBackward(Node):
    __slots__ = ()

    def name(self) -> str:
        return "EmbeddingBackward0"

    def backward(self, F: Any, g: Any) -> tuple:
        idx, n_rows, pad = self.args
        if hasattr(g, "_data"):
            if pad is not None:
                g = g * _make(xp_of(g._data).asarray((idx != pad)[:, None].astype(g._data.dtype)))
            return (scatter_rows(g, idx, n_rows),)
        if pad is not None:
            g = g * (idx != pad)[:, None]
        return (_scatter_rows_arr(g, idx, n_rows),)


class ScatterRowsBackward(Node):
    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        (idx,) = self.args
        return (index_rows(g, idx) if hasattr(g, "_data") else g[idx],)


def index_rows(w: Tensor, idx: Any, padding_idx: int | None = None) -> Tensor:
    """w[idx] for a 1-D integer array idx (rows of a 2-D+ tensor)."""
    idx = _on(w._data, idx)
    r = wrap(w._data[idx])
    if gm.enabled and w._rg:
        record(IndexRowsBackward, r, (w,), args=(idx, w._data.shape[0], padding_idx))
    return r


def scatter_rows(g: Tensor, idx: Any, n_rows: int) -> Tensor:
    """Adjoint of index_rows: rows of g summed into n_rows rows."""
    idx = _on(g._data, idx)
    r = wrap(_scatter_rows_arr(g._data, idx, n_rows))
    if gm.enabled and g._rg:
        record(ScatterRowsBackward, r, (g,), args=(idx,))
    return r


def _on(like: Any, idx: Any) -> Any:
    """Index arrays live where the data lives (host NumPy indices move to the GPU)."""
    return idx if like.__class__ is idx.__class__ else xp_of(like).asarray(idx)


def one_hot_rows(idx: Any, n: int) -> Any:
    return np.eye(n)[idx]


def _check_index(input: Tensor, n: int) -> Any:
    a = input._data
    if a.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {input.dtype} instead (while checking arguments for embedding)"
        )
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi >= n:
            bad = hi if hi >= n else lo
            raise IndexError(f"index out of range in self (index {bad}, embedding with {n} rows)")
    return a


def _renorm_(weight: Tensor, idx: Any, max_norm: float, norm_type: float) -> None:
    """torch's max_norm: rows looked up are rescaled in place (no autograd) to norm <= max_norm."""
    w = weight._data
    rows = np.unique(idx)
    norms = (
        np.linalg.norm(w[rows], ord=norm_type, axis=1)
        if norm_type != 2
        else np.sqrt((w[rows] ** 2).sum(1))
    )
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    w[rows] *= scale[:, None]
    weight._vc[0] += 1


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of `weight` at the integer indices `input`: output shape input.shape + (dim,)."""
    n = weight.shape[0]
    a = _check_index(input, n)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    flat = a.reshape(-1)
    if max_norm is not None:
        _renorm_(weight, flat, max_norm, norm_type)
    out = index_rows(weight, flat, padding_idx)
    if scale_grad_by_freq and gm.enabled and weight._rg:
        counts = np.bincount(flat, minlength=n).astype(weight._data.dtype)
        out = _scale_by_freq(out, counts[flat])
    return out.reshape(tuple(a.shape) + tuple(weight.shape[1:]))


class _ScaleGrad(Node):
    __slots__ = ()

    def name(self) -> str:
        return "EmbeddingBackward0"

    def backward(self, F: Any, g: Any) -> tuple:
        (inv,) = self.args
        return (g * inv,)


def _scale_by_freq(out: Tensor, freq: Any) -> Tensor:
    """Identity forward; gradient divided by each index's frequency in the batch."""
    r = _make(out._data)
    record(_ScaleGrad, r, (out,), args=((1.0 / freq)[:, None].astype(out._data.dtype),))
    return r


def _host(a: Any) -> np.ndarray:
    """Bag bookkeeping (offsets, segment ids) runs on the host; rows are gathered on the device."""
    return a if a.__class__ is np.ndarray else a.get()


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sum/mean/max of embedding rows per bag; bags are rows of a 2-D input or 1-D segments."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
    a = input._data
    if a.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences."
            )
        b, L = a.shape
        flat = _host(a).reshape(-1)
        starts = np.arange(0, b * L, L)
    elif a.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        flat = _host(a)
        starts = np.asarray(_host(offsets._data), dtype=np.int64)
        if include_last_offset:
            starts = starts[:-1]
        b = len(starts)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {a.ndim}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum'"
        )
    n = weight.shape[0]
    _check_index(_make(flat), n)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        _renorm_(weight, flat, max_norm, norm_type)
    ends = np.append(starts[1:], len(flat))
    bag_of = np.repeat(np.arange(b), ends - starts)
    keep = np.ones(len(flat), bool) if padding_idx is None else flat != padding_idx
    rows = index_rows(weight, flat[keep])
    bag_ids = bag_of[keep]
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1, 1)
        rows = rows * (psw if keep.all() else index_rows(psw, np.nonzero(keep)[0]))
    counts = np.bincount(bag_ids, minlength=b)
    if mode == "max":
        d = weight.shape[1]
        vals = np.full((b, d), -np.inf, weight._data.dtype)
        np.maximum.at(vals, bag_ids, rows._data)
        vals[counts == 0] = 0
        # gradient flows to the (first) arg-max row of each bag and feature
        match = rows._data == vals[bag_ids]
        order = np.arange(len(bag_ids))[:, None] * np.ones((1, d), np.int64)
        first = np.full((b, d), len(bag_ids), np.int64)
        np.minimum.at(first, bag_ids, np.where(match, order, len(bag_ids)))
        mask = np.zeros_like(match)
        valid = first < len(bag_ids)
        bi, fj = np.nonzero(valid)
        mask[first[bi, fj], fj] = True
        sel = rows * _make(mask.astype(rows._data.dtype))
        return scatter_rows(sel, bag_ids, b)
    out = scatter_rows(rows, bag_ids, b)
    if mode == "mean":
        div = np.maximum(counts, 1).astype(out._data.dtype)[:, None]
        out = out / _make(_on(out._data, div))
    return out
