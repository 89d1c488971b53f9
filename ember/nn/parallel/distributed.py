"""``DistributedDataParallel``: one model replica per process, gradients averaged in buckets.

At construction the wrapper checks that every rank built the same parameters, broadcasts
parameters and buffers from rank 0, and groups the gradients into buckets (reverse registration
order, the first bucket ~1 MiB and the others ~`bucket_cap_mb`, one dtype per bucket, as torch).
Each parameter's post-accumulate-grad hook copies its gradient into its bucket; a full bucket
starts a non-blocking all-reduce at once, **while backward is still running** (buckets start in
index order on every rank, so the collectives match). The hook of the last parameter to get its
gradient waits for all buckets and writes the averages back, so gradients are complete and
averaged when ``loss.backward()`` returns. The all-reduces run on a private duplicate of the
process group: DDP traffic never mixes with the user's collectives.

A parameter that gets no gradient keeps its bucket from completing; the next forward then raises
naming those parameters (qualified names) and why (never reached in forward, or used but not
connected to the loss). ``find_unused_parameters=True`` marks parameters not reached from the
outputs ready after forward, and routes the outputs through a pass-through node so that outputs
missing from the loss send zeros back, as torch's ``_DDPSink``.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from ember.autograd import grad_mode
from ember.autograd.function import Function
from ember.autograd.node import Node
from ember.nn.modules.module import Module
from ember.tensor import Tensor, _make

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's dist._DEFAULT_FIRST_BUCKET_BYTES
_ROOT = "model"  # the label ember's error messages give the root module (as nn.Module does)


def _dist() -> Any:
    import ember.distributed as dist

    return dist


class _Bucket:
    __slots__ = ("index", "params", "offsets", "buf", "pending", "work", "dtype")

    def __init__(self, index: int, params: list[int], sizes: list[int], dtype: np.dtype) -> None:
        self.index = index
        self.params = params
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64).tolist()
        self.buf = np.zeros(self.offsets[-1], dtype)
        self.pending = len(params)
        self.work: Any = None
        self.dtype = dtype


def _assign_buckets(
    params: list[Tensor], order: list[int], first: int, cap: int
) -> list[list[int]]:
    """torch's bucket assignment: in `order`, one open bucket per dtype, size-capped (the first
    bucket closes at `first` bytes, so the earliest gradients start reducing early)."""
    out: list[list[int]] = []
    open_: dict[Any, tuple[list[int], int]] = {}
    limits = [first, cap]
    for i in order:
        a = params[i]._data
        key = a.dtype
        idx, size = open_.get(key, ([], 0))
        idx.append(i)
        size += a.nbytes
        limit = limits[0] if not out else limits[1]
        if size >= limit:
            out.append(idx)
            open_.pop(key, None)
        else:
            open_[key] = (idx, size)
    out.extend(idx for idx, _ in open_.values())
    return out


class _DDPSink(Function):
    """Pass-through of the forward's outputs: outputs the loss does not use send zeros back."""

    @staticmethod
    def forward(ctx: Any, *outs: Tensor) -> Any:
        return tuple(o.clone() for o in outs)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Any:
        return grads


def _tensors(obj: Any) -> Iterator[Tensor]:
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, list | tuple):
        for x in obj:
            yield from _tensors(x)
    elif isinstance(obj, Mapping):
        for x in obj.values():
            yield from _tensors(x)


def _replace(obj: Any, it: Iterator[Tensor]) -> Any:
    if isinstance(obj, Tensor):
        return next(it)
    if isinstance(obj, list | tuple):
        items = [_replace(x, it) for x in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
    if isinstance(obj, Mapping):
        return type(obj)((k, _replace(v, it)) for k, v in obj.items())
    return obj


def _reached(roots: list[Any], wanted: set[int]) -> set[int]:
    """Ids of the leaf tensors in `wanted` that the graph below `roots` reaches."""
    found: set[int] = set()
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, Node):
            stack.extend(e[0] for e in n.edges if e is not None)
        elif id(n) in wanted:
            found.add(id(n))
    return found


