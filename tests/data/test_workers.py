"""DataLoader worker processes: order, seeding, sharding, failures, shutdown (UP-30..UP-35).

Datasets live at module level so that the 'spawn' tests can pickle them. Every test checks
afterwards that no worker process is left behind.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import random
import signal
import time

import numpy as np
import pytest

import ember
from ember.utils.data import (
    DataLoader,
    DataLoaderWorkerError,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)  # fmt: skip


def _torch():
    """torch, imported lazily: spawned workers import this module and must stay light."""
    from tests.oracle import torch

    if torch is None:
        pytest.skip("torch is an optional oracle")
    return torch


@pytest.fixture(autouse=True)
def _no_leaked_workers():
    yield
    if mp.active_children():
        gc.collect()  # an iterator kept alive by a reference cycle shuts its workers down here
    deadline = time.monotonic() + 3.0
    while mp.active_children() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mp.active_children() == [], "worker processes leaked"


# ---------------------------------------------------------------------------- datasets
class Jitter(Dataset):
    """Sample i is i; workers finish out of order thanks to small random sleeps."""

    def __init__(self, n=24):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(0.002 * ((i * 7) % 5))
        return i


class Draws(Dataset):
    """Returns (worker id, Python, NumPy and ember random draws, worker seed)."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        wid, seed = (info.id, info.seed) if info is not None else (-1, -1)
        return (wid, random.random(), float(np.random.rand()), ember.rand(1).item(), seed)


class Boom(Dataset):
    """Fails at index `bad` with `kind`."""

    def __init__(self, kind, bad=5, n=8):
        self.kind, self.bad, self.n = kind, bad, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            if self.kind == "value":
                raise ValueError(f"boom at {i}")
            if self.kind == "key":
                raise KeyError("missing")
            if self.kind == "two_args":
                raise TwoArgs("a", 2)
            if self.kind == "lossy":
                raise Lossy("a", 2)
            if self.kind == "sigkill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.kind == "sigbus":
                import faulthandler
                import resource

                faulthandler.disable()  # pytest's handler would print a dump on stderr
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
                os.kill(os.getpid(), signal.SIGBUS)
            if self.kind == "exit":
                os._exit(3)
            if self.kind == "hang":
                time.sleep(30)
        return i


class TwoArgs(Exception):
    """Needs two constructor arguments: torch's exc_type(msg) re-raise cannot rebuild it."""

    def __init__(self, a, b):
        super().__init__(a, b)
        self.a, self.b = a, b


class Lossy(Exception):
    """Two arguments, but args holds only the message: cannot be unpickled either."""

    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")


class Sharded(IterableDataset):
    """range(n), split between workers through get_worker_info()."""

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


class Pid(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return (i, os.getpid())


class InitTag(Dataset):
    tag = None

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return (i, InitTag.tag)


def tag_worker(worker_id):
    InitTag.tag = 100 + worker_id


def failing_init(worker_id):
    raise RuntimeError(f"init failed in {worker_id}")


def identity(batch):
    return batch


class HoldsLambda(Dataset):
    def __init__(self):
        self.transform = {"ops": [abs, lambda x: x]}

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return i


def _indices(batches):
    return [b.tolist() for b in batches]


# ---------------------------------------------------------------------------- ordering
@pytest.mark.parametrize("nw", [1, 2])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_come_back_in_sampler_order(nw, shuffle):
    ember.manual_seed(7)
    ref = _indices(DataLoader(Jitter(), batch_size=3, shuffle=shuffle))
    ember.manual_seed(7)
    got = _indices(DataLoader(Jitter(), batch_size=3, shuffle=shuffle, num_workers=nw))
    assert got == ref
    assert sorted(sum(got, [])) == list(range(24))


@pytest.mark.parametrize("nw", [0, 1, 2])
def test_tensor_dataset_with_workers_equals_in_process(nw):
    x = ember.randn(40, 2, 3)
    y = ember.arange(40)
    out = list(DataLoader(TensorDataset(x, y), batch_size=16, num_workers=nw))
    assert [len(b[1]) for b in out] == [16, 16, 8]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in out]), x.numpy())
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in out]), y.numpy())
    out[0][0].add_(1.0)  # batches from workers arrive as writable arrays


def test_unordered_returns_every_batch():
    got = _indices(DataLoader(Jitter(), batch_size=2, num_workers=2, in_order=False))
    assert sorted(sum(got, [])) == list(range(24))


