"""The MPI backend (mpi4py): non-blocking MPI calls, completed against a deadline.

Every operation is posted with MPI's non-blocking call and completed by ``Monitor.wait``. It
spins briefly (small messages finish in microseconds), then sleeps with back-off while it reads a
side channel (a private duplicate of ``COMM_WORLD``) carrying exit notices of ranks whose script
ended and answers to status queries ("which collective are you blocked in?"). So a collective
that can never complete raises instead of hanging:

* a rank exited before joining it: ``DistBackendError`` at once;
* two ranks blocked in collectives the other has not reached: deadlock, after ~1 s;
* same collective number on the same group but another op or shape: ``CollectiveMismatchError``;
* otherwise ``DistTimeoutError`` after the group's timeout, saying which ranks have not joined
  and where they are (a rank that cannot answer is asked by signal to print its Python stack).

MPI only progresses non-blocking operations inside MPI calls, so waiting is polling; ``_poll``
of a pending Work is also how DDP moves its bucket all-reduces along during backward.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ember.distributed.communicator import (
    CollectiveMismatchError,
    CollInfo,
    Communicator,
    DistBackendError,
    DistTimeoutError,
    ReduceOp,
    Work,
    nbytes_view,
)  # fmt: skip

__all__ = ["MPICommunicator", "MPIWork", "Monitor", "init_world", "load_mpi", "is_available"]

_SPIN_S = 0.002  # busy-poll (yielding the core) this long before sleeping between polls
_MAX_SLEEP_S = 0.001
_PROBE_S = float(os.environ.get("EMBER_DISTRIBUTED_PROBE_S", "1.0"))  # first status query
_PROBE_EVERY_S = 2.0
_EXIT_GRACE_S = 0.5  # p2p: messages sent just before a peer exited may still be in flight
_TAG_EXIT, _TAG_QUERY, _TAG_STATE = 1, 2, 3

_MPI: Any = None
_MONITOR: Monitor | None = None


def is_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def load_mpi() -> Any:
    """``mpi4py.MPI``, imported on first use (importing it initialises MPI)."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as exc:
            raise RuntimeError(
                "ember.distributed runs on MPI and needs mpi4py and an MPI library: "
                "pip install 'ember[distributed]' (installs mpi4py and mpich)"
            ) from exc
        _MPI = MPI
    return _MPI


