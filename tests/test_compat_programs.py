"""Ordinary PyTorch programs (tests/compat/*.py) print exactly the same with ember as with torch:
values, shapes, dtypes, module/optimizer reprs, learning rates, gradients."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.oracle import torch

HERE = Path(__file__).with_name("compat")
ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted(p.name for p in HERE.glob("*.py"))


def _run(prog: str, lib: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, str(HERE / prog), lib],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert r.returncode == 0, f"{prog} with {lib} failed:\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.mark.skipif(torch is None, reason="torch is the oracle")
@pytest.mark.parametrize("prog", PROGRAMS)
def test_same_output_as_torch(prog):
    assert _run(prog, "ember") == _run(prog, "torch")
