"""DataLoader: torch.utils.data.DataLoader's arguments, validation, ordering and seeding.

``num_workers=0`` loads in the main process. With workers, batches are fetched by processes
(fork by default on Linux; ``multiprocessing_context`` honoured, 'spawn' included) and returned
in sampler order. Failures surface as errors that say which worker, which indices and why:
worker exceptions keep their type and traceback, a worker killed by a signal is reported at
once with the signal's name, ``timeout`` names the stuck worker, and un-picklable arguments
for 'spawn'/'forkserver' are reported at construction with their attribute path.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing as mp
import os
import shutil
import signal
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing import connection as mp_connection
from typing import Any, Generic, TypeVar

from ember import random as _random
from ember.utils.data import _worker
from ember.utils.data._collate import default_collate, default_convert
from ember.utils.data._worker import (
    _DatasetKind,
    _IterableDatasetStopIteration,
    _ResumeIteration,
    _WorkerException,
    describe_index,
)  # fmt: skip
from ember.utils.data.dataset import Dataset, IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

get_worker_info = _worker.get_worker_info
T_co = TypeVar("T_co", covariant=True)

_SHUTDOWN_GRACE_S = 1.0  # how long finishing workers get before they are terminated


class _InfiniteConstantSampler(Sampler):
    """The 'sampler' of an IterableDataset: endless placeholders (workers ignore them)."""

    def __iter__(self) -> Any:
        while True:
            yield None


def _cpu_count() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def _default_start_method() -> str:
    # fork on Linux (torch's default there, also once Python 3.14 defaults to forkserver)
    chosen = mp.get_start_method(allow_none=True)
    if chosen is not None:
        return chosen
    if sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods():
        return "fork"
    return mp.get_context().get_start_method()


class DataLoader(Generic[T_co]):
    """Iterate over a dataset in (optionally shuffled) batches, in-process or with workers."""

    dataset: Dataset[T_co]
    batch_size: int | None
    num_workers: int
    pin_memory: bool
    drop_last: bool
    timeout: float
    sampler: Sampler | Iterable
    prefetch_factor: int | None
    _iterator: Any
    _initialized = False

    def __init__(
        self,
        dataset: Dataset[T_co],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context: Any = None,
        generator: _random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; "
                "use num_workers=0 to disable multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None."
            )
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but "
                    f"got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, but "
                    f"got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True
        self._IterableDataset_len_called: int | None = None
        self._iterator = None
        self.check_worker_number_rationality()
        self._check_picklable()

    # ------------------------------------------------------------------ configuration
    @property
    def multiprocessing_context(self) -> Any:
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context: Any) -> None:
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                if isinstance(multiprocessing_context, str):
                    valid = mp.get_all_start_methods()
                    if multiprocessing_context not in valid:
                        raise ValueError(
                            "multiprocessing_context option should specify a valid start method "
                            f"in {valid!r}, but got "
                            f"multiprocessing_context={multiprocessing_context!r}"
                        )
                    multiprocessing_context = mp.get_context(multiprocessing_context)
                if not isinstance(multiprocessing_context, mp.context.BaseContext):
                    raise TypeError(
                        "multiprocessing_context option should be a valid context object or a "
                        "string specifying the start method, but got "
                        f"multiprocessing_context={multiprocessing_context}"
                    )
            else:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading "
                    f"(num_workers > 0), but got num_workers={self.num_workers}"
                )
        self.__multiprocessing_context = multiprocessing_context
        if self._initialized:
            self._check_picklable()

    def _context(self) -> Any:
        ctx = self.multiprocessing_context
        return ctx if ctx is not None else mp.get_context(_default_start_method())

    def _check_picklable(self) -> None:
        """Spawn/forkserver pickle what workers need: fail now, naming the culprit (UP-34)."""
        if self.num_workers == 0:
            return
        method = self._context().get_start_method()
        if method == "fork":
            return
        for name in ("dataset", "collate_fn", "worker_init_fn"):
            found = _worker.find_unpicklable(getattr(self, name), name)
            if found is not None:
                import pickle

                raise pickle.PicklingError(_worker.unpicklable_message(*found, method))

    def __setattr__(self, attr: str, val: Any) -> None:
        if self._initialized and attr in (
            "batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
            "persistent_workers",
        ):  # fmt: skip
            raise ValueError(
                f"{attr} attribute should not be set after {type(self).__name__} is initialized"
            )
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    # ------------------------------------------------------------------ iteration
    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self) -> _BaseDataLoaderIter:
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()  # first epoch, or after a fatal error
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            # an estimate: len(dataset) / batch_size, trusting the dataset's own sharding
            length = self._IterableDataset_len_called = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn, as torch does, when asking for more workers than usable CPUs."""
        if not self.num_workers:
            return
        suggest = _cpu_count()
        if suggest is None or self.num_workers > suggest:
            cpuset = hasattr(os, "sched_getaffinity")
            detail = (
                f"Our suggested max number of worker in current system is {suggest}"
                f"{'' if cpuset else ' (`cpuset` is not taken into account)'}, which is smaller "
                "than what this DataLoader is going to create."
                if suggest is not None
                else "DataLoader is not able to compute a suggested max number of worker in "
                "current system."
            )
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. "
                f"{detail} Please be aware that excessive worker creation might get DataLoader "
                "running slow or even freeze, lower the worker number to avoid potential "
                "slowness/freeze if necessary.",
                UserWarning,
                stacklevel=3,
            )


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(
                "pin_memory_device is deprecated, the current accelerator will be used as the "
                f"device,ignore pin_memory_device='{loader.pin_memory_device}'.",
                stacklevel=3,
            )
        if loader.pin_memory and not _accelerator_available():
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device "
                "pinned memory won't be used.",
                stacklevel=3,
            )
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        # drawn every epoch from the loader's generator (or ember's), as torch does
        self._base_seed = int(_random._gen(loader.generator).integers(0, 1 << 63))
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self) -> Any:
        return next(self._sampler_iter)

    def _next_data(self) -> Any:
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if (
            self._dataset_kind == _DatasetKind.Iterable
            and self._IterableDataset_len_called is not None
            and self._num_yielded > self._IterableDataset_len_called
        ):
            msg = (
                f"Length of IterableDataset {self._dataset} was reported to be "
                f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                f"{self._num_yielded} samples have been fetched. "
            )
            if self._num_workers > 0:
                msg += (
                    "For multiprocessing data-loading, this could be caused by not properly "
                    "configuring the IterableDataset replica at each worker. Please see "
                    "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset "
                    "for examples."
                )
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


