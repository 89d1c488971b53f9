"""The main job (`python -m ember.demo`) runs end to end on a small slice and writes a checkpoint
that PyTorch loads into the same architecture."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ember import demo
from tests.oracle import torch

FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


@pytest.mark.skipif(not os.path.exists(FASHION), reason="needs Debian's dataset-fashion-mnist")
def test_demo_runs_and_checkpoint_loads_in_torch(tmp_path, capsys):
    assert (
        demo.main(["--epochs", "1", "--limit", "600", "--batch-size", "64", "--out", str(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "SUMMARY: Fashion-MNIST seed CNN" in out and "test accuracy" in out
    ckpt = tmp_path / "seed_cnn.pt"
    assert ckpt.exists()
    if torch is None:
        return
    from benchmarks.workloads import seed_cnn

    state = torch.load(ckpt, weights_only=True)
    model = seed_cnn(torch)
    model.load_state_dict(state["model"])
    assert state["epoch"] == 1 and 0.0 <= state["test_acc"] <= 1.0
    x = torch.tensor(np.zeros((2, 1, 28, 28), np.float32))
    assert tuple(model(x).shape) == (2, 10)
