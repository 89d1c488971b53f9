"""Seed 000's snippet (init_process_group with rank/world_size, DDP, all_reduce of the loss) runs
under the launcher with 2 ranks, on both backend names."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.distributed.conftest import ROOT, job_env, mpi_missing

SCRIPT = Path(__file__).with_name("scripts") / "seed_snippet.py"


@pytest.mark.parametrize("backend", ["gloo", "mpi"])
def test_seed_snippet_under_launcher(backend):
    reason = mpi_missing()
    if reason:
        pytest.skip(reason)
    cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2", str(SCRIPT)]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=job_env(BACKEND=backend),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("the 2-rank job did not finish")
    assert proc.returncode == 0, out
    assert "OK world=2" in out