def _accelerator_available() -> bool:
    try:
        from ember.backends import cuda

        return bool(cuda.is_available())
    except Exception:
        return False


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
            self._drop_last,
        )  # fmt: skip

    def _next_data(self) -> Any:
        index = self._next_index()  # may raise StopIteration
        return self._dataset_fetcher.fetch(index)  # may raise StopIteration


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Workers with one task pipe and one result pipe each; the main process routes and orders."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        assert self._num_workers > 0 and self._prefetch_factor > 0
        ctx = loader._context()
        self._start_method = ctx.get_start_method()
        self._workers: list = []
        self._index_conns: list = []
        self._result_conns: list = []
        self._shutdown = False
        self._inbox: deque = deque()  # messages received but not yet consumed
        try:
            for i in range(self._num_workers):
                res_r, res_w = ctx.Pipe(duplex=False)
                idx_r, idx_w = ctx.Pipe(duplex=False)
                _worker._MAIN_ENDS.update((res_r, idx_w))
                self._result_conns.append(res_r)
                self._index_conns.append(idx_w)
                w = ctx.Process(
                    target=_worker._worker_loop,
                    args=(
                        self._dataset_kind, self._dataset, idx_r, res_w, self._auto_collation,
                        self._collate_fn, self._drop_last, self._base_seed,
                        loader.worker_init_fn, i, self._num_workers, self._persistent_workers,
                    ),
                    name=f"DataLoader worker {i}",
                    daemon=True,
                )  # fmt: skip
                with _one_thread_env(self._start_method):
                    w.start()
                idx_r.close()  # only the worker holds its ends: EOF / EPIPE then mean "gone"
                res_w.close()
                self._workers.append(w)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    # ------------------------------------------------------------------ task bookkeeping
    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0  # next task to send
        self._rcvd_idx = 0  # next task to return
        self._task_info: dict[int, tuple[int, Any, float]] = {}  # idx -> (worker, index, sent at)
        self._task_data: dict[int, Any] = {}  # idx -> data that arrived out of order
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # persistent workers: restart every worker's fetcher; stale results are dropped
            for c in self._index_conns:
                c.send(_ResumeIteration())
            pending = self._num_workers
            while pending > 0:
                _, idx, _data = self._get_data()
                if isinstance(idx, _ResumeIteration):
                    pending -= 1
            self._inbox.clear()
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker, if any
            wid = next(self._worker_queue_idx_cycle)
            if self._workers_status[wid] and (
                self._in_order
                or self._workers_num_tasks[wid] < max_tasks // sum(self._workers_status)
            ):
                break
        else:
            return
        try:
            self._index_conns[wid].send((self._send_idx, index))
        except OSError:  # its end of the pipe is closed: the worker died
            self._drain(wid)
            self._raise_worker_died(wid)
        self._task_info[self._send_idx] = (wid, index, time.monotonic())
        self._workers_num_tasks[wid] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _next_data(self) -> Any:
        while True:
            # skip tasks of workers whose IterableDataset copy is exhausted
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    if self._rcvd_idx in self._task_data or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if self._rcvd_idx in self._task_data:
                idx = self._rcvd_idx
                self._rcvd_idx += 1
                return self._process_data(idx, self._task_data.pop(idx))
            wid, idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                self._task_info.pop(idx, None)
                self._workers_num_tasks[wid] -= 1
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    return self._process_data(idx, data)
                self._task_data[idx] = data
            else:
                self._rcvd_idx += 1
                return self._process_data(idx, data)

    def _process_data(self, idx: int, data: Any) -> Any:
        wid = self._task_info.pop(idx)[0]
        self._workers_num_tasks[wid] -= 1
        self._try_put_index()
        if isinstance(data, _WorkerException):
            data.reraise()
        return data

    # ------------------------------------------------------------------ receiving
    def _get_data(self) -> tuple[int, Any, Any]:
        """The next (worker id, task idx, data) from any worker; raise if one died or hung."""
        if self._shutdown and not self._inbox:
            raise RuntimeError(
                "DataLoader iterator: the workers were shut down after an earlier error; "
                "start a new epoch with iter(loader)"
            )
        timeout = self._timeout if self._timeout > 0 else None
        while not self._inbox:
            conn_of = {c: i for i, c in enumerate(self._result_conns)}
            sentinel_of = {w.sentinel: i for i, w in enumerate(self._workers)}
            ready = mp_connection.wait([*conn_of, *sentinel_of], timeout)
            if not ready:
                self._raise_timeout()
            dead = []
            for obj in ready:
                if obj in conn_of:
                    wid = conn_of[obj]
                    try:
                        self._inbox.append((wid, *_worker.recv(obj)))
                    except (EOFError, OSError):
                        dead.append(wid)
                else:
                    dead.append(sentinel_of[obj])
            for wid in dead:
                self._drain(wid)
            if dead:
                self._raise_worker_died(dead[0])
        return self._inbox.popleft()

    def _drain(self, wid: int) -> None:
        """Collect what a dead worker managed to send before it died."""
        conn = self._result_conns[wid]
        try:
            while conn.poll():
                self._inbox.append((wid, *_worker.recv(conn)))
        except (EOFError, OSError):
            pass

    def _pending(self, wid: int) -> tuple[int, Any, float] | None:
        """The oldest task of worker ``wid`` with no result yet (what it is working on)."""
        done = {m[1] for m in self._inbox if m[0] == wid} | set(self._task_data)
        for idx in sorted(self._task_info):
            info = self._task_info[idx]
            if info[0] == wid and idx not in done:
                return info
        return None

    def _raise_worker_died(self, wid: int) -> None:
        w = self._workers[wid]
        w.join(timeout=1.0)
        code = w.exitcode
        pending = self._pending(wid)
        where = ""
        if pending is not None:
            where = f" while loading {describe_index(pending[1], self._dataset_kind)}"
        if code is not None and code < 0:
            sig = -code
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            desc = signal.strsignal(sig) or name
            msg = f"DataLoader worker {wid} (pid {w.pid}) is killed by signal: {desc} ({name}){where}."
            msg += _signal_hint(sig)
        else:
            msg = (
                f"DataLoader worker {wid} (pid {w.pid}) exited unexpectedly with exit code "
                f"{code}{where}."
            )
        self._shutdown_workers(grace=0.1)  # the iterator is broken: don't wait for the others
        raise RuntimeError(msg)

    def _raise_timeout(self) -> None:
        msg = f"DataLoader timed out after {self._timeout} seconds"
        waiting = self._task_info.get(self._rcvd_idx) if self._in_order else None
        if waiting is None and self._task_info:
            waiting = self._task_info[min(self._task_info)]
        if waiting is not None:
            wid, index, t0 = waiting
            msg += (
                f" waiting for worker {wid} (pid {self._workers[wid].pid}), which was given "
                f"{describe_index(index, self._dataset_kind)} {time.monotonic() - t0:.1f} s ago"
            )
        self._shutdown_workers(grace=0.1)  # the stuck worker will not answer the sentinel
        raise RuntimeError(msg + ".")

    # ------------------------------------------------------------------ shutdown
    def _shutdown_workers(self, grace: float = _SHUTDOWN_GRACE_S) -> None:
        """Stop every worker: idle ones exit on the None sentinel, busy ones get ``grace`` s."""
        if self._shutdown:
            return
        self._shutdown = True
        for c in self._index_conns:
            with contextlib.suppress(OSError):  # that worker is already gone
                c.send(None)
        # closing the result pipes makes a worker blocked on sending a batch exit (EPIPE)
        for c in (*self._index_conns, *self._result_conns):
            c.close()
            _worker._MAIN_ENDS.discard(c)
        deadline = time.monotonic() + grace
        for w in self._workers:
            w.join(max(0.0, deadline - time.monotonic()))
        for w in self._workers:
            if w.is_alive():
                w.terminate()
        for w in self._workers:
            w.join(_SHUTDOWN_GRACE_S)
            if w.is_alive():
                w.kill()
                w.join()

    def __del__(self) -> None:
        # at interpreter teardown this may fail; multiprocessing's atexit reaps daemons then
        with contextlib.suppress(Exception):
            self._shutdown_workers()


