"""torch.distributed's functions on ember tensors: process groups and collectives.

Collectives convert tensors to contiguous host arrays (no copy when the tensor already is one),
post the backend's non-blocking call and either return its ``Work`` (``async_op=True``) or wait
for it. Results are written into the tensors in place, as torch does, without bumping their
version (torch's c10d ops do not either). Every collective gets a sequence number per group,
used by the cross-rank checks and error messages (see ``mpi.Monitor`` and ``debug``).
"""

from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np

from ember.distributed import debug
from ember.distributed.communicator import (
    CollInfo,
    Communicator,
    ReduceOp,
    Work,
    seconds,
)  # fmt: skip
from ember.tensor import Tensor

default_pg_timeout = timedelta(minutes=30)


class Backend(str):
    """A backend name (torch.distributed.Backend): ``Backend("GLOO") == "gloo"``."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name: str) -> Backend:
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, got {name!r}")
        return str.__new__(cls, name.lower())


class ProcessGroup:
    """A set of ranks that run collectives together (torch's ProcessGroup).

    ``rank()``/``size()`` are within the group; ``_ranks`` lists members' global ranks.
    """

    def __init__(
        self, comm: Communicator, name: str, timeout_s: float, backend: str, desc: str = ""
    ) -> None:
        self._comm = comm
        self._ranks = tuple(comm.ranks)
        self.group_name = name
        self.group_desc = desc or name
        self._timeout_s = timeout_s
        self._backend = Backend(backend)
        self._seq = 0

    def rank(self) -> int:
        return self._comm.rank

    def size(self) -> int:
        return self._comm.world_size

    def name(self) -> str:
        return str(self._backend)

    def _info(self, op: str, sig: Any = "", note: str = "") -> CollInfo:
        self._seq += 1
        return CollInfo(op, self.group_name, self._seq, self._ranks, sig, debug.call_site(), note)

    def _check(self, info: CollInfo) -> None:
        """Fingerprint check before a collective (debug mode, or the first few)."""
        if self._comm.world_size == 1 or not debug.checks_for(info.seq):
            return
        rec = debug.fingerprint(info)
        out = np.empty((self._comm.world_size, rec.size), np.uint8)
        fp = CollInfo(info.op, info.group, info.seq, info.ranks, "", info.site,
                      "fingerprint check")  # fmt: skip
        self._comm.all_gather(out, rec, fp).wait()
        debug.check_fingerprints(out, info)

    def __repr__(self) -> str:
        return f"ProcessGroup(name={self.group_name!r}, ranks={list(self._ranks)})"

    def _p2p_info(self, op: str, sig: Any, peers: Sequence[int]) -> CollInfo:
        """Point to point: no sequence number (not matched across the group); `peers` are
        the global ranks that can complete it."""
        return CollInfo(op, self.group_name, -1, tuple(peers), sig, debug.call_site())


class GroupMember:
    """torch's markers: ``WORLD`` (the default group) and ``NON_GROUP_MEMBER``."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


class group:  # torch's name
    WORLD: ProcessGroup | None = None


class _State:
    def __init__(self) -> None:
        self.default: ProcessGroup | None = None
        self.groups: dict[str, ProcessGroup] = {}
        self.counter = 0
        self.retired: dict[str, int] = {}  # last seq of destroyed groups, for exit notices


_state = _State()


def _seqs() -> dict[str, int]:
    """Group name -> number of collectives this rank has posted on it (peers read this)."""
    return {**_state.retired, **{name: pg._seq for name, pg in _state.groups.items()}}


def _register(pg: ProcessGroup) -> ProcessGroup:
    _state.groups[pg.group_name] = pg
    return pg


# ------------------------------------------------------------------ setup
def is_available() -> bool:
    """Whether ember.distributed can run (mpi4py is installed)."""
    from ember.distributed import mpi

    return mpi.is_available()


def is_mpi_available() -> bool:
    return is_available()


def is_gloo_available() -> bool:
    return is_available()  # 'gloo' is an alias of the MPI backend on CPU


def is_nccl_available() -> bool:
    return False


def is_ucc_available() -> bool:
    return False


def is_xccl_available() -> bool:
    return False


def is_initialized() -> bool:
    return _state.default is not None


def is_torchelastic_launched() -> bool:
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _backend_name(backend: Any) -> str:
    name = "mpi" if backend is None else str(backend).lower()
    parts = [p.split(":")[-1] for p in name.split(",")]  # "cpu:gloo,cuda:nccl"
    if any(p in ("mpi", "gloo") for p in parts):
        return "gloo" if "gloo" in parts and "mpi" not in parts else "mpi"
    if parts == ["nccl"]:
        from ember.backends import cuda

        if not cuda.is_available():
            raise RuntimeError(
                "init_process_group(backend='nccl') needs CUDA GPUs, but ember found none "
                "(ember.cuda.is_available() is False). On CPU use backend='gloo' (or 'mpi'): "
                "ember runs both on MPI."
            )
        warnings.warn(
            "ember has no NCCL backend yet: backend='nccl' runs on MPI and moves CUDA tensors "
            "through host memory", RuntimeWarning, stacklevel=3,
        )  # fmt: skip
        return "nccl"
    raise ValueError(
        f"Invalid backend {backend!r}: ember.distributed supports 'mpi' and 'gloo' (its CPU "
        "alias), and 'nccl' on machines with CUDA"
    )


def _check_agrees(what: str, given: int, actual: int, source: str, world: int) -> None:
    if given in (-1, None) or int(given) == actual:
        return
    if what == "world_size" and world == 1:
        raise ValueError(
            f"init_process_group: {source} world_size={given}, but this process was not started "
            "by an MPI launcher (MPI world size is 1). ember.distributed runs on MPI: start the "
            f"script with `ember-run --nproc-per-node {given} script.py` (or `mpiexec -n {given} "
            "python script.py`) instead of spawning processes yourself."
        )
    raise ValueError(
        f"init_process_group: {source} {what}={given}, but MPI says {what}={actual} for this "
        "process; drop the argument (ember reads rank and world size from MPI) or launch with "
        "matching values"
    )


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    store: Any = None,
    group_name: str = "",
    pg_options: Any = None,
    device_id: Any = None,
    *,
    debug_level: Any = None,
) -> None:
    """Join the default process group. Rank and world size come from MPI.

    Explicit `rank`/`world_size` (or ``RANK``/``WORLD_SIZE`` in the environment) must agree with
    MPI. `init_method` is accepted and ignored (MPI's launcher does the rendezvous).
    `debug_level` ("OFF"/"INFO"/"DETAIL" or bool) sets the debug level, like the
    ``TORCH_DISTRIBUTED_DEBUG`` variable.
    """
    if _state.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None:
        raise ValueError("ember.distributed has no key-value stores: MPI does the rendezvous; "
                         "drop store=")  # fmt: skip
    name = _backend_name(backend)
    debug.set_debug_level_from_env()
    if debug_level is not None:
        debug.set_debug_level(debug_level)
    env_t = os.environ.get("EMBER_DISTRIBUTED_TIMEOUT")
    timeout_s = seconds(timeout) or (float(env_t) if env_t else default_pg_timeout.total_seconds())
    from ember.distributed import mpi

    comm = mpi.init_world(timeout_s)
    world = comm.world_size
    _check_agrees("world_size", world_size, world, "got", world)
    _check_agrees("rank", rank, comm.rank, "got", world)
    if world_size in (-1, None) and rank in (-1, None):
        _check_agrees("world_size", int(os.environ.get("WORLD_SIZE", -1)), world,
                      "the environment has", world)  # fmt: skip
        _check_agrees("rank", int(os.environ.get("RANK", -1)), comm.rank,
                      "the environment has", world)  # fmt: skip
    _state.counter = 0
    pg = _register(ProcessGroup(comm, "0", timeout_s, name, group_name or "default_pg"))
    _state.default = pg
    GroupMember.WORLD = group.WORLD = pg
    monitor = mpi.monitor()
    if monitor is not None:
        monitor.seqs = _seqs
    debug.install_excepthook(comm.rank, world, mpi.abort)


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Forget `group` (default: every group). Local, as in torch."""
    if group is None or group is _state.default:
        _state.retired.update(_seqs())
        _state.groups.clear()
        _state.default = None
        GroupMember.WORLD = globals()["group"].WORLD = None
        return
    if isinstance(group, ProcessGroup):
        _state.retired[group.group_name] = group._seq
        _state.groups.pop(group.group_name, None)


def _default() -> ProcessGroup:
    pg = _state.default
    if pg is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    return pg


def _resolve(grp: Any) -> ProcessGroup | None:
    """The group to use, or None when this rank is not a member."""
    if grp is None or grp is GroupMember.WORLD:
        return _default()
    if isinstance(grp, int) and grp == GroupMember.NON_GROUP_MEMBER:
        _default()
        return None
    if not isinstance(grp, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(grp).__name__}")
    return grp


def _member(grp: Any, op: str) -> ProcessGroup | None:
    pg = _resolve(grp)
    if pg is None:
        rank = _default().rank()
        warnings.warn(
            f"Running {op} on global rank {rank} which does not belong to the given group.",
            stacklevel=3,
        )
    return pg


def new_group(
    ranks: Sequence[int] | None = None,
    timeout: timedelta | None = None,
    backend: str | None = None,
    pg_options: Any = None,
    use_local_synchronization: bool = False,
    group_desc: str | None = None,
    device_id: Any = None,
    sort_ranks: bool = True,
) -> Any:
    """A group of some ranks. Every rank of the default group must call it, in the same order.

    Non-members get ``GroupMember.NON_GROUP_MEMBER``.
    """
    world = _default()
    n = world.size()
    members = list(range(n)) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        members = sorted(members)
    if len(set(members)) != len(members) or any(not 0 <= r < n for r in members):
        raise ValueError(f"new_group: ranks {list(ranks or [])} must be distinct ranks in "
                         f"[0, {n - 1}]")  # fmt: skip
    _state.counter += 1
    name = str(_state.counter)
    info = world._info("new_group", sig=str(members))
    world._check(info)
    comm = world._comm.split(members, info)
    if comm is None:
        return GroupMember.NON_GROUP_MEMBER
    t = seconds(timeout) if timeout is not None else world._timeout_s
    comm.timeout_s = t  # type: ignore[attr-defined]  # the new group's own timeout
    return _register(ProcessGroup(comm, name, t, world._backend, group_desc or ""))


def _private_copy(pg: ProcessGroup, tag: str) -> ProcessGroup:
    """A duplicate of `pg` for a library's own traffic (DDP's buckets): collective."""
    _state.counter += 1
    info = pg._info("dup", note=tag)
    comm = pg._comm.dup(info)
    return _register(ProcessGroup(comm, f"{tag}{_state.counter}", pg._timeout_s, pg._backend))


def get_rank(group: ProcessGroup | None = None) -> int:
    pg = _resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    pg = _resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group: ProcessGroup | None = None) -> Backend:
    pg = _resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg._backend


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    pg = _resolve(group)
    return [] if pg is None else list(pg._ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    pg = _resolve(group)
    if pg is None or not 0 <= group_rank < len(pg._ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return pg._ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    pg = _resolve(group)
    if pg is None or global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return pg._ranks.index(global_rank)


def get_default_timeout() -> timedelta:
    return timedelta(seconds=_default()._timeout_s)


# ------------------------------------------------------------------ tensors <-> host buffers
def _need(t: Any, fn: str, name: str = "tensor") -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be a Tensor, not {type(t).__name__}")
    return t


def _to_host(a: Any) -> np.ndarray:
    if a.__class__ is not np.ndarray:
        from ember.backends import xp_of

        a = xp_of(a).asnumpy(a) if hasattr(xp_of(a), "asnumpy") else np.asarray(a)
    return a


def _read(t: Tensor) -> np.ndarray:
    """Contiguous host data of `t` (no copy when it already is)."""
    a = _to_host(t._data)
    return a if a.flags.c_contiguous else np.array(a, order="C")


def _write(t: Tensor, value: np.ndarray) -> None:
    a = t._data
    if a.__class__ is np.ndarray:
        np.copyto(a, value.reshape(a.shape), casting="unsafe")
    else:
        from ember.backends import xp_of

        a[...] = xp_of(a).asarray(value.reshape(a.shape))


def _inout(t: Tensor) -> tuple[np.ndarray, Callable[[], None] | None]:
    """A buffer holding `t`'s data that results can be written into, and its write-back."""
    a = t._data
    if a.__class__ is np.ndarray and a.flags.c_contiguous and a.flags.writeable:
        return a, None
    buf = np.array(_to_host(a), order="C")
    return buf, lambda: _write(t, buf)


