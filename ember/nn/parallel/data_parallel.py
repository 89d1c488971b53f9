"""``DataParallel``: split a batch across worker threads of one process, gather the outputs.

On CPU each ``device_ids`` entry is a worker thread (default: one per core). Inputs are chunked
along `dim` (differentiably), every chunk runs through a replica of the module, and the outputs
are concatenated on return. Replicas share the original ``Parameter`` objects, so backward
accumulates every chunk's gradient into the original ``.grad``; replica 0 *is* the module (its
in-place buffer updates, e.g. BatchNorm running stats, are kept, as torch keeps device 0's) and
the other replicas get copies of the buffers (their updates are dropped, as torch drops them).
Grad mode is per thread in ember, as in torch: workers run in the caller's mode.
NumPy releases the GIL in large array operations, which is where the threads overlap.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence
from typing import Any

from ember.autograd import grad_mode
from ember.nn.modules.module import Module
from ember.tensor import Tensor

__all__ = ["DataParallel", "data_parallel", "scatter", "scatter_kwargs", "gather", "replicate",
           "parallel_apply"]  # fmt: skip


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_asdict") and hasattr(obj, "_fields")


def scatter(inputs: Any, target_gpus: Sequence[Any], dim: int = 0) -> list:
    """Chunk tensors along `dim` (one chunk per target, fewer if the batch is small); other
    objects are repeated (torch.nn.parallel.scatter)."""
    n = len(target_gpus)

    def scatter_map(obj: Any) -> list:
        if isinstance(obj, Tensor):
            return list(obj.chunk(n, dim))
        if _is_namedtuple(obj):
            return [type(obj)(*args) for args in zip(*map(scatter_map, obj), strict=False)]
        if isinstance(obj, tuple) and obj:
            return list(zip(*map(scatter_map, obj), strict=False))
        if isinstance(obj, list) and obj:
            return [list(i) for i in zip(*map(scatter_map, obj), strict=False)]
        if isinstance(obj, dict) and obj:
            return [type(obj)(i) for i in zip(*map(scatter_map, obj.items()), strict=False)]
        return [obj for _ in range(n)]

    return scatter_map(inputs)


def scatter_kwargs(inputs: tuple, kwargs: dict | None, target_gpus: Sequence[Any],
                   dim: int = 0) -> tuple[tuple, tuple]:  # fmt: skip
    """Scatter positional and keyword arguments to the same number of pieces."""
    sc_in: list = scatter(inputs, target_gpus, dim) if inputs else []
    sc_kw: list = scatter(kwargs, target_gpus, dim) if kwargs else []
    if len(sc_in) < len(sc_kw):
        sc_in.extend(() for _ in range(len(sc_kw) - len(sc_in)))
    elif len(sc_kw) < len(sc_in):
        sc_kw.extend({} for _ in range(len(sc_in) - len(sc_kw)))
    return tuple(sc_in), tuple(sc_kw)


def gather(outputs: Sequence[Any], target_device: Any, dim: int = 0) -> Any:
    """Concatenate the replicas' outputs along `dim`, recursively (torch.nn.parallel.gather)."""
    from ember.ops.shape import cat

    def gather_map(outs: Sequence[Any]) -> Any:
        out = outs[0]
        if isinstance(out, Tensor):
            if all(t.ndim == 0 for t in outs) and dim == 0:
                warnings.warn(
                    "Was asked to gather along dimension 0, but all input tensors were scalars; "
                    "will instead unsqueeze and return a vector.", stacklevel=4,
                )  # fmt: skip
                return cat([t.reshape(1) for t in outs], 0)
            return cat(list(outs), dim)
        if out is None:
            return None
        if isinstance(out, dict):
            if not all(len(out) == len(d) for d in outs):
                raise ValueError("All dicts must have the same number of keys")
            return type(out)((k, gather_map([d[k] for d in outs])) for k in out)
        if _is_namedtuple(out):
            return type(out)._make(map(gather_map, zip(*outs, strict=True)))
        return type(out)(map(gather_map, zip(*outs, strict=True)))

    return gather_map(outputs)


