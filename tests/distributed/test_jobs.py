"""Multi-rank jobs on 2 and 4 ranks: collectives, DDP, and how failing jobs end."""

from __future__ import annotations

import pytest

RANKS = [2, 4]
QUICK = 25  # seconds: a failing job must end well within this (startup included)


def ok(job, n: int, scenario: str) -> None:
    assert job.rc == 0, job.out
    for r in range(n):
        assert f"OK {scenario} rank {r}" in job.out, job.out


@pytest.mark.parametrize("n", RANKS)
def test_collectives_match_numpy(job, n):
    """Every collective and ReduceOp against NumPy, async handles, subgroups, objects, p2p."""
    ok(job(n, "collectives"), n, "collectives")


@pytest.mark.parametrize("n", RANKS)
def test_ddp(job, n):
    """DDP == one process on the whole batch (1e-6, 10 steps); no_sync; buffers; unused
    parameters; model mismatch; SyncBatchNorm; DistributedSampler shards."""
    ok(job(n, "ddp"), n, "ddp")


@pytest.mark.parametrize("n", RANKS)
def test_exception_on_one_rank_aborts_every_rank(job, n):
    j = job(n, "raise")
    assert j.rc != 0 and j.elapsed < QUICK, j.out
    assert "rank 1 of" in j.out and "ValueError: rank 1 failed at step 3" in j.out, j.out
    assert j.out.count("ValueError: rank 1 failed at step 3") == 1, j.out  # printed once


@pytest.mark.parametrize("n", RANKS)
def test_killed_rank_ends_the_job(job, n):
    j = job(n, "kill")
    assert j.rc != 0 and j.elapsed < QUICK, j.out


@pytest.mark.parametrize("n", RANKS)
def test_hung_rank_times_out_naming_it(job, n):
    j = job(n, "hang")
    assert j.rc != 0 and j.elapsed < QUICK, j.out
    assert "timed out after 2 s" in j.out and "rank 1: has not joined" in j.out, j.out
    assert "in scenario_hang" in j.out, j.out  # rank 1's stack, dumped on request


@pytest.mark.parametrize("n", RANKS)
def test_mismatched_shapes_raise_in_debug_mode(job, n):
    j = job(n, "mismatch", "DETAIL")
    assert j.rc != 0 and j.elapsed < QUICK, j.out
    assert "CollectiveMismatchError: collective #61" in j.out, j.out
    assert "ranks [0]: all_reduce(shape=[10]" in j.out, j.out
    assert "all_reduce(shape=[20]" in j.out, j.out
    assert j.out.count("differs across ranks") == 1, j.out


def test_mismatch_env_variable_turns_on_checks(job):
    j = job(2, "mismatch", "none", TORCH_DISTRIBUTED_DEBUG="DETAIL")
    assert j.rc != 0 and "CollectiveMismatchError" in j.out, j.out


@pytest.mark.parametrize("how", ["exit", "barrier"])
def test_uneven_inputs_raise_instead_of_hanging(job, how):
    j = job(2, "uneven", how)
    assert j.rc != 0 and j.elapsed < QUICK, j.out
    assert "DDP gradient bucket" in j.out, j.out
    if how == "exit":
        assert "rank 1 exited (its script ended) before joining it" in j.out, j.out
    else:
        assert "deadlock" in j.out and "barrier #2" in j.out, j.out


def test_exit_code_of_the_failing_rank(job):
    j = job(2, "exitcode")
    assert j.rc == 3 and j.elapsed < QUICK, j.out


def test_launcher_environment_and_seed_style_init(job):
    j = job(2, "env")
    ok(j, 2, "env")
    for r in range(2):
        assert f"ENV RANK={r} LOCAL_RANK={r} WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 " in j.out, j.out
    assert "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MALLOC_MMAP_MAX_=0" in j.out, j.out


def test_explicit_world_size_must_agree_with_mpi(job):
    j = job(2, "badworld")
    assert j.rc != 0 and "got world_size=3, but MPI says world_size=2" in j.out, j.out