def _chain(*fns: Callable[[], None] | None) -> Callable[[], None] | None:
    todo = [f for f in fns if f is not None]
    if not todo:
        return None

    def run() -> None:
        for f in todo:
            f()

    return run


def _finish(
    work: Work, fn: Callable[[], None] | None, result: Sequence, async_op: bool
) -> Work | None:
    work._finish = fn
    work._result = list(result)
    if async_op:
        return work
    work.wait()
    return None


def _sig(t: Tensor, *details: Any) -> tuple:
    """What must agree across ranks, formatted only if needed (see CollInfo.signature)."""
    return (t._data.shape, t._data.dtype, *details)


def _as_op(op: Any) -> ReduceOp:
    try:
        return ReduceOp(int(op))
    except (TypeError, ValueError):
        raise ValueError(f"Invalid reduce op {op!r}: use dist.ReduceOp.SUM/AVG/...") from None


def _reducible(pg: ProcessGroup, buf: np.ndarray, op: ReduceOp, fn: str) -> tuple:
    """(buffer to reduce, backend op, after-completion fix-up) for `op` on `buf`'s dtype."""
    kind = buf.dtype.kind
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "biu":
        raise ValueError(f"{fn}: Cannot use ReduceOp.{op.name} with non-integral dtype "
                         f"{buf.dtype}")  # fmt: skip
    if op is ReduceOp.AVG and kind not in "fcV":
        raise ValueError(f"{fn}: ReduceOp.AVG needs a floating point or complex tensor, got "
                         f"{buf.dtype}; use SUM and divide")  # fmt: skip
    if op in (ReduceOp.PREMUL_SUM, ReduceOp.UNUSED):
        raise ValueError(f"{fn}: ReduceOp.{op.name} is not supported by the MPI backend")
    if kind == "c" and op in (ReduceOp.MIN, ReduceOp.MAX):
        raise ValueError(f"{fn}: ReduceOp.{op.name} is not defined for complex tensors")
    work_buf, back = buf, None
    if not pg._comm.supports_reduce(buf.dtype):  # bfloat16: reduce in float32
        work_buf = buf.astype(np.float32)

        def back() -> None:
            np.copyto(buf, work_buf, casting="unsafe")

    post = None
    if op is ReduceOp.AVG:
        n = pg.size()

        def post() -> None:
            np.divide(work_buf, n, out=work_buf)

    return work_buf, ReduceOp.SUM if op is ReduceOp.AVG else op, _chain(post, back)