def test_batches_larger_than_a_pipe_buffer_do_not_deadlock():
    # 2 x 12,000 indices in flight per worker exceed the 64 KiB pipe buffer both ways
    ds = TensorDataset(ember.zeros(48_000, 2))
    out = list(DataLoader(ds, batch_size=12_000, num_workers=2, timeout=20))
    assert [tuple(b[0].shape) for b in out] == [(12_000, 2)] * 4


def test_two_loaders_with_workers_at_once():
    a = DataLoader(Jitter(8), batch_size=2, num_workers=1)
    b = DataLoader(Jitter(8), batch_size=4, num_workers=1)
    ia, ib = iter(a), iter(b)
    assert next(ia).tolist() == [0, 1] and next(ib).tolist() == [0, 1, 2, 3]
    assert _indices(ia) == [[2, 3], [4, 5], [6, 7]]
    assert _indices(ib) == [[4, 5, 6, 7]]


# ---------------------------------------------------------------------------- seeding (UP-35)
def _epoch(loader):
    return [tuple(x.item() if hasattr(x, "item") else x for x in s) for s in _flat(loader)]


def _flat(loader):
    out = []
    for wid, py, npr, em, seed in loader:
        for k in range(len(wid)):
            out.append((int(wid[k]), float(py[k]), float(npr[k]), float(em[k]), int(seed[k])))
    return out


def test_worker_seeds_differ_per_worker_and_epoch_and_reproduce():
    ember.manual_seed(11)
    dl = DataLoader(Draws(), batch_size=1, num_workers=2)
    e1, e2 = _flat(dl), _flat(dl)
    by_worker = {s[0]: s for s in e1[:2]}
    assert set(by_worker) == {0, 1}
    w0, w1 = by_worker[0], by_worker[1]
    for k in (1, 2, 3):  # Python, NumPy and ember streams all differ between workers
        assert w0[k] != w1[k]
    assert w1[4] == w0[4] + 1  # seed = base_seed + worker_id
    assert {s[1:4] for s in e1}.isdisjoint({s[1:4] for s in e2})  # and between epochs
    assert random.Random(w0[4]).random() == w0[1]  # Python's random is seeded with the seed
    ember.manual_seed(11)
    dl2 = DataLoader(Draws(), batch_size=1, num_workers=2)
    assert _flat(dl2) == e1 and _flat(dl2) == e2  # reproducible for a fixed manual_seed


def test_loader_generator_drives_the_base_seed():
    g = ember.Generator().manual_seed(5)
    a = _flat(DataLoader(Draws(), batch_size=2, num_workers=1, generator=g))
    ember.manual_seed(999)  # the global RNG does not matter when generator= is given
    g = ember.Generator().manual_seed(5)
    b = _flat(DataLoader(Draws(), batch_size=2, num_workers=1, generator=g))
    assert a == b


def test_numpy_seed_follows_torch_generate_state():
    from ember.utils.data._worker import _generate_state

    _torch()
    from torch.utils.data._utils.worker import _generate_state as torch_state

    for base, wid in [(0, 0), (12345678901234, 3), ((1 << 63) - 1, 7)]:
        assert _generate_state(base, wid) == torch_state(base, wid)
    assert _generate_state(1, 0) != _generate_state(1, 1)


# ---------------------------------------------------------------------------- worker info
def test_worker_init_fn_and_worker_info():
    assert get_worker_info() is None
    out = list(DataLoader(InitTag(), batch_size=1, num_workers=2, worker_init_fn=tag_worker))
    assert [(int(i), int(t)) for i, t in out] == [(0, 100), (1, 101), (2, 100), (3, 101)]


