"""Flatten parameters to one vector and back."""

from __future__ import annotations

from collections.abc import Iterable

from ember.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param: Tensor, old: str | None) -> str:
    dev = str(param.device)
    if old is not None and dev != old:
        raise TypeError(
            "Found two parameters on different devices, this is currently not supported."
        )
    return dev


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """One 1-D tensor holding every parameter, flattened, in order (differentiable)."""
    from ember.ops import cat

    dev = None
    vec = []
    for p in parameters:
        dev = _check_param_device(p, dev)
        vec.append(p.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Set each parameter's data from consecutive slices of `vec`."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    dev = None
    pointer = 0
    for p in parameters:
        dev = _check_param_device(p, dev)
        n = p.numel()
        p.data = vec[pointer : pointer + n].view_as(p).data
        pointer += n