class DistributedDataParallel(Module):
    """Data parallelism across processes (torch.nn.parallel.DistributedDataParallel)."""

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool | None = True,
        init_sync: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        delay_all_reduce_named_params: Any = None,
        param_to_hook_all_reduce: Any = None,
        mixed_precision: Any = None,
        device_mesh: Any = None,
        skip_all_reduce_unused_params: bool = False,
    ) -> None:
        super().__init__()
        dist = _dist()
        unsupported = {
            "delay_all_reduce_named_params": delay_all_reduce_named_params,
            "param_to_hook_all_reduce": param_to_hook_all_reduce,
            "mixed_precision": mixed_precision,
            "device_mesh": device_mesh,
        }
        for name, value in unsupported.items():
            if value is not None:
                raise NotImplementedError(f"DistributedDataParallel({name}=...) is not supported")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter "
                "that requires a gradient."
            )
        devices = {str(p.device) for _, p in named}
        if (device_ids is not None or output_device is not None) and devices == {"cpu"}:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters "
                f"{sorted(devices)}."
            )
        user_pg = process_group if process_group is not None else dist.group.WORLD
        if user_pg is None:
            dist.get_world_size()  # raises torch's "Default process group has not been ..."
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        from ember.distributed import c10d

        self.process_group = user_pg
        self._pg = c10d._private_copy(c10d._resolve(user_pg), "ddp")
        self._world = self._pg.size()
        self._names = [n for n, _ in named]
        # a plain list on purpose: the parameters are registered through self.module
        object.__setattr__(self, "_params", [p for _, p in named])
        self._ids = {id(p): i for i, p in enumerate(self._params)}
        self._verify_model_across_ranks()
        if init_sync:
            self._broadcast(list(self._params), "parameters")
            self._sync_buffers()
        self._first_cap = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self._build_buckets(list(reversed(range(len(self._params)))))
        self._order: list[int] = []  # ready order of the first synced backward
        self._rebuild_due: bool | None = False  # None: done
        self._ready = np.zeros(len(self._params), bool)
        self._used = np.ones(len(self._params), np.uint8)
        self._n_ready = 0
        self._next = 0
        self._expect = False
        self._step = 0
        self._unused_static: list[int] | None = None
        object.__setattr__(self, "_last_roots", [])
        ref = weakref.ref(self)
        self._handles = [p.register_post_accumulate_grad_hook(_make_hook(ref, i))
                         for i, p in enumerate(self._params)]  # fmt: skip

    # ---------------------------------------------------------------- construction helpers
    def _verify_model_across_ranks(self) -> None:
        dist = _dist()
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in zip(self._names, self._params,
                                                                   strict=True)]  # fmt: skip
        every: list[Any] = [None] * self._world
        dist.all_gather_object(every, mine, group=self._pg)
        ranks = list(self._pg._ranks)
        ref = every[0]
        for r, other in zip(ranks[1:], every[1:], strict=True):
            if other == ref:
                continue
            msg = _model_difference(ranks[0], ref, r, other)
            err = RuntimeError(f"DistributedDataParallel: the model differs across ranks: {msg}. "
                               "Every rank must build the same model (same parameters, shapes "
                               "and dtypes, in the same order).")  # fmt: skip
            err._ember_reporter = ranks[0]  # type: ignore[attr-defined]  # raised on every rank
            raise err

    def _broadcast(self, tensors: list[Tensor], what: str) -> None:
        """Rank 0's values into every rank's `tensors`, one broadcast per dtype."""
        by: dict[Any, list[Tensor]] = {}
        for t in tensors:
            by.setdefault(t._data.dtype, []).append(t)
        src = 0
        for dt, ts in by.items():
            flat = np.concatenate([np.asarray(t._data).reshape(-1) for t in ts]).astype(dt)
            info = self._pg._info("broadcast", f"{flat.size} x {dt}", note=f"DDP {what}")
            self._pg._comm.broadcast(flat, src, info).wait()
            pos = 0
            for t in ts:
                n = t._data.size
                t._data[...] = flat[pos : pos + n].reshape(t._data.shape)
                pos += n

    def _build_buckets(self, order: list[int]) -> None:
        groups = _assign_buckets(self._params, order, self._first_cap, self.bucket_bytes_cap)
        ps = self._params
        self._buckets = [
            _Bucket(k, idx, [ps[i].numel() for i in idx], ps[idx[0]]._data.dtype)
            for k, idx in enumerate(groups)
        ]
        self._where = [(0, 0)] * len(self._params)
        for b in self._buckets:
            for j, i in enumerate(b.params):
                self._where[i] = (b.index, j)

    def _rebuild_buckets(self) -> None:
        """Once, after the first backward: buckets follow the order gradients became ready
        (rank 0's order, so every rank builds the same buckets), as torch's rebuild."""
        n = len(self._params)
        self._rebuild_due = None
        mine = self._order if len(self._order) == n else list(reversed(range(n)))
        order = np.array(mine, np.int64)  # only rank 0's matters: it is broadcast
        info = self._pg._info("broadcast", f"{n} x int64", note="DDP bucket order")
        self._pg._comm.broadcast(order, 0, info).wait()
        self._build_buckets(order.tolist())

    def _sync_buffers(self) -> None:
        bufs = [b for _, b in self.module.named_buffers()]
        if bufs:
            with grad_mode.no_grad():
                self._broadcast(bufs, "buffers")

    # ---------------------------------------------------------------- forward
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        grad_on = grad_mode.is_grad_enabled()
        if grad_on and self.require_backward_grad_sync:
            self._check_prior_reduction()
            if self._rebuild_due:
                self._rebuild_buckets()
        if self.require_forward_param_sync and self.broadcast_buffers:
            self._sync_buffers()
        output = self.module(*inputs, **kwargs)
        if grad_on and self.require_backward_grad_sync:
            self.require_forward_param_sync = True
            output = self._prepare_for_backward(output)
        else:
            self.require_forward_param_sync = False
        return output

    def _check_prior_reduction(self) -> None:
        if not self._expect or self._n_ready == 0:
            return  # no backward ran since the last forward: nothing pending
        missing = [i for i in range(len(self._params)) if not self._ready[i]]
        reached = _reached(self._last_roots, {id(self._params[i]) for i in missing})
        lines = []
        for i in missing:
            why = ("used in forward but not connected to the loss" if id(self._params[i]) in reached
                   else "not reached in forward")  # fmt: skip
            lines.append(f"  {_ROOT}.{self._names[i]} ({why})")
        rank = self._pg._ranks[self._pg.rank()]
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a new "
            "one. This error indicates that your module has parameters that were not used in "
            "producing loss. You can enable unused parameter detection by passing the keyword "
            "argument `find_unused_parameters=True` to `DistributedDataParallel`, and by making "
            "sure all `forward` function outputs participate in calculating loss.\n"
            f"Parameters that did not receive a gradient on rank {rank}:\n" + "\n".join(lines)
        )

    def _prepare_for_backward(self, output: Any) -> Any:
        self._ready[:] = False
        self._used[:] = 1
        self._n_ready = 0
        self._next = 0
        self._step += 1
        for b in self._buckets:
            b.pending = len(b.params)
            b.work = None
        outs = list(_tensors(output))
        object.__setattr__(self, "_last_roots",
                           [t.grad_fn if t.grad_fn is not None else t for t in outs])  # fmt: skip
        self._expect = True
        detect = self.find_unused_parameters or self.static_graph
        if not detect:
            return output
        if self._unused_static is not None:
            unused = self._unused_static
        else:
            reached = _reached(self._last_roots, set(self._ids))
            unused = [i for i, p in enumerate(self._params) if id(p) not in reached]
            if self.static_graph:
                self._unused_static = unused
        for i in unused:
            self._used[i] = 0
            self._mark_ready(i, None)
        live = [t for t in outs if t.grad_fn is not None or t.requires_grad]
        if not live or self._n_ready == len(self._params):
            return output
        passed = iter(_DDPSink.apply(*live))
        keep = {id(t) for t in live}
        return _replace(output, (next(passed) if id(t) in keep else t for t in outs))

    # ---------------------------------------------------------------- gradient reduction
    def _mark_ready(self, i: int, p: Tensor | None) -> None:
        if self._ready[i]:
            raise RuntimeError(
                "Expected to mark a variable ready only once. This error is caused by one of the "
                "following reasons: 1) Use of a module parameter outside the `forward` function. "
                "2) Reused parameters in multiple reentrant backward passes. 3) backward called "
                f"twice on one forward's graph. Parameter: {_ROOT}.{self._names[i]}"
            )
        self._ready[i] = True
        self._n_ready += 1
        if self._rebuild_due is False and p is not None:
            self._order.append(i)
        k, j = self._where[i]
        b = self._buckets[k]
        lo, hi = b.offsets[j], b.offsets[j + 1]
        view = b.buf[lo:hi]
        g = None if p is None else p._grad
        if g is None:
            view[...] = 0
        elif not _is_view(g._data, view):
            np.copyto(view, np.asarray(g._data).reshape(-1), casting="unsafe")
        b.pending -= 1
        if b.pending == 0:
            self._launch()
        else:
            self._progress()
        if self._n_ready == len(self._params):
            self._finalize()

    def _launch(self) -> None:
        """Start the all-reduce of every full bucket, in bucket order (same on every rank)."""
        nb = len(self._buckets)
        while self._next < nb and self._buckets[self._next].pending == 0:
            b = self._buckets[self._next]
            info = self._pg._info("all_reduce", f"{b.buf.size} x {b.dtype}, SUM",
                                  note=f"DDP gradient bucket {b.index + 1} of {nb}, "
                                       f"step {self._step}")  # fmt: skip
            b.work = self._pg._comm.all_reduce(b.buf, _dist().ReduceOp.SUM, info)
            self._next += 1

    def _progress(self) -> None:
        # MPI moves a non-blocking operation along only inside MPI calls: poll one
        for b in self._buckets[: self._next]:
            if not b.work.is_completed():
                return

    def _finalize(self) -> None:
        """Wait for every bucket, average, and write gradients back (end of backward)."""
        self._expect = False
        if self._rebuild_due is False:
            self._rebuild_due = True
        used = None
        if self.find_unused_parameters or self.static_graph:
            used = self._used.copy()
            info = self._pg._info("all_reduce", f"{used.size} x uint8, MAX",
                                  note="DDP used-parameter map")  # fmt: skip
            self._pg._comm.all_reduce(used, _dist().ReduceOp.MAX, info).wait()
        for b in self._buckets:
            b.work.wait()
            if b.buf.dtype.kind in "fc":
                b.buf /= self._world
            else:
                b.buf //= self._world
        for b in self._buckets:
            for j, i in enumerate(b.params):
                if used is not None and not used[i]:
                    continue  # unused on every rank: .grad stays as it was, as torch
                p = self._params[i]
                view = b.buf[b.offsets[j] : b.offsets[j + 1]].reshape(p._data.shape)
                self._write_grad(p, view)

    def _write_grad(self, p: Tensor, view: np.ndarray) -> None:
        g = p._grad
        if self.gradient_as_bucket_view and p._data.__class__ is np.ndarray:
            if g is None or not _is_view(g._data, view):
                p._grad = _make(view)
            return
        if g is None:
            p._grad = _make(view.copy())
        elif g._data.__class__ is np.ndarray and g._data.flags.writeable:
            np.copyto(g._data, view, casting="unsafe")
        else:
            from ember.backends import xp_of

            g._data = xp_of(g._data).asarray(view).astype(g._data.dtype)

    # ---------------------------------------------------------------- user API
    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Accumulate gradients locally; the first backward after the block syncs them all."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def check_in_sync(self) -> None:
        """Raise if any parameter differs across ranks, naming the first one (collective)."""
        dist = _dist()
        sums = np.array([float(np.asarray(p._data, np.float64).sum()) for p in self._params])
        lo, hi = sums.copy(), sums.copy()
        for arr, op in ((lo, dist.ReduceOp.MIN), (hi, dist.ReduceOp.MAX)):
            info = self._pg._info("all_reduce", f"{arr.size} x float64, {op.name}",
                                  note="DDP check_in_sync")  # fmt: skip
            self._pg._comm.all_reduce(arr, op, info).wait()
        diff = hi - lo
        bad = np.flatnonzero(diff > 1e-6 * np.maximum(1.0, np.abs(hi)))
        if bad.size:
            i = int(bad[0])
            raise RuntimeError(
                f"DistributedDataParallel: parameters are out of sync across ranks; first: "
                f"{_ROOT}.{self._names[i]} (its sum ranges over [{lo[i]:.9g}, {hi[i]:.9g}])"
            )

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> Any:  # fmt: skip
        """As Module's; a state dict saved from the unwrapped model (no ``module.`` prefix) is
        accepted too."""
        if state_dict and not any(k.startswith("module.") for k in state_dict):
            state_dict = {f"module.{k}": v for k, v in state_dict.items()}
        return super().load_state_dict(state_dict, strict, assign)

    def extra_repr(self) -> str:
        return ""


