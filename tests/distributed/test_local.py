"""Single-process parts: DistributedSampler, DataParallel, SyncBatchNorm fallback, the launcher's
command line, argument errors. No MPI job is started here (one test runs plain Python)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import ember
import ember.distributed as dist
from ember import nn
from ember.distributed import run as launcher
from ember.nn.modules.sync_batchnorm import SyncBatchNorm
from ember.nn.parallel import DataParallel, DistributedDataParallel
from ember.utils.data.distributed import DistributedSampler
from tests.distributed.conftest import ROOT, job_env, mpi_missing
from tests.oracle import torch


# ---------------------------------------------------------------------------- sampler
@pytest.mark.parametrize("size", [0, 1, 3, 10, 11])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_partition_and_padding_match_torch(size, replicas, drop_last):
    if torch is None:
        pytest.skip("torch oracle not installed")
    data = list(range(size))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(
            data, replicas, rank, shuffle=False, drop_last=drop_last
        )
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shuffle_shards_cover_and_follow_epoch(drop_last):
    data = list(range(11))
    shards = [DistributedSampler(data, 3, r, seed=5, drop_last=drop_last) for r in range(3)]
    for s in shards:
        s.set_epoch(2)
    got = [list(s) for s in shards]
    assert len({len(g) for g in got}) == 1
    flat = [i for g in got for i in g]
    if drop_last:
        assert len(set(flat)) == len(flat) == 9
    else:
        assert set(flat) == set(data) and len(flat) == 12  # one index repeated as padding
    again = DistributedSampler(data, 3, 0, seed=5, drop_last=drop_last)
    again.set_epoch(2)
    assert list(again) == got[0]  # same seed and epoch: same order on every rank
    again.set_epoch(3)
    assert list(again) != got[0]


def test_sampler_warns_when_an_epoch_starts_without_set_epoch():
    s = DistributedSampler(list(range(8)), 2, 0)
    first = list(s)
    with pytest.warns(UserWarning, match="set_epoch"):
        assert list(s) == first  # torch's behaviour is kept: same order
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(s)  # warned once
        t = DistributedSampler(list(range(8)), 2, 0)
        for epoch in range(3):
            t.set_epoch(epoch)
            list(t)
        list(DistributedSampler(list(range(8)), 2, 0, shuffle=False))


def test_sampler_errors_like_torch():
    with pytest.raises(
        ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"
    ):
        DistributedSampler([1, 2], num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler([1, 2])


# ---------------------------------------------------------------------------- DataParallel
class Two(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 5)
        self.bn = nn.BatchNorm1d(5)
        self.b = nn.Linear(5, 2)

    def forward(self, x, scale=1.0, extra=None):
        y = self.b(ember.relu(self.bn(self.a(x)))) * scale
        return {"y": y, "parts": [y[:, :1], None]} if extra else y


def test_data_parallel_matches_the_module_and_reaches_its_parameters():
    ember.manual_seed(0)
    model = Two().eval()  # eval: batch norm uses running stats, so chunking changes nothing
    x = ember.randn(10, 4)
    want = model(x, scale=2.0)
    want.sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    dp = DataParallel(model, device_ids=[0, 1, 2])
    got = dp(x, scale=2.0)
    assert got.shape == (10, 2)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6, atol=1e-6)
    got.sum().backward()
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g.numpy(), rtol=1e-5, atol=1e-6)
    assert list(dp.state_dict())[0] == "module.a.weight"
    out = dp(x, extra=True)  # dict outputs are gathered key by key
    assert out["y"].shape == (10, 2) and out["parts"][0].shape == (10, 1)
    assert out["parts"][1] is None


def test_data_parallel_grad_mode_buffers_and_errors():
    ember.manual_seed(0)
    model = Two()
    dp = DataParallel(model, device_ids=[0, 1])
    with ember.no_grad():
        assert not dp(ember.randn(6, 4)).requires_grad  # workers run in the caller's mode
    assert int(model.bn.num_batches_tracked.item()) == 1  # replica 0's update is kept
    assert dp(ember.randn(6, 4)).requires_grad

    class Boom(nn.Module):
        def forward(self, x):
            if x.shape[0] < 3:
                raise ValueError("small chunk")
            return x

    with pytest.raises(ValueError, match="small chunk") as info:
        DataParallel(Boom(), device_ids=[0, 1])(ember.randn(5, 2))
    assert "replica 1" in str(info.value.__notes__)

    class Total(nn.Module):
        def forward(self, x):
            return x.sum()

    with pytest.warns(UserWarning, match="will instead unsqueeze and return a vector"):
        r = DataParallel(Total(), device_ids=[0, 1])(ember.ones(4, 2))
    assert r.tolist() == [4.0, 4.0]


# ---------------------------------------------------------------------------- SyncBatchNorm
def test_sync_batchnorm_without_process_group_is_batchnorm():
    ember.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    sync = SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(bn))
    assert type(sync[0]) is SyncBatchNorm and sync[0].weight is bn.weight
    assert sync[0].running_mean is bn.running_mean
    x = ember.randn(4, 3, 2, 2)
    ref = nn.BatchNorm2d(3)
    np.testing.assert_allclose(sync(x).detach().numpy(), ref(x).detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), ref.running_var.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="expected at least 2D input"):
        SyncBatchNorm(3)(ember.randn(3))


# ---------------------------------------------------------------------------- API surface
def test_api_surface_without_a_job():
    assert dist.is_available() == (mpi_missing() is None or "mpiexec" in (mpi_missing() or ""))
    assert not dist.is_initialized()
    assert int(dist.ReduceOp.AVG) == 1 and str(dist.ReduceOp.SUM) == "RedOpType.SUM"
    assert dist.ReduceOp.RedOpType is dist.ReduceOp
    assert dist.Backend("GLOO") == "gloo"
    if torch is not None:
        for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
            assert int(getattr(dist.ReduceOp, op)) == int(getattr(torch.distributed.ReduceOp, op))
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_world_size()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.all_reduce(ember.ones(1))
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="backend='gloo'"):
        dist.init_process_group("nccl")  # no CUDA here
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group("ucx")


def test_not_launched_by_mpi_names_the_fix():
    reason = mpi_missing()
    if reason is not None and "mpi4py" in reason:
        pytest.skip(reason)
    code = (
        "import ember.distributed as dist\ndist.init_process_group('gloo', rank=0, world_size=2)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=job_env(),
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert p.returncode != 0
    assert "not started by an MPI launcher" in p.stderr, p.stderr
    assert "ember-run --nproc-per-node 2" in p.stderr, p.stderr


# ---------------------------------------------------------------------------- launcher
def command(*args: str, **env: str) -> tuple[list[str], dict]:
    opts = launcher._parser().parse_args(["--mpiexec", "MPIEXEC", *args])
    old = dict(launcher.os.environ)
    try:
        launcher.os.environ.clear()
        launcher.os.environ.update(env)
        return launcher.build_command(opts)
    finally:
        launcher.os.environ.clear()
        launcher.os.environ.update(old)


def test_launcher_command_and_environment(monkeypatch):
    monkeypatch.setattr(launcher.os, "cpu_count", lambda: 2)
    cmd, env = command("--nproc-per-node", "2", "train.py", "--lr", "0.1")
    assert cmd[:5] == ["MPIEXEC", "-n", "2", "-ppn", "2"]
    assert cmd[5:] == [
        sys.executable,
        "-m",
        "ember.distributed._bootstrap",
        "train.py",
        "--lr",
        "0.1",
    ]
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["MALLOC_MMAP_MAX_"] == "0" and "MPIR_CVAR_ENABLE_HEAVY_YIELD" not in env
    assert env["MASTER_ADDR"] == "127.0.0.1" and int(env["MASTER_PORT"]) > 0
    _, env = command("--nproc-per-node", "4", "t.py", OMP_NUM_THREADS="3")
    assert env["MPIR_CVAR_ENABLE_HEAVY_YIELD"] == "1"  # more ranks than cores
    assert env["OMP_NUM_THREADS"] == "3"  # the user's setting wins
    cmd, env = command("--nproc_per_node", "3", "--hosts", "h1,h2", "-m", "pkg.train")
    assert cmd[:7] == ["MPIEXEC", "-n", "6", "-ppn", "3", "-hosts", "h1,h2"]
    assert cmd[-2:] == ["-m", "pkg.train"] and env["MASTER_ADDR"] == "h1"
    with pytest.raises(SystemExit):
        command("--nproc-per-node", "0", "t.py")
