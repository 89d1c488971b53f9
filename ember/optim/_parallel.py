"""Run independent per-parameter updates on a few threads.

NumPy releases the GIL inside ufunc loops, so updating different parameters on different threads
scales with cores, as torch's intra-op threads do. Each update is unchanged and touches only its
own parameter and state, so results are bitwise identical to a sequential step.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["run", "slot"]

MAX_THREADS = min(8, os.cpu_count() or 1)  # elementwise updates are memory bound past ~8 cores
MIN_TOTAL = 1 << 20  # elements per step below which Python overhead beats the gain
MAX_PARAM = 1 << 22  # bigger params stay on the caller's thread: bounds per-thread scratch memory
_pool: ThreadPoolExecutor | None = None
_local = threading.local()


def slot() -> int:
    """Index of the calling worker (0 on the caller's thread): selects its scratch buffers."""
    return getattr(_local, "slot", 0)


def run(jobs: list[tuple[int, Callable[[], None]]], threaded: bool = True) -> None:
    """Call every ``fn`` of ``(size, fn)``; on threads when the step is big enough."""
    small = [j for j in jobs if j[0] <= MAX_PARAM]
    if (
        not threaded
        or MAX_THREADS < 2
        or len(small) < 2
        or sum(size for size, _ in small) < MIN_TOTAL
    ):
        for _, fn in jobs:
            fn()
        return
    # longest-processing-time-first: each bucket is one task, so few handoffs per step
    buckets: list[list[Callable[[], None]]] = [[] for _ in range(MAX_THREADS)]
    loads = [0] * MAX_THREADS
    for size, fn in sorted(small, key=lambda j: -j[0]):
        i = loads.index(min(loads))
        buckets[i].append(fn)
        loads[i] += size
    pool = _get_pool()
    futures: list[Future] = [pool.submit(_run_bucket, i + 1, b) for i, b in enumerate(buckets) if b]
    try:
        for size, fn in jobs:
            if size > MAX_PARAM:
                fn()
    finally:
        for f in futures:
            f.result()


def _run_bucket(i: int, fns: list[Callable[[], None]]) -> None:
    _local.slot = i
    for fn in fns:
        fn()


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="ember-optim")
    return _pool


def _forget_pool() -> None:
    global _pool  # a forked child has the pool object but not its threads
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
