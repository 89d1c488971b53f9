"""ember.Size: the shape of a tensor, a tuple subclass as torch.Size."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["Size"]


class Size(tuple):
    """A tuple of dimension lengths (``torch.Size``)."""

    __slots__ = ()

    def __new__(cls, seq: Any = ()) -> Size:
        return tuple.__new__(cls, (int(s) for s in seq))

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, i: Any) -> Any:
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))

    def __reduce__(self) -> Any:
        return (Size, (tuple(self),))