# ------------------------------------------------------------------ collectives
def all_reduce(
    tensor: Tensor, op: Any = ReduceOp.SUM, group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:  # fmt: skip
    """Reduce `tensor` across ranks, in place on every rank."""
    _need(tensor, "all_reduce")
    pg = _member(group, "all_reduce")
    if pg is None:
        return None
    op = _as_op(op)
    buf, back = _inout(tensor)
    info = pg._info("all_reduce", _sig(tensor, op))
    red, mop, fix = _reducible(pg, buf, op, "all_reduce")
    pg._check(info)
    work = pg._comm.all_reduce(red, mop, info)
    return _finish(work, _chain(fix, back), [tensor], async_op)


def reduce(
    tensor: Tensor, dst: int | None = None, op: Any = ReduceOp.SUM,
    group: ProcessGroup | None = None, async_op: bool = False, group_dst: int | None = None,
) -> Work | None:  # fmt: skip
    """Reduce `tensor` across ranks into `dst`'s tensor (others keep theirs)."""
    _need(tensor, "reduce")
    pg = _member(group, "reduce")
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst)
    op = _as_op(op)
    buf, back = _inout(tensor)
    info = pg._info("reduce", _sig(tensor, op, f"dst={root}"))
    red, mop, fix = _reducible(pg, buf, op, "reduce")
    pg._check(info)
    work = pg._comm.reduce(red, root, mop, info)
    mine = _chain(fix, back) if pg.rank() == root else None
    return _finish(work, mine, [tensor], async_op)