def _copy_module(m: Module, memo: dict[int, Module]) -> Module:
    """A shallow replica: same Parameter objects, copied buffers, replicated children."""
    if id(m) in memo:
        return memo[id(m)]
    r = m.__class__.__new__(m.__class__)
    d = m.__dict__.copy()
    d["_parameters"] = dict(m._parameters)
    d["_buffers"] = {k: None if b is None else b.detach().clone() for k, b in m._buffers.items()}
    r.__dict__.update(d)
    memo[id(m)] = r
    r.__dict__["_modules"] = {k: None if c is None else _copy_module(c, memo)
                              for k, c in m._modules.items()}  # fmt: skip
    return r


def replicate(network: Module, devices: Sequence[Any], detach: bool = False) -> list[Module]:
    """The module itself, then len(devices) - 1 replicas sharing its parameters."""
    return [network] + [_copy_module(network, {}) for _ in range(len(devices) - 1)]


def parallel_apply(modules: Sequence[Module], inputs: Sequence[Any],
                   kwargs_tup: Sequence[dict] | None = None,
                   devices: Sequence[Any] | None = None) -> list[Any]:  # fmt: skip
    """Run ``modules[i](*inputs[i], **kwargs_tup[i])`` in worker threads; results in order."""
    if len(modules) != len(inputs):
        raise AssertionError(f"The number of modules {len(modules)} is not equal to the number "
                             f"of inputs {len(inputs)}")  # fmt: skip
    kw = list(kwargs_tup) if kwargs_tup is not None else [{} for _ in modules]
    results: list[Any] = [None] * len(modules)
    errors: list[BaseException | None] = [None] * len(modules)
    st = grad_mode.state
    enabled, inference = st.enabled, st.inference

    def work(i: int) -> None:
        st.enabled, st.inference = enabled, inference  # the caller's mode (per-thread state)
        try:
            args = inputs[i] if isinstance(inputs[i], list | tuple) else (inputs[i],)
            results[i] = modules[i](*args, **kw[i])
        except BaseException as exc:  # re-raised in the caller's thread
            errors[i] = exc

    threads = [threading.Thread(target=work, args=(i,), daemon=True)
               for i in range(1, len(modules))]  # fmt: skip
    for t in threads:
        t.start()
    work(0)
    for t in threads:
        t.join()
    for i, exc in enumerate(errors):
        if exc is not None:
            if hasattr(exc, "add_note"):
                exc.add_note(f"(raised in DataParallel replica {i})")
            raise exc
    return results


def _index(d: Any) -> Any:
    return d.index if hasattr(d, "index") and not isinstance(d, int) else d


class DataParallel(Module):
    """Single-process data parallelism over worker threads (torch.nn.DataParallel)."""

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None,
                 output_device: Any = None, dim: int = 0) -> None:  # fmt: skip
        super().__init__()
        self.module = module
        if device_ids is None:
            device_ids = list(range(os.cpu_count() or 1))
        self.device_ids = [_index(d) for d in device_ids]
        self.output_device = self.device_ids[0] if output_device is None else _index(output_device)
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        ins, kws = self.scatter(inputs, kwargs, self.device_ids)
        if not ins and not kws:
            ins, kws = ((),), ({},)
        if len(ins) == 1:
            return self.module(*ins[0], **kws[0])
        replicas = self.replicate(self.module, self.device_ids[: len(ins)])
        outputs = self.parallel_apply(replicas, ins, kws)
        return self.gather(outputs, self.output_device)

    def replicate(self, module: Module, device_ids: Sequence[Any]) -> list[Module]:
        return replicate(module, device_ids)

    def scatter(self, inputs: tuple, kwargs: dict | None,
                device_ids: Sequence[Any]) -> tuple[tuple, tuple]:  # fmt: skip
        return scatter_kwargs(inputs, kwargs, device_ids, dim=self.dim)

    def parallel_apply(self, replicas: Sequence[Module], inputs: Sequence[Any],
                       kwargs: Sequence[dict]) -> list[Any]:  # fmt: skip
        return parallel_apply(replicas, inputs, kwargs, self.device_ids[: len(replicas)])

    def gather(self, outputs: Sequence[Any], output_device: Any) -> Any:
        return gather(outputs, output_device, dim=self.dim)


def data_parallel(module: Module, inputs: Any, device_ids: Sequence[Any] | None = None,
                  output_device: Any = None, dim: int = 0,
                  module_kwargs: dict | None = None) -> Any:  # fmt: skip
    """The functional form of DataParallel."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    dp = DataParallel(module, device_ids, output_device, dim)
    return dp(*inputs, **(module_kwargs or {}))