def _signal_hint(sig: int) -> str:
    if sig == signal.SIGKILL:
        return (
            " SIGKILL usually comes from the kernel's out-of-memory killer (see `dmesg`): lower "
            "num_workers, batch_size or prefetch_factor, or keep per-sample data out of "
            "Python lists (copy-on-access)."
        )
    if sig == getattr(signal, "SIGBUS", None):
        try:
            free = f"{shutil.disk_usage('/dev/shm').free / 2**20:.0f} MiB free"
        except OSError:
            free = "not available"
        return (
            f" /dev/shm: {free}. ember sends batches through pipes, not shared memory, so a "
            "SIGBUS comes from memory the dataset maps: (1) check memory-mapped files that "
            "were truncated or live on a full filesystem, (2) if your dataset uses shared "
            "memory, raise /dev/shm (docker run --shm-size=8g), (3) run with num_workers=0 to "
            "see the failing line."
        )
    return ""


class _one_thread_env:
    """Spawned workers start with one BLAS/OpenMP thread each unless the user chose otherwise."""

    _VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

    def __init__(self, method: str) -> None:
        self.active = method != "fork"
        self.set: list[str] = []

    def __enter__(self) -> None:
        if self.active:
            for v in self._VARS:
                if v not in os.environ:
                    os.environ[v] = "1"
                    self.set.append(v)

    def __exit__(self, *exc: object) -> None:
        for v in self.set:
            os.environ.pop(v, None)