class InfoProbe(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        info = get_worker_info()
        try:
            info.id = 5
            frozen = False
        except Exception:
            frozen = True
        return (
            info.id,
            info.num_workers,
            type(info.dataset).__name__,
            info.dataset is self,
            frozen,
        )


def test_worker_info_fields():
    out = list(DataLoader(InfoProbe(), batch_size=None, num_workers=2))
    assert [o[:3] for o in out] == [[0, 2, "InfoProbe"], [1, 2, "InfoProbe"]]
    assert all(o[3] and o[4] for o in out)


@pytest.mark.parametrize("nw", [1, 2])
def test_iterable_dataset_sharding(nw):
    got = sum(_indices(DataLoader(Sharded(10), batch_size=2, num_workers=nw)), [])
    assert sorted(got) == list(range(10))
    dup = sum(_indices(DataLoader(Sharded(6, shard=False), batch_size=2, num_workers=nw)), [])
    assert sorted(dup) == sorted(list(range(6)) * nw)  # each worker has a full replica


def test_iterable_sharding_order_matches_torch():
    torch = _torch()

    class TSharded(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            return iter(range(info.id, 11, info.num_workers))

    theirs = [
        b.tolist() for b in torch.utils.data.DataLoader(TSharded(), batch_size=2, num_workers=2)
    ]
    ours = _indices(DataLoader(Sharded(11), batch_size=2, num_workers=2))
    assert ours == theirs


# ---------------------------------------------------------------------------- errors (UP-31)
def test_worker_exception_keeps_type_traceback_and_index():
    it = iter(DataLoader(Boom("value"), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(ValueError) as ei:
        next(it)
    msg = str(ei.value)
    assert "Caught ValueError in DataLoader worker process 0 while loading indices [4, 5]" in msg
    assert "Original Traceback (most recent call last)" in msg
    assert 'raise ValueError(f"boom at {i}")' in msg and "boom at 5" in msg
    assert next(it).tolist() == [6, 7]  # like torch, the iterator goes on after a failed batch
    del it, ei


def test_key_error_message_stays_readable():
    with pytest.raises(KeyError) as ei:
        list(DataLoader(Boom("key", bad=0, n=1), num_workers=1))
    assert str(ei.value).startswith("Caught KeyError in DataLoader worker process 0")
    del ei  # break the frame <-> traceback cycle that keeps the iterator alive


def test_exception_needing_two_args_is_rebuilt_not_a_typeerror():
    with pytest.raises(TwoArgs) as ei:
        list(DataLoader(Boom("two_args", bad=1, n=2), batch_size=1, num_workers=1))
    assert (ei.value.a, ei.value.b) == ("a", 2)
    cause = ei.value.__cause__
    assert isinstance(cause, DataLoaderWorkerError)
    assert "worker process 0 while loading index 1" in str(cause)
    assert "raise TwoArgs" in str(cause)
    del ei  # break the frame <-> traceback cycle that keeps the iterator alive


def test_unrebuildable_exception_arrives_as_dataloader_worker_error():
    with pytest.raises(DataLoaderWorkerError) as ei:
        list(DataLoader(Boom("lossy", bad=1, n=2), batch_size=1, num_workers=1))
    msg = str(ei.value)
    assert "Caught Lossy in DataLoader worker process 0 while loading index 1" in msg
    assert "raise Lossy" in msg and "a/2" in msg
    assert isinstance(ei.value, RuntimeError)  # what torch raises when it cannot rebuild
    del ei  # break the frame <-> traceback cycle that keeps the iterator alive


def test_local_exception_class_arrives_with_its_traceback():
    class Local(Exception):
        pass

    class DS(Dataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            raise Local("local failure")

    with pytest.raises(DataLoaderWorkerError, match="(?s)Caught Local .*local failure"):
        list(DataLoader(DS(), num_workers=1))


def test_worker_init_fn_failure_is_reported():
    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process 0"):
        list(DataLoader(InitTag(), num_workers=1, worker_init_fn=failing_init))


def test_unpicklable_batch_is_reported():
    def gen_collate(batch):
        return (x for x in batch)  # generators cannot be pickled

    with pytest.raises(TypeError, match="could not be pickled"):  # the original type, as torch
        list(DataLoader(Jitter(4), batch_size=2, num_workers=1, collate_fn=gen_collate))


# ---------------------------------------------------------------------------- deaths (UP-30)
def test_worker_killed_by_sigkill_is_reported_quickly():
    t0 = time.monotonic()
    with pytest.raises(RuntimeError) as ei:
        list(DataLoader(Boom("sigkill"), batch_size=1, num_workers=2))
    assert time.monotonic() - t0 < 3.0
    msg = str(ei.value)
    assert "DataLoader worker 1" in msg and "SIGKILL" in msg and "index 5" in msg
    assert "is killed by signal" in msg
    del ei  # break the frame <-> traceback cycle that keeps the iterator alive


def test_worker_killed_by_sigbus_mentions_shared_memory():
    with pytest.raises(RuntimeError) as ei:
        list(DataLoader(Boom("sigbus", bad=0, n=2), batch_size=1, num_workers=1))
    msg = str(ei.value)
    assert "SIGBUS" in msg and "worker 0" in msg and "index 0" in msg and "/dev/shm" in msg
    del ei  # break the frame <-> traceback cycle that keeps the iterator alive


def test_worker_exit_is_reported_with_its_code():
    with pytest.raises(RuntimeError, match=r"worker 0 \(pid \d+\) exited unexpectedly with exit "
                       r"code 3 while loading indices \[2, 3\]"):  # fmt: skip
        list(DataLoader(Boom("exit", bad=2, n=4), batch_size=2, num_workers=1))


def test_timeout_names_the_worker_and_ends_quickly():
    t0 = time.monotonic()
    it = iter(DataLoader(Boom("hang", bad=0, n=2), batch_size=1, num_workers=2, timeout=0.5))
    with pytest.raises(RuntimeError) as ei:
        next(it)
    assert time.monotonic() - t0 < 3.0
    with pytest.raises(RuntimeError, match="workers were shut down after an earlier error"):
        next(it)
    del it
    msg = str(ei.value)
    assert msg.startswith("DataLoader timed out after 0.5 seconds")
    assert "worker 0" in msg and "index 0" in msg

    # ---------------------------------------------------------------------------- shutdown
    del ei  # break the frame <-> traceback cycle that keeps the iterator alive


@pytest.mark.parametrize("nw", [1, 2])
def test_breaking_out_early_stops_the_workers(nw):
    t0 = time.monotonic()
    for i, _ in enumerate(DataLoader(Jitter(200), batch_size=1, num_workers=nw)):
        if i == 3:
            break
    assert time.monotonic() - t0 < 3.0  # the autouse fixture checks that none is left


def test_persistent_workers_survive_epochs():
    dl = DataLoader(Pid(), batch_size=2, num_workers=2, persistent_workers=True)
    e1 = list(dl)
    pids = {int(p) for b in e1 for p in b[1]}
    assert len(pids) == 2 and len(mp.active_children()) == 2
    it = iter(dl)
    next(it)  # abandon this epoch half-way: its queued batches must not leak into the next
    e3 = list(dl)
    assert [b[0].tolist() for b in e3] == [[0, 1], [2, 3], [4, 5]]
    assert {int(p) for b in e3 for p in b[1]} == pids
    del dl, it, e1, e3
    gc.collect()


def test_persistent_workers_with_iterable_dataset():
    dl = DataLoader(Sharded(7), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(sum(_indices(dl), [])) == list(range(7))
    del dl


# ---------------------------------------------------------------------------- spawn (UP-34)
def test_spawn_rejects_unpicklable_collate_fn_at_construction():
    with pytest.raises(Exception) as ei:
        DataLoader(Jitter(), num_workers=1, multiprocessing_context="spawn", collate_fn=lambda b: b)
    msg = str(ei.value)
    assert "collate_fn=<lambda at test_workers.py:" in msg
    assert "'spawn'" in msg and '__name__ == "__main__"' in msg
    assert mp.active_children() == []
    del ei  # break the frame <-> traceback cycle that keeps the iterator alive


def test_spawn_names_the_unpicklable_attribute_path():
    with pytest.raises(Exception, match=r"dataset\.transform\['ops'\]\[1\]=<"):
        DataLoader(HoldsLambda(), num_workers=1, multiprocessing_context="spawn")

    def local_init(worker_id):
        pass

    with pytest.raises(Exception, match=r"worker_init_fn=<.*local_init at test_workers.py"):
        DataLoader(Jitter(), num_workers=1, multiprocessing_context="forkserver",
                   worker_init_fn=local_init)  # fmt: skip


def test_fork_accepts_lambdas():
    out = list(DataLoader(Jitter(4), batch_size=2, num_workers=1, collate_fn=lambda b: sum(b)))
    assert out == [1, 5]


@pytest.mark.slow
def test_spawn_context_loads_and_seeds_like_fork():
    ember.manual_seed(3)
    ref = _flat(DataLoader(Draws(), batch_size=2, num_workers=1))
    ember.manual_seed(3)
    got = _flat(DataLoader(Draws(), batch_size=2, num_workers=1, multiprocessing_context="spawn",
                           timeout=60))  # fmt: skip
    assert got == ref