class Monitor:
    """Completes Works with a deadline and watches the side channel (one per process)."""

    def __init__(self, MPI: Any, world: Any) -> None:
        self.MPI = MPI
        self.ctl = world.Dup()
        self.rank = world.Get_rank()
        self.size = world.Get_size()
        self.blocked: CollInfo | None = None  # what this rank is blocked in, for answers
        self.exited: dict[int, tuple[float, str, dict]] = {}
        self.peers: dict[int, tuple[float, CollInfo | None, dict]] = {}
        self.sends: list = []
        self.seqs: Callable[[], dict[str, int]] = dict  # c10d: group name -> last posted seq
        self.status = MPI.Status()
        me = (MPI.Get_processor_name(), os.getpid(), _register_stack_dump())
        self.procs: list = self.ctl.allgather(me)
        self.dumped: set[int] = set()
        # more ranks than cores on this host: spin-waiting must yield the core to the rank
        # being waited for; otherwise yielding only hands the core to unrelated processes
        local = sum(p[0] == me[0] for p in self.procs)
        self.yield_core = local > (os.cpu_count() or 1)

    # ---------------------------------------------------------------- side channel
    def _send(self, dest: int, tag: int, obj: Any) -> None:
        self.sends.append(self.ctl.isend(obj, dest=dest, tag=tag))
        if len(self.sends) > 64:
            self.sends = [r for r in self.sends if not r.Test()]

    def poll(self) -> None:
        """Handle every message waiting on the side channel (answers queries at once)."""
        MPI, st = self.MPI, self.status
        while self.ctl.Iprobe(MPI.ANY_SOURCE, MPI.ANY_TAG, st):
            src, tag = st.Get_source(), st.Get_tag()
            msg = self.ctl.recv(source=src, tag=tag)
            if tag == _TAG_QUERY:
                self._send(src, _TAG_STATE, (self.blocked, self.seqs()))
            elif tag == _TAG_STATE:
                self.peers[src] = (time.monotonic(), msg[0], msg[1])
            elif tag == _TAG_EXIT:
                self.exited[src] = (time.monotonic(), msg[0], msg[1])

    def announce_exit(self, how: str = "exited (its script ended)") -> None:
        """Tell every other rank this one is gone, so nobody waits for it (atexit)."""
        try:
            seqs = self.seqs()
            for r in range(self.size):
                if r != self.rank:
                    self._send(r, _TAG_EXIT, (how, seqs))
            end = time.monotonic() + 1.0
            while self.sends and time.monotonic() < end:
                self.sends = [r for r in self.sends if not r.Test()]
                time.sleep(0.001)
        except Exception:  # interpreter shutdown: never turn a clean exit into a crash
            pass

    # ---------------------------------------------------------------- waiting
    def wait(self, work: MPIWork, timeout_s: float) -> None:
        """Return once `work` completed; raise when it can never complete or times out."""
        if work._poll():
            return
        t0 = time.monotonic()
        # MPI moves data only while polled: busy-poll as long as the transfer itself may take
        # (at >= 1 GB/s), then poll less and less often (a peer that is late, not the wire)
        end_spin = t0 + _SPIN_S + work.nbytes * 1e-9
        spin_yield = self.yield_core
        while time.monotonic() < end_spin:
            if spin_yield:
                os.sched_yield()
            if work._poll():
                return
        info = work.info
        prev, self.blocked = self.blocked, info
        deadline = t0 + timeout_s
        ask = t0 + min(_PROBE_S, timeout_s / 2)
        delay = 2e-5
        try:
            while True:
                if work._poll():
                    return
                self.poll()
                now = time.monotonic()
                if info is not None:
                    self._check(info, now)
                    if info.seq >= 0 and now >= ask:
                        for r in info.ranks:
                            if r != self.rank:
                                self._send(r, _TAG_QUERY, None)
                        ask = now + _PROBE_EVERY_S
                if now >= deadline:
                    self._timeout(info, timeout_s, t0)
                time.sleep(delay)
                delay = min(delay * 2, _MAX_SLEEP_S)
        finally:
            self.blocked = prev

    def _check(self, info: CollInfo, now: float) -> None:
        """Raise if `info` can never complete, judging by exits and peers' answers.

        The rules only use facts that cannot go stale: a peer blocked in a collective that
        this rank has not posted cannot have moved on since it answered.
        """
        me = self.rank
        mine: dict[str, int] | None = None
        for r in info.ranks:
            if r == me:
                continue
            ex = self.exited.get(r)
            if ex is not None:
                last = ex[2].get(info.group, 0)
                p2p = info.seq < 0
                if (p2p and now - ex[0] > _EXIT_GRACE_S) or (not p2p and last < info.seq):
                    joined = "" if p2p else f" (its last collective on this group was #{last})"
                    raise DistBackendError(
                        f"rank {me}: {info.describe()} can never complete: rank {r} "
                        f"{ex[1]} before joining it{joined}. Every rank must make the same "
                        "sequence of collective calls; a rank that runs out of data early "
                        "(uneven inputs) ends like this: use DistributedSampler, or equal "
                        "numbers of batches per rank."
                    )
            p = self.peers.get(r)
            if p is None or p[1] is None or info.seq < 0:
                continue
            other, oseqs = p[1], p[2]
            if other.seq < 0:
                continue
            if other.group == info.group and other.seq == info.seq:
                if other.op != info.op or (info.sig and other.sig and other.sig != info.sig):
                    err = CollectiveMismatchError(
                        f"collective #{info.seq} on group {info.group!r} differs across ranks:\n"
                        f"  rank {me}: {info.describe()}\n  rank {r}: {other.describe()}"
                    )
                    raise err
                continue
            if mine is None:
                mine = self.seqs()
            if (
                me in other.ranks
                and mine.get(other.group, 0) < other.seq
                and oseqs.get(info.group, 0) < info.seq
            ):
                raise DistBackendError(
                    f"deadlock: rank {me} is blocked in {info.describe()}, which rank {r} has "
                    f"not reached (its last collective on group {info.group!r} is "
                    f"#{oseqs.get(info.group, 0)}); rank {r} is blocked in {other.describe()}, "
                    f"which rank {me} has not reached. Neither can ever complete: the ranks "
                    "made different sequences of collective calls (a rank-dependent branch, or "
                    "uneven numbers of batches per rank: use DistributedSampler)."
                )

    def _timeout(self, info: CollInfo | None, timeout_s: float, t0: float) -> None:
        me = self.rank
        what = info.describe() if info is not None else "an operation"
        lines = [f"rank {me}: {what} timed out after {timeout_s:g} s."]
        silent = []
        waiting = [me]
        for r in info.ranks if info is not None else ():
            if r == me:
                continue
            p = self.peers.get(r)
            if r in self.exited:
                lines.append(f"  rank {r}: {self.exited[r][1]}")
            elif p is not None and p[0] >= t0:
                last = p[2].get(info.group, 0)  # type: ignore[union-attr]
                if info.seq >= 0 and last >= info.seq:  # type: ignore[union-attr]
                    waiting.append(r)
                    lines.append(f"  rank {r}: joined it and is waiting for the others")
                else:
                    where = p[1].describe() if p[1] is not None else "user code"
                    lines.append(f"  rank {r}: has not joined (last collective on this group "
                                 f"#{last}); it is blocked in {where}")  # fmt: skip
            else:
                silent.append(r)
                lines.append(
                    f"  rank {r}: has not joined and did not answer a status query: it is running "
                    "code outside ember.distributed (computing, sleeping or stuck)"
                )
        if silent and me == min(waiting):
            dumped = self._dump_stacks(silent)
            if dumped:
                lines.append(f"  the Python stack of rank(s) {dumped} was printed to stderr above")
        if info is not None and info.seq < 0:
            lines.append("  (point-to-point: the peer has not posted the matching send/recv)")
        lines.append(
            "  Raise the limit with init_process_group(timeout=...) if the wait is expected."
        )
        raise DistTimeoutError("\n".join(lines))

    def _dump_stacks(self, ranks: Sequence[int]) -> list[int]:
        """Ask ranks on this host (that registered the handler) to print their stack."""
        import signal

        host = self.procs[self.rank][0]
        done = []
        for r in ranks:
            h, pid, ok = self.procs[r]
            if h != host or not ok or r in self.dumped:
                continue
            try:
                print(f"[ember.distributed] rank {self.rank}: Python stack of rank {r} "
                      f"(pid {pid}), which did not join:", file=sys.stderr, flush=True)  # fmt: skip
                os.kill(pid, signal.SIGUSR1)
                done.append(r)
                self.dumped.add(r)
            except OSError:
                pass
        if done:
            time.sleep(0.3)  # the dump is written by the other process: let it land first
        return done


