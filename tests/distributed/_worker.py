"""Scenarios run on every rank of an ``ember-run`` job by tests/distributed (one per launch).

``python -m ember.distributed.run --nproc-per-node N tests/distributed/_worker.py SCENARIO``.
A scenario asserts on each rank and prints ``OK <scenario> rank <r>`` at the end; failure
scenarios fail on purpose so the tests can check how the whole job ends.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from datetime import timedelta

import numpy as np

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP

R = dist.ReduceOp


def close(name: str, got, want, tol: float = 0.0) -> None:
    got = np.asarray(got.numpy() if isinstance(got, ember.Tensor) else got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    if want.dtype.kind in "biu" or tol == 0:
        assert np.array_equal(got, want), f"{name}: {got} != {want}"
    else:
        assert np.allclose(got, want, rtol=tol, atol=tol), f"{name}: {got} != {want}"


def raises(exc: type, fn, *args, **kw) -> str:
    try:
        fn(*args, **kw)
    except exc as e:
        return str(e)
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not raise {exc.__name__}")


# ---------------------------------------------------------------------------- collectives
def data(r: int, dtype: str) -> np.ndarray:
    if dtype == "bool":
        return np.array([r % 2 == 0, True, False, r == 0, r % 3 == 1])
    base = np.array([1, 2, 3, 5, 7]) + (r % 3)
    return (base if dtype in ("int64", "int32", "uint8") else base * 0.5 + 0.25).astype(dtype)


def ref(op: R, xs: list[np.ndarray]) -> np.ndarray:
    s = np.stack(xs)
    if s.dtype == np.bool_:
        fn = {
            R.SUM: np.any,
            R.PRODUCT: np.all,
            R.MIN: np.all,
            R.MAX: np.any,
            R.BAND: np.all,
            R.BOR: np.any,
            R.BXOR: lambda a, axis: np.logical_xor.reduce(a, axis=axis),
        }[op]
        return fn(s, axis=0)
    fn = {
        R.SUM: np.sum,
        R.PRODUCT: np.prod,
        R.MIN: np.min,
        R.MAX: np.max,
        R.AVG: np.mean,
        R.BAND: np.bitwise_and.reduce,
        R.BOR: np.bitwise_or.reduce,
        R.BXOR: np.bitwise_xor.reduce,
    }[op]
    return fn(s, axis=0).astype(s.dtype)


def scenario_collectives() -> None:
    dist.init_process_group("gloo", timeout=timedelta(seconds=60))
    r, n = dist.get_rank(), dist.get_world_size()
    assert (r, n) == (int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]))
    assert dist.is_initialized() and dist.get_backend() == "gloo"
    # all_reduce: every op on every dtype, against NumPy
    for dtype in ("float32", "float64", "float16", "int64", "int32", "uint8", "bool"):
        for op in (R.SUM, R.PRODUCT, R.MIN, R.MAX, R.AVG, R.BAND, R.BOR, R.BXOR):
            t = ember.tensor(data(r, dtype))
            bad = (op in (R.BAND, R.BOR, R.BXOR) and dtype.startswith("float")) or (
                op is R.AVG and not dtype.startswith("float")
            )
            if bad:
                raises(ValueError, dist.all_reduce, t, op)
                continue
            dist.all_reduce(t, op=op)
            tol = 1e-2 if dtype == "float16" else 1e-6
            close(
                f"all_reduce {op.name} {dtype}", t, ref(op, [data(k, dtype) for k in range(n)]), tol
            )
    # in place on a non-contiguous view writes back into the base
    base = ember.arange(6.0).reshape(2, 3) + r
    dist.all_reduce(base.t())
    close("all_reduce view", base, sum(np.arange(6.0).reshape(2, 3) + k for k in range(n)))
    # 0-d
    s = ember.tensor(float(r))
    dist.all_reduce(s, op=R.MAX)
    close("0-d", s, np.array(float(n - 1)))
    # reduce
    dst = 1 % n
    t = ember.tensor(data(r, "float64"))
    dist.reduce(t, dst=dst, op=R.SUM)
    close(
        "reduce", t, sum(data(k, "float64") for k in range(n)) if r == dst else data(r, "float64")
    )
    # broadcast
    t = ember.full((2, 2), float(r))
    dist.broadcast(t, src=n - 1)
    close("broadcast", t, np.full((2, 2), float(n - 1), np.float32))
    # all_gather / all_gather_into_tensor (concatenated and stacked)
    out = [ember.zeros(3, dtype=ember.int64) for _ in range(n)]
    dist.all_gather(out, ember.tensor([r, r + 1, r * 2]))
    for k in range(n):
        close("all_gather", out[k], np.array([k, k + 1, 2 * k]))
    flat = ember.zeros(2 * n)
    dist.all_gather_into_tensor(flat, ember.tensor([float(r), -float(r)]))
    close("all_gather_into_tensor", flat, np.array([[k, -k] for k in range(n)], np.float32).ravel())
    stacked = ember.zeros(n, 2)
    dist.all_gather_into_tensor(stacked, ember.tensor([float(r), 1.0]))
    close("stacked", stacked, np.array([[k, 1] for k in range(n)], np.float32))
    # gather / scatter
    gl = [ember.zeros(2) for _ in range(n)] if r == 0 else None
    dist.gather(ember.full((2,), float(r)), gl, dst=0)
    if r == 0:
        for k in range(n):
            close("gather", gl[k], np.full(2, float(k), np.float32))
    if r != 0:
        raises(ValueError, dist.gather, ember.zeros(2), [ember.zeros(2)] * n, dst=0)
    got = ember.zeros(3)
    dist.scatter(got, [ember.full((3,), 10.0 + k) for k in range(n)] if r == 0 else None, src=0)
    close("scatter", got, np.full(3, 10.0 + r, np.float32))
    # reduce_scatter / reduce_scatter_tensor
    out = ember.zeros(2)
    dist.reduce_scatter(out, [ember.full((2,), float(r * 10 + k)) for k in range(n)], op=R.SUM)
    close("reduce_scatter", out, np.full(2, sum(q * 10 + r for q in range(n)), np.float32))
    out = ember.zeros(2, dtype=ember.int64)
    dist.reduce_scatter_tensor(out, ember.arange(2 * n) + r, op=R.MAX)
    close("reduce_scatter_tensor", out, np.arange(2 * r, 2 * r + 2) + n - 1)
    # all_to_all with sizes that differ per pair, all_to_all_single (equal and uneven splits)
    ins = [ember.full((r + j + 1,), float(100 * r + j)) for j in range(n)]
    outs = [ember.zeros(j + r + 1) for j in range(n)]
    dist.all_to_all(outs, ins)
    for j in range(n):
        close("all_to_all", outs[j], np.full(j + r + 1, 100.0 * j + r, np.float32))
    o = ember.zeros(n, 2)
    dist.all_to_all_single(o, ember.tensor([[float(r), float(j)] for j in range(n)]))
    close("all_to_all_single", o, np.array([[j, r] for j in range(n)], np.float32))
    in_split = [j + 1 for j in range(n)]  # rank r sends j+1 rows to rank j
    out_split = [r + 1] * n
    inp = ember.arange(sum(in_split)).float() + 1000 * r
    o = ember.zeros(sum(out_split))
    dist.all_to_all_single(o, inp, out_split, in_split)
    want = np.concatenate(
        [np.arange(sum(in_split[:r]), sum(in_split[: r + 1])) + 1000 * j for j in range(n)]
    ).astype(np.float32)
    close("all_to_all_single uneven", o, want)
    dist.barrier()
    # point to point: a ring, blocking and non-blocking; recv from any source
    right, left = (r + 1) % n, (r - 1) % n
    buf = ember.zeros(4)
    w = dist.isend(ember.full((4,), float(r)), dst=right, tag=7)
    assert dist.recv(buf, src=left, tag=7) == left
    w.wait()
    close("ring", buf, np.full(4, float(left), np.float32))
    if r == 0:
        senders = set()
        for _ in range(n - 1):
            b = ember.zeros(1)
            src = dist.recv(b)
            assert float(b.item()) == 100.0 + src, (b, src)
            senders.add(src)
        assert senders == set(range(1, n)), senders
    else:
        dist.send(ember.tensor([100.0 + r]), dst=0)
    buf2 = ember.zeros(2)  # tag 9: the any-source receives above must not match these
    reqs = dist.batch_isend_irecv(
        [
            dist.P2POp(dist.isend, ember.full((2,), float(r)), right, tag=9),
            dist.P2POp(dist.irecv, buf2, left, tag=9),
        ]
    )
    for q in reqs:
        q.wait()
    close("batch_isend_irecv", buf2, np.full(2, float(left), np.float32))
    # async handles: many outstanding, waited in reverse order, then results
    ts = [ember.full((1000,), float(r + i)) for i in range(5)]
    works = [dist.all_reduce(t, async_op=True) for t in ts]
    for i, w in reversed(list(enumerate(works))):
        assert w.wait() is True and w.is_completed() and w.is_success()
        close(f"async {i}", ts[i], np.full(1000, sum(k + i for k in range(n)), np.float32))
    assert works[0].result()[0] is ts[0]
    w = dist.broadcast(ember.zeros(3), src=0, async_op=True)
    deadline = time.monotonic() + 30
    while not w.is_completed():
        assert time.monotonic() < deadline
    w = dist.barrier(async_op=True)
    w.wait()
    # objects
    objs = [{"r": r}, "x" * (r + 1), None] if r == 0 else [None, None, None]
    dist.broadcast_object_list(objs, src=0)
    assert objs == [{"r": 0}, "x", None], objs
    gathered = [None] * n
    dist.all_gather_object(gathered, ("rank", r, list(range(r))))
    assert gathered == [("rank", k, list(range(k))) for k in range(n)], gathered
    gl = [None] * n if r == n - 1 else None
    dist.gather_object({"k": r * 2}, gl, dst=n - 1)
    if r == n - 1:
        assert gl == [{"k": 2 * k} for k in range(n)], gl
    out_obj = [None]
    dist.scatter_object_list(
        out_obj, [f"item{k}" * (k + 1) for k in range(n)] if r == 0 else None, src=0
    )
    assert out_obj == [f"item{r}" * (r + 1)], out_obj
    # subgroups: first two ranks; even ranks (every rank calls new_group)
    g01 = dist.new_group([0, 1])
    evens = dist.new_group(list(range(0, n, 2)))
    if r < 2:
        assert dist.get_rank(g01) == r and dist.get_world_size(g01) == 2
        t = ember.tensor([float(r + 1)])
        dist.all_reduce(t, group=g01)
        close("subgroup", t, np.array([3.0], np.float32))
        t = ember.tensor([float(r)])
        dist.broadcast(t, src=1, group=g01)  # src is a global rank
        close("subgroup broadcast", t, np.array([1.0], np.float32))
    else:
        assert g01 == dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g01) == -1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert dist.all_reduce(ember.ones(1), group=g01) is None
        assert any("does not belong to the given group" in str(c.message) for c in caught)
    if r % 2 == 0:
        members = list(range(0, n, 2))
        assert dist.get_process_group_ranks(evens) == members
        t = ember.tensor([float(r)])
        w = dist.all_reduce(t, group=evens, async_op=True)
        w.wait()
        close("evens", t, np.array([float(sum(members))], np.float32))
        assert dist.get_global_rank(evens, dist.get_rank(evens)) == r
    dist.barrier()
    # argument errors like torch's
    raises(ValueError, dist.broadcast, ember.zeros(1))  # no src
    raises(TypeError, dist.all_reduce, np.zeros(2))
    if n > 1:
        raises(ValueError, dist.all_gather, [ember.zeros(2)], ember.zeros(2))
    raises(ValueError, dist.send, ember.zeros(1), dst=r)
    dist.destroy_process_group()
    assert not dist.is_initialized()
    raises(ValueError, dist.get_rank)


# ---------------------------------------------------------------------------- DDP
class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.fc1 = nn.Linear(3 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        h = ember.relu(self.conv(x)).view(x.shape[0], -1)
        return self.fc2(ember.relu(self.fc1(h)))


def make(seed: int = 0, cls=Net) -> nn.Module:
    ember.manual_seed(seed)
    return cls()


def batch(n: int, per: int, seed: int = 1) -> tuple:
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.standard_normal((n * per, 1, 4, 4)).astype(np.float32))
    y = ember.tensor(rng.standard_normal((n * per, 3)).astype(np.float32))
    return x, y


def maxdiff(a: nn.Module, b: nn.Module) -> float:
    return max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


def train_equivalence(r: int, n: int, steps: int = 10, **ddp_kw) -> float:
    model = make(seed=r)  # different on purpose: DDP must broadcast rank 0's parameters
    ddp = DDP(model, **ddp_kw)
    ref = make(seed=0)
    assert maxdiff(model, ref) == 0
    opt = ember.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    ropt = ember.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
    for step in range(steps):
        x, y = batch(n, 4, seed=step)
        sl = slice(4 * r, 4 * r + 4)  # equal shards of the batch
        opt.zero_grad()
        ((ddp(x[sl]) - y[sl]) ** 2).mean().backward()
        opt.step()
        ropt.zero_grad()
        ((ref(x) - y) ** 2).mean().backward()  # one process, the whole batch
        ropt.step()
    return maxdiff(model, ref)


class WithUnused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.used = nn.Linear(4, 3)
        self.unused = nn.Linear(4, 3)
        self.side = nn.Linear(4, 2)

    def forward(self, x):
        return self.used(x), self.side(x)


def scenario_ddp() -> None:
    dist.init_process_group(timeout=timedelta(seconds=60))
    r, n = dist.get_rank(), dist.get_world_size()
    # equivalence with one process on the whole batch: default buckets, many small buckets,
    # gradients as bucket views
    d = train_equivalence(r, n)
    assert d < 1e-6, f"default: {d}"
    d = train_equivalence(r, n, bucket_cap_mb=0.0005)
    assert d < 1e-6, f"small buckets: {d}"
    d = train_equivalence(r, n, gradient_as_bucket_view=True, bucket_cap_mb=0.001)
    assert d < 1e-6, f"bucket views: {d}"
    ddp = DDP(make(), bucket_cap_mb=0.0005)
    assert len(ddp._buckets) >= 2, len(ddp._buckets)
    assert list(ddp.state_dict())[0] == "module.conv.weight"
    ddp.load_state_dict(make(seed=5).state_dict())  # unprefixed keys are accepted too
    ddp.check_in_sync()

    # no_sync: two accumulated micro-steps plus a synced one == one step on all micro-batches
    model, ref = make(seed=r), make()
    ddp = DDP(model)
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1)
    ropt = ember.optim.SGD(ref.parameters(), lr=0.1)
    for micro in range(3):
        x, y = batch(n, 2, seed=10 + micro)
        sl = slice(2 * r, 2 * r + 2)
        if micro < 2:
            with ddp.no_sync():
                ((ddp(x[sl]) - y[sl]) ** 2).mean().backward()
        else:
            ((ddp(x[sl]) - y[sl]) ** 2).mean().backward()
        ((ref(x) - y) ** 2).mean().backward()
    opt.step()
    ropt.step()
    assert maxdiff(model, ref) < 1e-6, maxdiff(model, ref)

    # buffers: rank 0's at construction, and again before every training forward
    class WithBuf(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.register_buffer("count", ember.tensor([float(r)]))

        def forward(self, x):
            return self.fc(x) + self.count

    m = WithBuf()
    ddp = DDP(m)
    close("buffer at init", m.count, np.array([0.0], np.float32))
    m.count.fill_(float(r + 7))
    ddp(ember.ones(1, 2)).sum().backward()
    close("buffer before forward", m.count, np.array([7.0], np.float32))

    # an unused parameter and an output left out of the loss, found and handled
    ember.manual_seed(0)
    m = WithUnused()
    ddp = DDP(m, find_unused_parameters=True)
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        out, _side = ddp(ember.ones(2, 4) * (r + 1))
        out.sum().backward()
        opt.step()
    assert m.unused.weight.grad is None
    close("unused: side grad", m.side.weight.grad, np.zeros((2, 4), np.float32))
    close(
        "used grad",
        m.used.weight.grad,
        np.full((3, 4), 2 * sum(k + 1 for k in range(n)) / n, np.float32),
        1e-6,
    )
    # ... and without find_unused_parameters: the next forward names them (UP-26)
    ember.manual_seed(0)
    ddp = DDP(WithUnused())
    out, _side = ddp(ember.ones(2, 4))
    out.sum().backward()
    msg = raises(RuntimeError, ddp, ember.ones(2, 4))
    assert "model.unused.weight (not reached in forward)" in msg, msg
    assert "model.side.weight (used in forward but not connected to the loss)" in msg, msg
    assert "model.used.weight" not in msg, msg

    # a model that differs across ranks is refused, naming the parameter
    if n > 1:
        msg = raises(RuntimeError, DDP, nn.Linear(3, 4 if r == 0 else 5))
        assert "parameter 'weight' has shape [4, 3]" in msg and "[5, 3]" in msg, msg
    # check_in_sync names a parameter that diverged
    m = make()
    ddp = DDP(m)
    if r == n - 1:
        with ember.no_grad():
            m.fc2.bias.add_(1.0)
    if n > 1:
        msg = raises(RuntimeError, ddp.check_in_sync)
        assert "model.fc2.bias" in msg, msg

    # SyncBatchNorm on shards == BatchNorm on the whole batch (outputs, grads, running stats)
    def bn_net():
        ember.manual_seed(3)
        return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2))

    from ember.nn.modules.sync_batchnorm import SyncBatchNorm

    sync = SyncBatchNorm.convert_sync_batchnorm(bn_net())
    assert type(sync[1]).__name__ == "SyncBatchNorm"
    ddp = DDP(sync)
    ref = bn_net()
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1)
    ropt = ember.optim.SGD(ref.parameters(), lr=0.1)
    rng = np.random.default_rng(4)
    for _ in range(3):
        x = ember.tensor(rng.standard_normal((3 * n, 4)).astype(np.float32))
        opt.zero_grad()
        ropt.zero_grad()
        ddp(x[3 * r : 3 * r + 3]).pow(2).mean().backward()
        ref(x).pow(2).mean().backward()
        opt.step()
        ropt.step()
    assert maxdiff(sync, ref) < 1e-5, maxdiff(sync, ref)
    close("running_mean", sync[1].running_mean, ref[1].running_mean.numpy(), 1e-5)
    close("running_var", sync[1].running_var, ref[1].running_var.numpy(), 1e-5)

    # DistributedSampler: same length everywhere, shards disjoint, union covers the data
    from ember.utils.data.distributed import DistributedSampler

    s = DistributedSampler(list(range(10)), shuffle=True, seed=3)
    s.set_epoch(1)
    mine = list(s)
    every = [None] * n
    dist.all_gather_object(every, mine)
    assert all(len(e) == len(mine) for e in every)
    assert set().union(*map(set, every)) == set(range(10))
    dist.destroy_process_group()


# ---------------------------------------------------------------------------- failures
def scenario_raise() -> None:
    dist.init_process_group(timeout=timedelta(seconds=60))
    r = dist.get_rank()
    t = ember.ones(4)
    for step in range(10):
        if r == 1 and step == 3:
            raise ValueError(f"rank {r} failed at step {step}")
        dist.all_reduce(t)


def scenario_kill() -> None:
    import signal

    dist.init_process_group(timeout=timedelta(seconds=60))
    r = dist.get_rank()
    t = ember.ones(4)
    for step in range(10):
        if r == 1 and step == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        dist.all_reduce(t)


def scenario_hang() -> None:
    dist.init_process_group(timeout=timedelta(seconds=2))
    r = dist.get_rank()
    t = ember.ones(4)
    dist.all_reduce(t)
    if r == 1:
        time.sleep(120)  # never joins the next collective
    dist.all_reduce(t)


def scenario_mismatch() -> None:
    level = None if sys.argv[2] == "none" else sys.argv[2]
    dist.init_process_group(timeout=timedelta(seconds=60), debug_level=level)
    r = dist.get_rank()
    for _ in range(60):  # past the warm-up checks: only debug mode catches what follows
        dist.all_reduce(ember.ones(2))
    dist.all_reduce(ember.ones(10 if r == 0 else 20))


def scenario_uneven() -> None:
    dist.init_process_group(timeout=timedelta(seconds=60))
    r = dist.get_rank()
    ddp = DDP(make())
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1)
    steps = 5 if r == 0 else 3  # rank 0 has more batches than the others
    for step in range(steps):
        x, y = batch(1, 2, seed=step)
        opt.zero_grad()
        ((ddp(x) - y) ** 2).mean().backward()
        opt.step()
    if sys.argv[2] == "barrier":
        dist.barrier()  # the ranks that finished meet here: rank 0 is still in backward
    print(f"rank {r} finished its data", flush=True)


def scenario_exitcode() -> None:
    dist.init_process_group(timeout=timedelta(seconds=60))
    if dist.get_rank() == 1:
        sys.exit(3)
    dist.barrier()


def scenario_env() -> None:
    keys = (
        "RANK",
        "LOCAL_RANK",
        "WORLD_SIZE",
        "LOCAL_WORLD_SIZE",
        "MASTER_ADDR",
        "MASTER_PORT",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MALLOC_MMAP_MAX_",
    )
    print("ENV", " ".join(f"{k}={os.environ.get(k)}" for k in keys), flush=True)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    dist.init_process_group(backend="gloo", rank=rank, world_size=world)  # seed-000 style
    loss = ember.tensor(float(rank + 1), requires_grad=True) * 2
    dist.all_reduce(loss, op=dist.ReduceOp.SUM)
    assert float(loss.item()) == 2 * sum(range(1, world + 1))
    loss.backward()  # all_reduce on a graph tensor leaves autograd alone, as torch
    msg = raises(ValueError, dist.init_process_group)
    assert "twice" in msg


def scenario_badworld() -> None:
    dist.init_process_group(world_size=int(os.environ["WORLD_SIZE"]) + 1)


if __name__ == "__main__":
    name = sys.argv[1]
    globals()[f"scenario_{name}"]()
    print(f"OK {name} rank {os.environ.get('RANK')}", flush=True)