def _is_view(a: Any, slot: np.ndarray) -> bool:
    """Whether `a` is exactly the bucket slot `slot` (a gradient kept as a bucket view)."""
    return (
        a.__class__ is np.ndarray
        and a.size == slot.size
        and a.ctypes.data == slot.ctypes.data
        and a.flags.c_contiguous
    )


def _make_hook(ref: Any, i: int) -> Any:
    def hook(p: Tensor) -> None:
        ddp = ref()
        if ddp is not None and ddp._expect:
            ddp._mark_ready(i, p)

    return hook


def _model_difference(r0: int, a: list, r1: int, b: list) -> str:
    for x, y in zip(a, b, strict=False):
        if x != y:
            if x[0] != y[0]:
                return (f"parameter #{a.index(x)} is '{x[0]}' on rank {r0} but '{y[0]}' on rank "
                        f"{r1}")  # fmt: skip
            return (f"parameter '{x[0]}' has shape {list(x[1])} ({x[2]}) on rank {r0} but "
                    f"{list(y[1])} ({y[2]}) on rank {r1}")  # fmt: skip
    longer, r = (a, r0) if len(a) > len(b) else (b, r1)
    return (f"rank {r0} has {len(a)} parameters that require grad, rank {r1} has {len(b)}; "
            f"the first extra one is '{longer[min(len(a), len(b))][0]}' on rank {r}")  # fmt: skip