def _register_stack_dump() -> bool:
    """Let other ranks ask this one for its Python stack (SIGUSR1), unless the app uses it."""
    import faulthandler
    import signal

    sig = getattr(signal, "SIGUSR1", None)
    if sig is None or signal.getsignal(sig) not in (signal.SIG_DFL, None):
        return False
    try:
        faulthandler.register(sig, all_threads=True, chain=False)
    except (RuntimeError, ValueError, OSError, AttributeError):  # stderr without a file descriptor
        return False
    return True


class MPIWork(Work):
    """Non-blocking MPI requests; `keep` holds the buffers alive until completion."""

    def __init__(
        self, comm: MPICommunicator, reqs: list, keep: Any, info: CollInfo | None,
        status: bool = False,
    ) -> None:  # fmt: skip
        super().__init__()
        self._comm = comm
        self._reqs = reqs
        self._keep = keep
        self.info = info
        self._status = comm.MPI.Status() if status else None
        self._src = -1
        self.nbytes = _nbytes(keep)

    def _poll(self) -> bool:
        if self._keep is None and not self._reqs:
            return True
        if self._status is not None:
            done = self._reqs[0].Test(self._status)
            if done:
                self._src = self._status.Get_source()
        else:
            done = self._comm.MPI.Request.Testall(self._reqs)
        if done:
            self._reqs, self._keep = [], None
        return bool(done)

    def _block(self, timeout_s: float | None) -> None:
        t = self._comm.timeout_s if timeout_s is None else timeout_s
        self._comm.monitor.wait(self, t)

    def source_rank(self) -> int:
        if self._src < 0:
            raise RuntimeError("source_rank() is only available on a completed recv")
        return self._comm.ranks[self._src]


