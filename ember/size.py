"""ember.Size: the shape of a tensor, a tuple subclass as torch.Size."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["Size"]

_tuple_new = tuple.__new__


class Size(tuple):
    """A tuple of dimension lengths (``torch.Size``)."""

    __slots__ = ()

    def __new__(cls, seq: Any = ()) -> Size:
        items = tuple(seq)
        for i, s in enumerate(items):
            if s.__class__ is not int:
                if isinstance(s, bool) or not hasattr(s, "__index__"):
                    raise TypeError(
                        f"torch.Size() takes an iterable of 'int' (item {i} is "
                        f"'{type(s).__name__}')"
                    )
                items = tuple(x.__index__() for x in items)  # NumPy ints, 0-d int tensors
                break
        return _tuple_new(cls, items)

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"  # torch's spelling, as printed shapes read

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        return math.prod(self)

    def __getitem__(self, i: Any) -> Any:
        r = tuple.__getitem__(self, i)
        return _tuple_new(Size, r) if isinstance(i, slice) else r

    def __add__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return _tuple_new(Size, tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return _tuple_new(Size, tuple(other) + tuple(self))

    def __mul__(self, n: Any) -> Size:
        return _tuple_new(Size, tuple(self) * n)

    __rmul__ = __mul__

    def __reduce__(self) -> Any:
        return (Size, (tuple(self),))


def _from_shape(shape: tuple) -> Size:
    """A Size from an array's shape (already ints): the fast path of ``Tensor.shape``."""
    return _tuple_new(Size, shape)
