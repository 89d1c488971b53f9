"""The backend contract: a small ``Communicator`` ABC whose methods are torch's collectives.

A communicator moves bytes between contiguous host arrays and returns a ``Work`` for every call
(all calls are non-blocking). Tensors, groups, dtype conversions, debug checks and error texts
live above it (``c10d.py``), so another backend (NCCL) only implements these methods. The shape
follows ChainerMN's ``CommunicatorBase``, spelled the torch.distributed way.
"""

from __future__ import annotations

import enum
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

__all__ = [
    "ReduceOp", "RedOpType", "Work", "Communicator", "CollInfo", "DistError", "DistBackendError",
    "DistNetworkError", "DistStoreError", "DistTimeoutError", "CollectiveMismatchError",
]  # fmt: skip


class ReduceOp(enum.IntEnum):
    """Reduction of ``all_reduce``/``reduce``/``reduce_scatter`` (torch's values)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {self.value}>"

    def __str__(self) -> str:
        return f"RedOpType.{self.name}"


RedOpType = ReduceOp
# torch spells the members' type ReduceOp.RedOpType
ReduceOp.RedOpType = ReduceOp  # type: ignore[attr-defined]


class DistError(RuntimeError):
    """Base of ember.distributed errors (torch.distributed.DistError)."""


class DistBackendError(DistError):
    """A collective failed or can never complete (torch.distributed.DistBackendError)."""


class DistNetworkError(DistError):
    """torch.distributed.DistNetworkError."""


class DistStoreError(DistError):
    """torch.distributed.DistStoreError."""


class DistTimeoutError(DistBackendError):
    """A collective did not complete within the process group's timeout."""


class CollectiveMismatchError(DistBackendError):
    """Ranks called different collectives (op, shape or dtype) at the same point."""


for _cls in (DistError, DistBackendError, DistNetworkError, DistStoreError, DistTimeoutError,
             CollectiveMismatchError):  # fmt: skip
    _cls.__module__ = "ember.distributed"  # tracebacks print the public name


@dataclass(slots=True)
class CollInfo:
    """What a rank is doing, for error messages and cross-rank checks.

    `group` and `seq` identify a collective across ranks (every rank numbers the collectives of
    a group in the same order); `sig` must be equal on every rank for ops whose buffers must
    agree ("" when sizes may differ, as in ``all_to_all``). `ranks` are global ranks. `sig` may
    be a tuple ``(shape, dtype, *details)`` and `site` a ``(filename, line)`` pair: both are
    formatted only when a message or a fingerprint needs them (collectives stay cheap).
    """

    op: str
    group: str
    seq: int
    ranks: tuple[int, ...]
    sig: Any = ""
    site: Any = ""
    note: str = ""

    def signature(self) -> str:
        sig = self.sig
        if not isinstance(sig, tuple):
            return str(sig)
        shape, dtype, *details = sig
        extra = [d.name if isinstance(d, enum.Enum) else str(d) for d in details]
        return ", ".join([f"shape={list(shape)}", f"dtype={dtype}", *extra])

    def where(self) -> str:
        site = self.site
        if isinstance(site, tuple):
            return f"{os.path.basename(site[0])}:{site[1]}"
        return str(site)

    def describe(self) -> str:
        text = f"{self.op} #{self.seq} on group {self.group!r}"
        if self.sig:
            text += f" ({self.signature()})"
        if self.note:
            text += f" [{self.note}]"
        if self.site:
            text += f" at {self.where()}"
        return text


def seconds(timeout: timedelta | float | None) -> float | None:
    """A timeout given as timedelta or seconds, as float seconds (None stays None)."""
    if timeout is None:
        return None
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    return float(timeout)


class Work(ABC):
    """A pending operation (torch's ``Work``): ``wait()`` blocks, ``is_completed()`` polls.

    `finish` runs once, when the backend reports completion (copy-back of results into
    non-contiguous tensors, AVG's division ...); an exception it raises is kept and re-raised
    by ``wait()``.
    """

    def __init__(self, finish: Callable[[], None] | None = None, result: Sequence = ()) -> None:
        self._done = False
        self._exc: BaseException | None = None
        self._finish = finish
        self._result = list(result)
        self.info: CollInfo | None = None

    @abstractmethod
    def _poll(self) -> bool:
        """True once the backend operation has completed (non-blocking)."""

    @abstractmethod
    def _block(self, timeout_s: float | None) -> None:
        """Return when the operation has completed; raise ``DistTimeoutError`` after the timeout
        (None: the group's timeout)."""

    def _complete(self) -> None:
        self._done = True
        fn, self._finish = self._finish, None
        if fn is not None:
            try:
                fn()
            except BaseException as exc:  # kept for wait(); is_completed() must not raise
                self._exc = exc

    def is_completed(self) -> bool:
        if not self._done and self._poll():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed() and self._exc is None

    def exception(self) -> BaseException | None:
        return self._exc

    def wait(self, timeout: timedelta | float | None = None) -> bool:
        """Block until done (or raise after `timeout`, default the group's timeout)."""
        if not self._done:
            try:
                self._block(seconds(timeout))
            except DistError as exc:  # the backend's polling frames say nothing to the user
                raise exc.with_traceback(None) from None
            self._complete()
        if self._exc is not None:
            raise self._exc
        return True

    def synchronize(self) -> None:
        self.wait()

    def result(self) -> list:
        """The output tensors of the operation (torch returns the tensors it wrote)."""
        self.wait()
        return self._result

    def source_rank(self) -> int:
        raise RuntimeError("source_rank() is only available on a recv from any source")