def _nbytes(keep: Any) -> int:
    if isinstance(keep, np.ndarray):
        return keep.nbytes
    if isinstance(keep, tuple):
        return sum(a.nbytes for a in keep if isinstance(a, np.ndarray))
    return 0


def _ops(MPI: Any) -> tuple[dict, dict]:
    plain = {
        ReduceOp.SUM: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
        ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR,
        ReduceOp.BXOR: MPI.BXOR,
    }  # fmt: skip
    # MPI defines SUM/PROD/MIN/MAX on no boolean type: torch's bool results are logical ops
    logical = {
        ReduceOp.SUM: MPI.LOR, ReduceOp.PRODUCT: MPI.LAND, ReduceOp.MIN: MPI.LAND,
        ReduceOp.MAX: MPI.LOR, ReduceOp.BAND: MPI.LAND, ReduceOp.BOR: MPI.LOR,
        ReduceOp.BXOR: MPI.LXOR,
    }  # fmt: skip
    return plain, logical


_NATIVE = set("efdFDbhilqBHILQ?")  # NumPy type chars mpi4py maps to MPI types


class MPICommunicator(Communicator):
    """A group of processes as an MPI communicator."""

    backend = "mpi"

    def __init__(self, comm: Any, ranks: Sequence[int], monitor: Monitor, timeout_s: float) -> None:
        self.MPI = load_mpi()
        self.comm = comm
        self.rank = comm.Get_rank()
        self.world_size = comm.Get_size()
        self.ranks = tuple(ranks)
        self.monitor = monitor
        self.timeout_s = timeout_s
        self._plain, self._logical = _ops(self.MPI)

    def supports_reduce(self, dtype: np.dtype) -> bool:
        return dtype.char in _NATIVE and dtype.isnative

    def _op(self, buf: np.ndarray, op: ReduceOp) -> Any:
        return (self._logical if buf.dtype == np.bool_ else self._plain)[op]

    def _work(self, req: Any, keep: Any, info: CollInfo | None, status: bool = False) -> MPIWork:
        return MPIWork(self, [req], keep, info, status)

    def all_reduce(self, buf: np.ndarray, op: ReduceOp, info: CollInfo | None = None) -> Work:
        req = self.comm.Iallreduce(self.MPI.IN_PLACE, buf, self._op(buf, op))
        return self._work(req, buf, info)

    def reduce(self, buf: np.ndarray, dst: int, op: ReduceOp, info: CollInfo | None = None) -> Work:
        mop = self._op(buf, op)
        if self.rank == dst:
            req = self.comm.Ireduce(self.MPI.IN_PLACE, buf, mop, root=dst)
        else:
            req = self.comm.Ireduce(buf, None, mop, root=dst)
        return self._work(req, buf, info)

    def broadcast(self, buf: np.ndarray, src: int, info: CollInfo | None = None) -> Work:
        req = self.comm.Ibcast(nbytes_view(buf), root=src)
        return self._work(req, buf, info)

    def all_gather(self, out: np.ndarray, inp: np.ndarray, info: CollInfo | None = None) -> Work:
        req = self.comm.Iallgather(nbytes_view(inp), nbytes_view(out))
        return self._work(req, (out, inp), info)

    def gather(
        self, out: np.ndarray | None, inp: np.ndarray, dst: int, info: CollInfo | None = None
    ) -> Work:
        recv = nbytes_view(out) if self.rank == dst and out is not None else None
        req = self.comm.Igather(nbytes_view(inp), recv, root=dst)
        return self._work(req, (out, inp), info)

    def scatter(
        self, out: np.ndarray, inp: np.ndarray | None, src: int, info: CollInfo | None = None
    ) -> Work:
        send = nbytes_view(inp) if self.rank == src and inp is not None else None
        req = self.comm.Iscatter(send, nbytes_view(out), root=src)
        return self._work(req, (out, inp), info)

    def reduce_scatter(
        self, out: np.ndarray, inp: np.ndarray, op: ReduceOp, info: CollInfo | None = None
    ) -> Work:
        req = self.comm.Ireduce_scatter_block(inp, out, self._op(inp, op))
        return self._work(req, (out, inp), info)

    def all_to_all(
        self,
        out: np.ndarray,
        inp: np.ndarray,
        out_counts: Sequence[int],
        in_counts: Sequence[int],
        info: CollInfo | None = None,
    ) -> Work:
        BYTE = self.MPI.BYTE
        sd = np.concatenate([[0], np.cumsum(in_counts)[:-1]]).astype(np.int64).tolist()
        rd = np.concatenate([[0], np.cumsum(out_counts)[:-1]]).astype(np.int64).tolist()
        req = self.comm.Ialltoallv(
            [nbytes_view(inp), (list(in_counts), sd), BYTE],
            [nbytes_view(out), (list(out_counts), rd), BYTE],
        )
        return self._work(req, (out, inp), info)

    def barrier(self, info: CollInfo | None = None) -> Work:
        return self._work(self.comm.Ibarrier(), None, info)

    def send(self, buf: np.ndarray, dst: int, tag: int = 0, info: CollInfo | None = None) -> Work:
        req = self.comm.Isend(nbytes_view(buf), dest=dst, tag=tag)
        return self._work(req, buf, info)

    def recv(
        self, buf: np.ndarray, src: int | None, tag: int = 0, info: CollInfo | None = None
    ) -> Work:
        source = self.MPI.ANY_SOURCE if src is None else src
        req = self.comm.Irecv(nbytes_view(buf), source=source, tag=tag)
        return self._work(req, buf, info, status=True)

    def _guard(self, info: CollInfo | None) -> None:
        # MPI's communicator constructors block: meet first with a barrier that can time out
        self.barrier(info).wait()

    def split(self, ranks: Sequence[int], info: CollInfo | None = None) -> MPICommunicator | None:
        self._guard(info)
        member = self.rank in ranks
        color = 0 if member else self.MPI.UNDEFINED
        sub = self.comm.Split(color, list(ranks).index(self.rank) if member else 0)
        if not member:
            return None
        return MPICommunicator(sub, [self.ranks[r] for r in ranks], self.monitor, self.timeout_s)

    def dup(self, info: CollInfo | None = None) -> MPICommunicator:
        self._guard(info)
        return MPICommunicator(self.comm.Dup(), self.ranks, self.monitor, self.timeout_s)

    def abort(self, code: int = 1) -> None:
        abort(code)


