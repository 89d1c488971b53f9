"""Variable-length sequences: pad_sequence, and PackedSequence with pack/pad helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from ember.ops._core import Node, gm, record, wrap
from ember.tensor import Tensor

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
    "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence",
]  # fmt: skip


class PadSequenceBackward0(Node):
    """Each sequence's gradient is its slice of the padded gradient."""

    __slots__ = ()

    def backward(self, F: Any, g: Any) -> tuple:
        batch_first, left, lengths, total = self.args
        if not batch_first:
            g = F.swapaxes(g, 0, 1)
        return tuple(g[i, total - n :] if left else g[i, :n] for i, n in enumerate(lengths))


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:  # fmt: skip
    """Stack sequences of shape (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padded."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            "pad_sequence: Expected iterable for input sequences, but got arg of type: "
            f"{type(sequences)}"
        )
    seqs = list(sequences.unbind(0)) if isinstance(sequences, Tensor) else list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    trail = tuple(seqs[0].shape[1:])
    for s in seqs:
        if tuple(s.shape[1:]) != trail:
            raise RuntimeError(
                "The size of the trailing dimensions of all sequences must match, got "
                f"{tuple(seqs[0].shape)} and {tuple(s.shape)}"
            )
    lengths = [s.shape[0] if s.ndim else 1 for s in seqs]
    total = max(lengths)
    a0 = seqs[0]._data
    xp = seqs[0].xp
    out = xp.full((len(seqs), total) + trail, padding_value, dtype=a0.dtype)
    left = padding_side == "left"
    for i, (s, n) in enumerate(zip(seqs, lengths, strict=True)):
        if left:
            out[i, total - n :] = s._data
        else:
            out[i, :n] = s._data
    r = wrap(out if batch_first else xp.ascontiguousarray(out.swapaxes(0, 1)))
    if gm.enabled and any(s._rg for s in seqs):
        record(PadSequenceBackward0, r, tuple(seqs), args=(batch_first, left, lengths, total))
    return r


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False
) -> list[Tensor]:
    """The inverse of pad_sequence: a list of (L_i, *) tensors."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, : int(n)] for i, n in enumerate(lengths)]


class PackedSequence(NamedTuple):
    """Time-major packed batch: ``data`` rows for step t are the first batch_sizes[t] sequences."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        mv = lambda t: None if t is None else t.to(data.device)
        return PackedSequence(
            data, self.batch_sizes, mv(self.sorted_indices), mv(self.unsorted_indices)
        )

    def float(self) -> PackedSequence:
        return self.to(self.data.float().dtype)

    def double(self) -> PackedSequence:
        return self.to(self.data.double().dtype)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    if permutation is None:
        return None
    p = permutation._data
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size)
    return wrap(inv)


def _packed_index(batch_sizes: list[int], batch: int) -> np.ndarray:
    """Row indices into the (T * B) flattened time-major input, step by step."""
    return np.concatenate([t * batch + np.arange(b) for t, b in enumerate(batch_sizes)])


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:  # fmt: skip
    """Pack a padded batch (T, B, *) given each sequence's length."""
    from ember.ops.creation import tensor

    lens = np.asarray(lengths.tolist() if isinstance(lengths, Tensor) else lengths, np.int64)
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = tensor(order)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if lens.size and lens[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    x = input.transpose(0, 1) if batch_first else input
    steps, batch = x.shape[0], x.shape[1]
    batch_sizes = [int((lens > t).sum()) for t in range(int(lens[0]) if lens.size else 0)]
    flat = x.reshape((steps * batch,) + tuple(x.shape[2:]))
    data = flat[tensor(_packed_index(batch_sizes, batch))]
    return PackedSequence(
        data, tensor(batch_sizes), sorted_indices, invert_permutation(sorted_indices)
    )


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Inverse of pack_padded_sequence: (padded batch, lengths)."""
    from ember.ops.creation import full, tensor

    bs = [int(b) for b in sequence.batch_sizes.tolist()]
    steps = len(bs)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being {steps}"
            )
        steps = total_length
    batch = bs[0] if bs else 0
    data = sequence.data
    trail = tuple(data.shape[1:])
    out = full((steps * batch,) + trail, padding_value, dtype=data.dtype, device=data.device)
    out = out.index_put((tensor(_packed_index(bs, batch)),), data)
    out = out.reshape((steps, batch) + trail)
    lengths = tensor([sum(1 for b in bs if b > i) for i in range(batch)])
    if batch_first:
        out = out.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        out = out.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths = tensor(lengths._data[sequence.unsorted_indices._data])
    return out, lengths


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