def _group_rank(pg: ProcessGroup, global_rank: int | None, group_rank: int | None,
                default: int | None = None) -> int:  # fmt: skip
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
        return group_rank
    if global_rank is None:
        if default is None:
            raise ValueError("Must specify global_rank or group_rank")
        global_rank = pg._ranks[default]
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg._ranks.index(global_rank)


def broadcast(
    tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
    async_op: bool = False, group_src: int | None = None,
) -> Work | None:  # fmt: skip
    """Copy `src`'s tensor into every rank's `tensor`."""
    _need(tensor, "broadcast")
    pg = _member(group, "broadcast")
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src)
    buf, back = _inout(tensor)
    info = pg._info("broadcast", _sig(tensor, f"src={root}"))
    pg._check(info)
    work = pg._comm.broadcast(buf, root, info)
    return _finish(work, back, [tensor], async_op)


def _same(ts: Sequence[Tensor], like: Tensor, fn: str, name: str, n: int) -> None:
    if len(ts) != n:
        raise ValueError(f"{fn}: {name} must hold one tensor per rank ({n}), got {len(ts)}")
    for t in ts:
        _need(t, fn, name)
        if t.dtype != like.dtype:
            raise ValueError(f"{fn}: Invalid usage of tensors with different dtypes Found "
                             f"{like.dtype} and  {t.dtype}")  # fmt: skip
        if tuple(t.shape) != tuple(like.shape):
            raise ValueError(f"{fn}: every tensor in {name} must have shape "
                             f"{list(like.shape)}, got {list(t.shape)}")  # fmt: skip