def abort(code: int = 1) -> None:
    """End the whole job: MPI_Abort returns before the launcher kills us, so exit right away."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        if _MPI is not None:
            _MPI.COMM_WORLD.Abort(code)
        os._exit(code)


def init_world(timeout_s: float) -> MPICommunicator:
    """The default group: a private duplicate of COMM_WORLD (user MPI traffic never mixes in)."""
    global _MONITOR
    MPI = load_mpi()
    world = MPI.COMM_WORLD
    if _MONITOR is None:
        _meet(MPI, world, timeout_s)
        _MONITOR = Monitor(MPI, world)
        atexit.register(_MONITOR.announce_exit)
    comm = world.Dup()
    return MPICommunicator(comm, range(world.Get_size()), _MONITOR, timeout_s)


def monitor() -> Monitor | None:
    return _MONITOR


def _meet(MPI: Any, world: Any, timeout_s: float) -> None:
    """A barrier with a deadline before the first blocking setup call (the rendezvous)."""
    req = world.Ibarrier()
    end = time.monotonic() + timeout_s
    delay = 1e-5
    while not req.Test():
        if time.monotonic() > end:
            raise DistTimeoutError(
                f"init_process_group: rank {world.Get_rank()} waited {timeout_s:g} s for all "
                f"{world.Get_size()} MPI ranks to call init_process_group; some never did"
            )
        time.sleep(delay)
        delay = min(2 * delay, _MAX_SLEEP_S)
