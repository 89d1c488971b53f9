"""torch as an optional test oracle: ``from tests.oracle import torch`` gives None without it."""

from __future__ import annotations

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - depends on the environment
    torch = None