class DoneWork(Work):
    """A Work that is already complete (world size 1, or nothing to do)."""

    def __init__(self, finish: Callable[[], None] | None = None, result: Sequence = ()) -> None:
        super().__init__(finish, result)
        self._complete()

    def _poll(self) -> bool:
        return True

    def _block(self, timeout_s: float | None) -> None:
        return None


class Communicator(ABC):
    """The collectives of one group of processes, on contiguous host arrays.

    `rank`/`world_size` are within this communicator; ``ranks[i]`` is the global rank of its
    member i. Buffers passed in must stay untouched until the returned Work completes.
    Reductions get arrays of a dtype the backend supports (``supports_reduce``); everything
    else moves raw bytes.
    """

    rank: int
    world_size: int
    ranks: tuple[int, ...]
    backend: str = ""

    @abstractmethod
    def supports_reduce(self, dtype: np.dtype) -> bool:
        """Whether reductions run natively on `dtype` (others are upcast by the caller)."""

    @abstractmethod
    def all_reduce(self, buf: np.ndarray, op: ReduceOp, info: CollInfo | None = None) -> Work:
        """In place: every rank ends with the reduction of all ranks' `buf`."""

    @abstractmethod
    def reduce(self, buf: np.ndarray, dst: int, op: ReduceOp, info: CollInfo | None = None) -> Work:
        """In place on `dst` (a rank of this communicator); other ranks' `buf` is unchanged."""

    @abstractmethod
    def broadcast(self, buf: np.ndarray, src: int, info: CollInfo | None = None) -> Work:
        """In place: every rank ends with `src`'s `buf`."""

    @abstractmethod
    def all_gather(self, out: np.ndarray, inp: np.ndarray, info: CollInfo | None = None) -> Work:
        """`out` (world_size times `inp`'s bytes) gets every rank's `inp`, in rank order."""

    @abstractmethod
    def gather(
        self, out: np.ndarray | None, inp: np.ndarray, dst: int, info: CollInfo | None = None
    ) -> Work:
        """As ``all_gather``, only `dst` receives (`out` is None elsewhere)."""

    @abstractmethod
    def scatter(
        self, out: np.ndarray, inp: np.ndarray | None, src: int, info: CollInfo | None = None
    ) -> Work:
        """`src`'s `inp` (world_size equal parts) is split: part i goes to rank i's `out`."""

    @abstractmethod
    def reduce_scatter(
        self, out: np.ndarray, inp: np.ndarray, op: ReduceOp, info: CollInfo | None = None
    ) -> Work:
        """Reduce `inp` (world_size equal parts) across ranks; rank i gets part i in `out`."""

    @abstractmethod
    def all_to_all(
        self,
        out: np.ndarray,
        inp: np.ndarray,
        out_counts: Sequence[int],
        in_counts: Sequence[int],
        info: CollInfo | None = None,
    ) -> Work:
        """Rank i sends ``in_counts[j]`` bytes to rank j and receives ``out_counts[j]`` from it."""

    @abstractmethod
    def barrier(self, info: CollInfo | None = None) -> Work:
        """Completes once every rank has entered."""

    @abstractmethod
    def send(self, buf: np.ndarray, dst: int, tag: int = 0, info: CollInfo | None = None) -> Work:
        """Point to point: send `buf`'s bytes to rank `dst`."""

    @abstractmethod
    def recv(
        self, buf: np.ndarray, src: int | None, tag: int = 0, info: CollInfo | None = None
    ) -> Work:
        """Point to point: receive into `buf` from `src` (None: any rank)."""

    @abstractmethod
    def split(self, ranks: Sequence[int], info: CollInfo | None = None) -> Communicator | None:
        """A communicator of these members (ranks of this one; all ranks call it): None on
        non-members."""

    @abstractmethod
    def dup(self, info: CollInfo | None = None) -> Communicator:
        """A communicator with the same members whose traffic never mixes with this one's."""

    @abstractmethod
    def abort(self, code: int = 1) -> None:
        """End every process of the job now."""

    def progress(self) -> None:
        """Let pending non-blocking operations advance (backends without a progress thread)."""
        return None

    def free(self) -> None:
        """Release backend resources (optional)."""
        return None


def nbytes_view(a: np.ndarray) -> np.ndarray:
    """A contiguous array's bytes as a flat uint8 view (no copy)."""
    return a.reshape(-1).view(np.uint8)


def describe_array(a: Any) -> str:
    return f"shape={list(a.shape)}, dtype={a.dtype}"