def all_gather(
    tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:  # fmt: skip
    """Every rank's `tensor` into `tensor_list` (one tensor per rank, in rank order)."""
    _need(tensor, "all_gather")
    pg = _member(group, "all_gather")
    if pg is None:
        return None
    n = pg.size()
    _same(tensor_list, tensor, "all_gather", "tensor_list", n)
    inp = _read(tensor)
    out = np.empty((n, *inp.shape), inp.dtype)
    info = pg._info("all_gather", _sig(tensor))
    pg._check(info)
    work = pg._comm.all_gather(out, inp, info)

    def fin() -> None:
        for i, t in enumerate(tensor_list):
            _write(t, out[i])

    return _finish(work, fin, tensor_list, async_op)


def all_gather_into_tensor(
    output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:  # fmt: skip
    """Every rank's `input_tensor`, concatenated (or stacked) into `output_tensor`."""
    _need(output_tensor, "all_gather_into_tensor", "output_tensor")
    _need(input_tensor, "all_gather_into_tensor", "input_tensor")
    pg = _member(group, "all_gather_into_tensor")
    if pg is None:
        return None
    n = pg.size()
    if (
        output_tensor.numel() != n * input_tensor.numel()
        or output_tensor.dtype != input_tensor.dtype
    ):
        raise ValueError(
            f"all_gather_into_tensor: output tensor must have world_size ({n}) times the "
            f"elements of the input and the same dtype; got output {list(output_tensor.shape)} "
            f"{output_tensor.dtype}, input {list(input_tensor.shape)} {input_tensor.dtype}"
        )
    inp = _read(input_tensor)
    out, back = _inout(output_tensor)
    info = pg._info("all_gather_into_tensor", _sig(input_tensor))
    pg._check(info)
    work = pg._comm.all_gather(out, inp, info)
    return _finish(work, back, [output_tensor], async_op)


def gather(
    tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int | None = None,
    group: ProcessGroup | None = None, async_op: bool = False, group_dst: int | None = None,
) -> Work | None:  # fmt: skip
    """Every rank's `tensor` into `dst`'s `gather_list`."""
    _need(tensor, "gather")
    pg = _member(group, "gather")
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst, default=0)
    n = pg.size()
    me = pg.rank()
    if me == root:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _same(gather_list, tensor, "gather", "gather_list", n)
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    inp = _read(tensor)
    out = np.empty((n, *inp.shape), inp.dtype) if me == root else None
    info = pg._info("gather", _sig(tensor, f"dst={root}"))
    pg._check(info)
    work = pg._comm.gather(out, inp, root, info)

    def fin() -> None:
        if out is not None and gather_list:
            for i, t in enumerate(gather_list):
                _write(t, out[i])

    return _finish(work, fin, gather_list or [], async_op)


def scatter(
    tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None,
    group: ProcessGroup | None = None, async_op: bool = False, group_src: int | None = None,
) -> Work | None:  # fmt: skip
    """`src`'s ``scatter_list[i]`` into rank i's `tensor`."""
    _need(tensor, "scatter")
    pg = _member(group, "scatter")
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src, default=0)
    n = pg.size()
    me = pg.rank()
    inp = None
    if me == root:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _same(scatter_list, tensor, "scatter", "scatter_list", n)
        inp = np.stack([_read(t) for t in scatter_list])
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    out, back = _inout(tensor)
    info = pg._info("scatter", _sig(tensor, f"src={root}"))
    pg._check(info)
    work = pg._comm.scatter(out, inp, root, info)
    return _finish(work, back, [tensor], async_op)


def reduce_scatter(
    output: Tensor, input_list: list[Tensor], op: Any = ReduceOp.SUM,
    group: ProcessGroup | None = None, async_op: bool = False,
) -> Work | None:  # fmt: skip
    """Reduce ``input_list[i]`` across ranks into rank i's `output`."""
    _need(output, "reduce_scatter", "output")
    pg = _member(group, "reduce_scatter")
    if pg is None:
        return None
    op = _as_op(op)
    _same(input_list, output, "reduce_scatter", "input_list", pg.size())
    inp = np.stack([_read(t) for t in input_list])
    return _reduce_scatter(pg, output, inp, op, "reduce_scatter", async_op)


