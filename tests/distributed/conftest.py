"""Multi-rank tests run real jobs: ``ember-run`` (mpiexec) in a subprocess, with a timeout.

Nothing is installed here. Without mpi4py or mpiexec the job tests skip, saying why; the
distributed extra provides both: ``pip install 'ember[distributed]'``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("_worker.py")
_CLEAN = (
    "RANK",
    "LOCAL_RANK",
    "WORLD_SIZE",
    "LOCAL_WORLD_SIZE",
    "EMBER_DISTRIBUTED_DEBUG",
    "TORCH_DISTRIBUTED_DEBUG",
    "EMBER_DISTRIBUTED_CHECK_FIRST",
    "EMBER_DISTRIBUTED_TIMEOUT",
)


def mpi_missing() -> str | None:
    """Why multi-rank jobs cannot run here, or None."""
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed: pip install 'ember[distributed]'"
    from ember.distributed.run import find_mpiexec

    try:
        find_mpiexec()
    except SystemExit:
        return "mpiexec not found: pip install 'ember[distributed]' (mpich)"
    return None


@dataclass
class Job:
    rc: int
    out: str
    elapsed: float


def job_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEAN}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_job(n: int, *args: str, timeout: float = 120, **env: str) -> Job:
    """Run `_worker.py args` on n ranks; the whole job is killed if it outlives `timeout`."""
    cmd = [
        sys.executable,
        "-m",
        "ember.distributed.run",
        "--nproc-per-node",
        str(n),
        str(WORKER),
        *args,
    ]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=job_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # mpiexec and every rank it started
        out, _ = proc.communicate()
        pytest.fail(f"job {args} on {n} ranks still running after {timeout} s:\n{out}")
    return Job(proc.returncode, out, time.monotonic() - t0)


@pytest.fixture
def job():
    reason = mpi_missing()
    if reason:
        pytest.skip(reason)
    return run_job
