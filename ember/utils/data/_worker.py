"""DataLoader worker processes: seeding, the fetch loop, batch transfer and error plumbing.

Each worker talks to the main process over two one-way pipes (tasks in, results out). Results
are pickled with protocol 5 so NumPy buffers travel out of band: one ``send_bytes`` per array,
received straight into a fresh writable array (no shared memory, hence no /dev/shm limits).
The main process waits on the result pipes *and* the workers' process sentinels, so a worker
that dies is noticed at once instead of after a polling interval.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import queue
import random
import struct
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

__all__ = ["WorkerInfo", "get_worker_info", "DataLoaderWorkerError"]

_worker_info: WorkerInfo | None = None

# Main-process ends of every live worker pipe. A forked worker closes its copies first thing, so
# that only the main process holds them (pipe EOF then means "main process gone").
_MAIN_ENDS: set[Connection] = set()


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker process."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


def get_worker_info() -> WorkerInfo | None:
    """This worker's id, worker count, seed and dataset copy; None in the main process."""
    return _worker_info


class DataLoaderWorkerError(RuntimeError):
    """A worker exception that could not be rebuilt as its own type (message has its traceback)."""


class KeyErrorMessage(str):
    """KeyError's str() is the repr of its argument; this keeps a multi-line message readable."""

    def __repr__(self) -> str:
        return self


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    seed: int | None = None


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(
        kind: int, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool
    ) -> Any:
        if kind == _DatasetKind.Map:
            return _MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
        return _IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)


