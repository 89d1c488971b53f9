"""``Parameter`` and ``Buffer``: tensors that a Module registers when they are assigned to it."""

from __future__ import annotations

from typing import Any

from ember.tensor import Tensor

__all__ = ["Buffer", "Parameter"]


def _as_leaf(data: Any) -> Tensor:
    """A detached tensor sharing `data`'s storage (and version counter), as torch's detach()."""
    if data is None:
        from ember.ops.creation import empty

        return empty(0)
    if not isinstance(data, Tensor):
        raise TypeError(
            f"Parameter/Buffer data must be a Tensor, got {type(data).__name__}; wrap arrays with "
            "ember.tensor(...) first"
        )
    return data.detach()


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning it to a Module attribute registers it.

    ``Parameter(data=None, requires_grad=True)`` shares `data`'s storage and is always a leaf.
    Ops on a Parameter return plain Tensors, as in torch.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        t = _as_leaf(data).as_subclass(cls)
        t._grad = None
        t.requires_grad_(requires_grad)
        return t

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        # torch: a fresh Parameter over a clone of the data; .grad is not copied
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_parameter, (self.data, self.requires_grad, self.__dict__ or None))


def _rebuild_parameter(data: Tensor, requires_grad: bool, state: dict | None = None) -> Parameter:
    p = Parameter(data, requires_grad)
    if state:
        p.__dict__.update(state)
    return p


class Buffer(Tensor):
    """Marks a tensor as a buffer on assignment (``self.x = Buffer(t, persistent=False)``).

    As in torch, the registered object is a plain Tensor; only the marker class differs.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Buffer:
        src = data
        t = _as_leaf(data).as_subclass(cls)
        t._grad = None
        t._rg = bool(src is not None and src.requires_grad)
        t.persistent = persistent
        return t