def reduce_scatter_tensor(
    output: Tensor, input: Tensor, op: Any = ReduceOp.SUM, group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:  # fmt: skip
    """Reduce `input` (world_size equal parts along dim 0) across ranks; rank i gets part i."""
    _need(output, "reduce_scatter_tensor", "output")
    _need(input, "reduce_scatter_tensor", "input")
    pg = _member(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    n = pg.size()
    if input.numel() != n * output.numel() or input.dtype != output.dtype:
        raise ValueError(
            f"reduce_scatter_tensor: input tensor must have world_size ({n}) times the elements "
            f"of the output and the same dtype; got input {list(input.shape)} {input.dtype}, "
            f"output {list(output.shape)} {output.dtype}"
        )
    return _reduce_scatter(pg, output, _read(input), _as_op(op), "reduce_scatter_tensor",
                           async_op)  # fmt: skip


def _reduce_scatter(pg: ProcessGroup, output: Tensor, inp: np.ndarray, op: ReduceOp, fn: str,
                    async_op: bool) -> Work | None:  # fmt: skip
    out, back = _inout(output)
    info = pg._info(fn, _sig(output, op))
    inp = inp.copy() if inp.base is not None or not inp.flags.writeable else inp
    red_in, mop, _ = _reducible(pg, inp, op, fn)
    red_out, _, fix_out = _reducible(pg, out, op, fn)
    pg._check(info)
    work = pg._comm.reduce_scatter(red_out, red_in, mop, info)
    return _finish(work, _chain(fix_out, back), [output], async_op)


def all_to_all(
    output_tensor_list: list[Tensor], input_tensor_list: list[Tensor],
    group: ProcessGroup | None = None, async_op: bool = False,
) -> Work | None:  # fmt: skip
    """``input_tensor_list[j]`` goes to rank j, arriving in its ``output_tensor_list[me]``."""
    pg = _member(group, "all_to_all")
    if pg is None:
        return None
    n = pg.size()
    for name, ts in (("output_tensor_list", output_tensor_list),
                     ("input_tensor_list", input_tensor_list)):  # fmt: skip
        if len(ts) != n:
            raise ValueError(f"all_to_all: {name} must hold one tensor per rank ({n}), "
                             f"got {len(ts)}")  # fmt: skip
        for t in ts:
            _need(t, "all_to_all", name)
    ins = [_read(t) for t in input_tensor_list]
    inp = np.concatenate([a.reshape(-1).view(np.uint8) for a in ins])
    out_counts = [t.numel() * t.element_size() for t in output_tensor_list]
    out = np.empty(sum(out_counts), np.uint8)
    info = pg._info("all_to_all", f"dtype={input_tensor_list[0].dtype}")
    pg._check(info)
    work = pg._comm.all_to_all(out, inp, out_counts, [a.nbytes for a in ins], info)

    def fin() -> None:
        pos = 0
        for t, c in zip(output_tensor_list, out_counts, strict=True):
            dt = _to_host(t._data).dtype
            _write(t, out[pos : pos + c].view(dt))
            pos += c

    return _finish(work, fin, output_tensor_list, async_op)


def all_to_all_single(
    output: Tensor, input: Tensor, output_split_sizes: list[int] | None = None,
    input_split_sizes: list[int] | None = None, group: ProcessGroup | None = None,
    async_op: bool = False,
) -> Work | None:  # fmt: skip
    """Split `input` along dim 0 (equally, or by `input_split_sizes`); part j goes to rank j,
    and the parts received are concatenated into `output`."""
    _need(output, "all_to_all_single", "output")
    _need(input, "all_to_all_single", "input")
    pg = _member(group, "all_to_all_single")
    if pg is None:
        return None
    n = pg.size()
    inp = _read(input)
    out, back = _inout(output)

    def counts(sizes: list[int] | None, a: np.ndarray, what: str) -> list[int]:
        rows = a.shape[0] if a.ndim else 1
        row_bytes = a.nbytes // rows if rows else 0
        if not sizes:
            if rows % n:
                raise ValueError(f"all_to_all_single: {what} dim 0 ({rows}) is not divisible "
                                 f"by the world size ({n}); pass {what}_split_sizes")  # fmt: skip
            return [rows // n * row_bytes] * n
        if len(sizes) != n or sum(sizes) != rows:
            raise ValueError(f"all_to_all_single: {what}_split_sizes {list(sizes)} must have "
                             f"{n} entries summing to {what}.size(0) = {rows}")  # fmt: skip
        return [int(s) * row_bytes for s in sizes]

    in_counts = counts(input_split_sizes, inp, "input")
    out_counts = counts(output_split_sizes, out, "output")
    info = pg._info("all_to_all_single", f"dtype={input.dtype}")
    pg._check(info)
    work = pg._comm.all_to_all(out, inp, out_counts, in_counts, info)
    return _finish(work, back, [output], async_op)


def barrier(
    group: ProcessGroup | None = None, async_op: bool = False, device_ids: Any = None,
    timeout: timedelta | None = None,
) -> Work | None:  # fmt: skip
    """Wait until every rank of the group has entered."""
    pg = _member(group, "barrier")
    if pg is None:
        return None
    info = pg._info("barrier")
    pg._check(info)
    work = pg._comm.barrier(info)
    if async_op:
        return work
    work.wait(timeout)
    return None


def monitored_barrier(
    group: ProcessGroup | None = None, timeout: timedelta | None = None,
    wait_all_ranks: bool = False,
) -> None:  # fmt: skip
    """A barrier whose timeout error names the ranks that did not arrive (every barrier
    here does that)."""
    barrier(group, timeout=timeout)


# ------------------------------------------------------------------ point to point
def _peer(pg: ProcessGroup, rank: int | None, group_rank: int | None, what: str) -> int:
    r = _group_rank(pg, rank, group_rank)
    if r == pg.rank():
        raise ValueError(f"Invalid {what} rank: {what} rank should not be the same as the rank "
                         "of the current process.")  # fmt: skip
    return r


def isend(
    tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
    group_dst: int | None = None,
) -> Work | None:  # fmt: skip
    """Send `tensor` to `dst` without waiting."""
    _need(tensor, "isend")
    pg = _member(group, "isend")
    if pg is None:
        return None
    peer = _peer(pg, dst, group_dst, "destination")
    info = pg._p2p_info("send", _sig(tensor, f"tag={tag}"), [pg._ranks[peer]])
    work = pg._comm.send(np.array(_read(tensor), copy=True), peer, tag, info)
    return work


def irecv(
    tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
    group_src: int | None = None,
) -> Work | None:  # fmt: skip
    """Receive into `tensor` from `src` (None: any rank) without waiting."""
    _need(tensor, "irecv")
    pg = _member(group, "irecv")
    if pg is None:
        return None
    peer = None if src is None and group_src is None else _peer(pg, src, group_src, "source")
    buf, back = _inout(tensor)
    me = pg._ranks[pg.rank()]
    peers = [r for r in pg._ranks if r != me] if peer is None else [pg._ranks[peer]]
    info = pg._p2p_info("recv", _sig(tensor, f"tag={tag}"), peers)
    work = pg._comm.recv(buf, peer, tag, info)
    work._finish = back
    work._result = [tensor]
    return work


def send(
    tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
    group_dst: int | None = None,
) -> None:  # fmt: skip
    """Send `tensor` to `dst`; returns once the data is on its way."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(
    tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
    group_src: int | None = None,
) -> int:  # fmt: skip
    """Receive into `tensor` from `src` (None: any rank); returns the sender's rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work.source_rank()


class P2POp:
    """One operation of ``batch_isend_irecv``: ``P2POp(dist.isend, tensor, peer)``."""

    def __init__(self, op: Callable, tensor: Tensor, peer: int | None = None,
                 group: ProcessGroup | None = None, tag: int = 0,
                 group_peer: int | None = None) -> None:  # fmt: skip
        if op not in (isend, irecv, send, recv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed."
                             "isend`` or ``torch.distributed.irecv``.")  # fmt: skip
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group
        self.tag, self.group_peer = tag, group_peer


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Post every send/recv of the list; returns their Works."""
    works = []
    for p in p2p_op_list:
        fn = isend if p.op in (isend, send) else irecv
        w = fn(p.tensor, p.peer, p.group, p.tag, p.group_peer)
        if w is not None:
            works.append(w)
    return works


# ------------------------------------------------------------------ Python objects
def _pickle(obj: Any) -> np.ndarray:
    return np.frombuffer(pickle.dumps(obj), np.uint8)


def _unpickle(buf: np.ndarray) -> Any:
    return pickle.loads(buf.tobytes())  # ranks of one job trust each other


def _sizes(pg: ProcessGroup, n: int, op: str) -> np.ndarray:
    """Every rank's payload size (one all_gather)."""
    mine = np.array([n], np.int64)
    out = np.empty(pg.size(), np.int64)
    info = pg._info(op, note="sizes")
    pg._check(info)
    pg._comm.all_gather(out, mine, info).wait()
    return out


def broadcast_object_list(
    object_list: list[Any], src: int | None = None, group: ProcessGroup | None = None,
    device: Any = None, group_src: int | None = None,
) -> None:  # fmt: skip
    """Replace `object_list`'s items, on every rank, by `src`'s (picklable) objects."""
    pg = _member(group, "broadcast_object_list")
    if pg is None:
        return
    root = _group_rank(pg, src, group_src, default=0)
    me = pg.rank()
    payloads = [_pickle(o) for o in object_list] if me == root else []
    sizes = np.array([p.size for p in payloads] if me == root else [0] * len(object_list),
                     np.int64)  # fmt: skip
    info = pg._info("broadcast_object_list", f"n={len(object_list)}", note="sizes")
    pg._check(info)
    pg._comm.broadcast(sizes, root, info).wait()
    data = np.concatenate(payloads) if payloads else np.empty(int(sizes.sum()), np.uint8)
    if data.size:
        pg._comm.broadcast(data, root, pg._info("broadcast_object_list", note="data")).wait()
    if me != root:
        pos = 0
        for i, s in enumerate(sizes.tolist()):
            object_list[i] = _unpickle(data[pos : pos + s])
            pos += s


def all_gather_object(object_list: list[Any], obj: Any, group: ProcessGroup | None = None) -> None:
    """``object_list[i]`` = rank i's `obj`, on every rank."""
    pg = _member(group, "all_gather_object")
    if pg is None:
        return
    n = pg.size()
    if len(object_list) != n:
        raise ValueError(f"all_gather_object: object_list must have world_size ({n}) entries")
    data = _pickle(obj)
    sizes = _sizes(pg, data.size, "all_gather_object")
    width = int(sizes.max())
    padded = np.zeros(width, np.uint8)
    padded[: data.size] = data
    out = np.empty((n, width), np.uint8)
    pg._comm.all_gather(out, padded, pg._info("all_gather_object", note="data")).wait()
    for i in range(n):
        object_list[i] = _unpickle(out[i, : sizes[i]])


def gather_object(
    obj: Any, object_gather_list: list[Any] | None = None, dst: int | None = None,
    group: ProcessGroup | None = None, group_dst: int | None = None,
) -> None:  # fmt: skip
    """``object_gather_list[i]`` on `dst` = rank i's `obj`."""
    pg = _member(group, "gather_object")
    if pg is None:
        return
    root = _group_rank(pg, dst, group_dst, default=0)
    n = pg.size()
    me = pg.rank()
    if me == root and (object_gather_list is None or len(object_gather_list) != n):
        raise ValueError(f"gather_object: object_gather_list must have world_size ({n}) "
                         "entries on the destination rank")  # fmt: skip
    data = _pickle(obj)
    sizes = _sizes(pg, data.size, "gather_object")
    width = int(sizes.max())
    padded = np.zeros(width, np.uint8)
    padded[: data.size] = data
    out = np.empty((n, width), np.uint8) if me == root else None
    pg._comm.gather(out, padded, root, pg._info("gather_object", note="data")).wait()
    if out is not None and object_gather_list is not None:
        for i in range(n):
            object_gather_list[i] = _unpickle(out[i, : sizes[i]])


def scatter_object_list(
    scatter_object_output_list: list[Any], scatter_object_input_list: list[Any] | None = None,
    src: int | None = None, group: ProcessGroup | None = None, group_src: int | None = None,
) -> None:  # fmt: skip
    """``scatter_object_output_list[0]`` on rank i = `src`'s ``scatter_object_input_list[i]``."""
    pg = _member(group, "scatter_object_list")
    if pg is None:
        return
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size "
                         "at least 1.")  # fmt: skip
    root = _group_rank(pg, src, group_src, default=0)
    n = pg.size()
    me = pg.rank()
    width = np.zeros(1, np.int64)
    rows = None
    if me == root:
        if scatter_object_input_list is None or len(scatter_object_input_list) != n:
            raise ValueError(f"scatter_object_list: scatter_object_input_list must have "
                             f"world_size ({n}) entries on the source rank")  # fmt: skip
        payloads = [_pickle(o) for o in scatter_object_input_list]
        width[0] = max(p.size for p in payloads) + 8
        rows = np.zeros((n, int(width[0])), np.uint8)
        for i, p in enumerate(payloads):
            rows[i, :8] = np.frombuffer(np.int64(p.size).tobytes(), np.uint8)
            rows[i, 8 : 8 + p.size] = p
    info = pg._info("scatter_object_list", note="sizes")
    pg._check(info)
    pg._comm.broadcast(width, root, info).wait()
    out = np.empty(int(width[0]), np.uint8)
    pg._comm.scatter(out, rows, root, pg._info("scatter_object_list", note="data")).wait()
    size = int(out[:8].view(np.int64)[0])
    scatter_object_output_list[0] = _unpickle(out[8 : 8 + size])