class _MapDatasetFetcher:
    def __init__(
        self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool
    ) -> None:
        from ember.utils.data._collate import default_collate

        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        # whole-batch gather (TensorDataset, Subset of one) when it equals default_collate's result
        self._fast = None
        if auto_collation and collate_fn is default_collate:
            self._fast = getattr(dataset, "_ember_getbatch", None)

    def fetch(self, index: Any) -> Any:
        if self.auto_collation:
            if self._fast is not None:
                out = self._fast(index)
                if out is not NotImplemented:
                    return out
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems:
                data = getitems(index)
            else:
                data = [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    def __init__(
        self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool
    ) -> None:
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """torch's NumPy seed for a worker: a SeedSequence-style hash of (worker_id, base_seed)."""
    init_a, mult_a, init_b, mult_b = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    mix_l, mix_r, xshift, mask = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    hash_a = init_a

    def _hash(value: int) -> int:
        nonlocal hash_a
        value = (value ^ hash_a) & mask
        hash_a = (hash_a * mult_a) & mask
        value = (value * hash_a) & mask
        return (value ^ (value >> xshift)) & mask

    def _mix(x: int, y: int) -> int:
        r = (((mix_l * x) & mask) - ((mix_r * y) & mask)) & mask
        return (r ^ (r >> xshift)) & mask

    pool = [_hash(e) for e in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = _mix(pool[i_dst], _hash(pool[i_src]))
    hash_b, state = init_b, []
    for v in pool:
        v = (v ^ hash_b) & mask
        hash_b = (hash_b * mult_b) & mask
        v = (v * hash_b) & mask
        state.append((v ^ (v >> xshift)) & mask)
    return state


def describe_index(index: Any, kind: int) -> str:
    """'index 3' / 'indices [0, 1, ...] (256 samples)' for error messages."""
    if kind == _DatasetKind.Iterable:
        return "the next samples of its IterableDataset copy"
    if isinstance(index, list | tuple):
        if len(index) == 1:
            return f"index {index[0]!r}"
        shown = ", ".join(repr(i) for i in index[:8])
        more = f", ... ({len(index)} samples)" if len(index) > 8 else ""
        return f"indices [{shown}{more}]"
    return f"index {index!r}"


class _WorkerException:
    """An exception raised in a worker, carried to the main process and re-raised there.

    Keeps the traceback text, the type (when picklable) and the exception itself (when it
    survives a pickle round trip), so ``reraise`` never turns it into a secondary TypeError.
    """

    def __init__(self, where: str) -> None:
        etype, exc, tb = sys.exc_info()
        self.type_name = etype.__name__ if etype is not None else "Exception"
        self.where = where
        self.text = "".join(traceback.format_exception(etype, exc, tb))
        self.exc_type: type | None = etype
        self.exc_bytes: bytes | None = None
        try:
            pickle.dumps(etype)
        except Exception:
            self.exc_type = None  # a local class: cannot be named in the main process
        try:
            b = pickle.dumps(exc)
            pickle.loads(b)
            self.exc_bytes = b
        except Exception:
            pass

    def reraise(self) -> None:
        exc = self._rebuild()
        try:
            raise exc
        finally:
            exc = None  # no frame -> exception -> traceback -> frame cycle keeping the loader

    def _rebuild(self) -> BaseException:
        msg = f"Caught {self.type_name} {self.where}.\nOriginal {self.text}"
        t = self.exc_type
        if t is not None:
            # torch's rule: the original type with the traceback as its message
            try:
                if t is KeyError:
                    exc = t(KeyErrorMessage(msg))
                elif getattr(t, "message", None):
                    exc = t(message=msg)
                else:
                    exc = t(msg)
            except Exception:
                exc = None
            if isinstance(exc, BaseException):
                return exc
        err = DataLoaderWorkerError(msg)
        original = None
        if self.exc_bytes is not None:
            try:
                original = pickle.loads(self.exc_bytes)
            except Exception:
                original = None
        if isinstance(original, BaseException):
            # its own type and fields; the cause carries the worker's traceback text
            original.__cause__ = err
            original.__suppress_context__ = True
            return original
        return err


# --------------------------------------------------------------------------------- transfer
def send(conn: Connection, obj: Any) -> None:
    """Send ``obj`` with its array buffers out of band (no intermediate copy of the data)."""
    bufs: list = []
    payload = pickle.dumps(obj, protocol=5, buffer_callback=bufs.append)
    raws = [b.raw() for b in bufs]
    sizes = [r.nbytes for r in raws]
    conn.send_bytes(struct.pack(f"<I{len(sizes)}Q", len(sizes), *sizes) + payload)
    for r in raws:
        if r.nbytes:
            conn.send_bytes(r)


def recv(conn: Connection) -> Any:
    """Receive what ``send`` sent; arrays land in fresh writable buffers."""
    head = conn.recv_bytes()
    (n,) = struct.unpack_from("<I", head)
    sizes = struct.unpack_from(f"<{n}Q", head, 4)
    bufs = []
    for s in sizes:
        a = np.empty(s, np.uint8)
        if s:
            conn.recv_bytes_into(a)
        bufs.append(a)
    return pickle.loads(memoryview(head)[4 + 8 * n :], buffers=bufs)


class _NullFile(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        return len(memoryview(b))


def _dump_check(obj: Any) -> None:
    """Pickle like multiprocessing does, discarding the bytes (array buffers are never copied)."""
    p = pickle.Pickler(_NullFile(), 5, buffer_callback=lambda b: False)
    p.dispatch_table = {  # ForkingPickler's reducers (connections, sockets ...)
        **ForkingPickler._copyreg_dispatch_table, **ForkingPickler._extra_reducers,
    }  # fmt: skip
    p.dump(obj)


def _describe_obj(obj: Any) -> str:
    code = getattr(obj, "__code__", None)
    if code is not None:
        name = getattr(obj, "__qualname__", getattr(obj, "__name__", "function"))
        name = "lambda" if name.endswith("<lambda>") else name  # its file:line says which
        return f"<{name} at {os.path.basename(code.co_filename)}:{code.co_firstlineno}>"
    r = repr(obj)
    return r if len(r) <= 80 else r[:77] + "..."


def find_unpicklable(obj: Any, path: str, depth: int = 0) -> tuple[str, Any, Exception] | None:
    """The innermost attribute path of ``obj`` that fails to pickle, or None if it pickles."""
    try:
        _dump_check(obj)
        return None
    except Exception as e:
        err = e
    if depth < 8:
        children: list[tuple[str, Any]] = []
        if isinstance(obj, dict):
            children = [(f"{path}[{k!r}]", v) for k, v in obj.items()]
        elif isinstance(obj, list | tuple | set | frozenset):
            children = [(f"{path}[{i}]", v) for i, v in enumerate(obj)]
        elif getattr(obj, "__code__", None) is None and not isinstance(obj, type):
            if isinstance(obj, functools.partial):
                children = [(f"{path}.{k}", getattr(obj, k)) for k in ("func", "args", "keywords")]
            state = getattr(obj, "__dict__", None)
            if isinstance(state, dict):
                children += [(f"{path}.{k}", v) for k, v in state.items()]
        for cpath, child in children:
            found = find_unpicklable(child, cpath, depth + 1)
            if found is not None:
                return found
    return path, obj, err


def unpicklable_message(path: str, obj: Any, err: Exception, method: str) -> str:
    return (
        f"DataLoader(multiprocessing_context={method!r}): {path}={_describe_obj(obj)} cannot be "
        f"pickled ({type(err).__name__}: {err}). With the {method!r} start method every worker "
        "receives the dataset, collate_fn and worker_init_fn by pickling, so they must be "
        "module-level functions/classes (no lambdas, local functions or open handles). Keep the "
        'code that iterates the DataLoader under `if __name__ == "__main__":`, or use '
        "multiprocessing_context='fork' (Linux)."
    )


# ------------------------------------------------------------------------------ worker side
def _pump(conn: Connection, inbox: queue.SimpleQueue, done: threading.Event) -> None:
    """Move tasks from the pipe to ``inbox`` at once, so the main process never blocks sending."""
    try:
        while True:
            r = conn.recv()
            if r is None:
                break
            inbox.put(r)
    except (EOFError, OSError):
        pass  # main process gone
    done.set()
    inbox.put(None)


def _seed_worker(base_seed: int, worker_id: int) -> int:
    from ember.random import manual_seed

    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


def _worker_loop(
    kind: int,
    dataset: Any,
    index_conn: Connection,
    result_conn: Connection,
    auto_collation: bool,
    collate_fn: Callable,
    drop_last: bool,
    base_seed: int,
    init_fn: Callable | None,
    worker_id: int,
    num_workers: int,
    persistent_workers: bool,
) -> None:
    """Body of a worker process: fetch the batches the main process asks for, in order."""
    global _worker_info
    for c in list(_MAIN_ENDS):  # inherited through fork: not ours to hold
        c.close()
    _MAIN_ENDS.clear()
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"

        def make_fetcher() -> tuple[Any, _WorkerException | None]:
            try:
                return _DatasetKind.create_fetcher(
                    kind, dataset, auto_collation, collate_fn, drop_last
                ), None
            except Exception:
                return None, _WorkerException(where)

        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception:
            init_exception = _WorkerException(where)
        fetcher, fetch_exc = make_fetcher() if init_exception is None else (None, None)
        init_exception = init_exception or fetch_exc

        inbox: queue.SimpleQueue = queue.SimpleQueue()
        done = threading.Event()
        threading.Thread(target=_pump, args=(index_conn, inbox, done), daemon=True).start()
        parent = os.getppid()
        iteration_end = False
        while True:
            try:
                r = inbox.get(timeout=5.0)
            except queue.Empty:
                if os.getppid() != parent:
                    break  # orphaned (the main process was killed)
                continue
            if r is None:
                break
            if isinstance(r, _ResumeIteration):
                send(result_conn, (r, None))
                iteration_end = False
                if init_exception is None:
                    fetcher, init_exception = make_fetcher()
                continue
            if done.is_set() or iteration_end:
                continue  # shutting down / stream exhausted: skip queued tasks
            idx, index = r
            data: Any
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = _WorkerException(
                            f"{where} while loading {describe_index(index, kind)}"
                        )
            try:
                send(result_conn, (idx, data))
            except (BrokenPipeError, ConnectionError):
                raise
            except Exception:  # the batch itself does not pickle: report that instead
                send(result_conn, (idx, _WorkerException(
                    f"{where} while sending the batch for {describe_index(index, kind)} to the "
                    "main process (the collated batch could not be pickled)"
                )))  # fmt: skip
            del data, r
    except KeyboardInterrupt:
        pass  # the main process gets it too and shuts us down
    except (BrokenPipeError, ConnectionError, EOFError):
        pass  # the main process closed the pipes: nothing left to do
