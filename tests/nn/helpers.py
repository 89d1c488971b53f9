"""Shared helpers for the nn tests: torch as oracle, weight copying, tolerant comparisons."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")

# (rtol, atol) per dtype: float64 is compared tightly, float32 to rounding noise
TOL = {"float64": (1e-9, 1e-11), "float32": (2e-5, 2e-6)}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def et(a: Any, rg: bool = False) -> ember.Tensor:
    """An ember tensor holding a copy of numpy array `a`."""
    return ember.tensor(np.array(a), requires_grad=rg)


def tt(a: Any, rg: bool = False) -> Any:
    """A torch tensor holding a copy of numpy array `a`."""
    return torch.tensor(np.array(a), requires_grad=rg)


def npy(t: Any) -> np.ndarray:
    """Array of an ember or torch tensor (or None -> None)."""
    if t is None:
        return None
    if isinstance(t, ember.Tensor):
        return np.array(t.detach().numpy())
    return t.detach().cpu().numpy()


def close(a: Any, b: Any, dtype: str = "float64", what: str = "") -> None:
    rtol, atol = TOL[dtype]
    a, b = (
        npy(a) if not isinstance(a, np.ndarray) else a,
        npy(b) if not isinstance(b, np.ndarray) else b,
    )
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def copy_weights(tmod: Any, emod: ember.nn.Module) -> None:
    """Load torch's initial weights into ember (state_dict of NumPy arrays)."""
    emod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})


def run_both(
    emod: Any,
    tmod: Any,
    arrays: list[np.ndarray],
    dtype: str = "float64",
    grad_inputs: bool = True,
    seed: int = 1,
) -> None:
    """Forward and backward (random cotangent) on both; compare output, input and param grads."""
    e_in = [et(a, grad_inputs and a.dtype.kind == "f") for a in arrays]
    t_in = [tt(a, grad_inputs and a.dtype.kind == "f") for a in arrays]
    e_out, t_out = emod(*e_in), tmod(*t_in)
    close(e_out, t_out, dtype, "output")
    cot = rng(seed).standard_normal(tuple(t_out.shape)).astype(arrays[0].dtype)
    (e_out * et(cot)).sum().backward()
    (t_out * tt(cot)).sum().backward()
    for i, (a, b) in enumerate(zip(e_in, t_in)):
        if b.requires_grad:
            close(a.grad, b.grad, dtype, f"grad of input {i}")
    if isinstance(tmod, torch.nn.Module):
        tp = dict(tmod.named_parameters())
        for name, p in emod.named_parameters():
            close(p.grad, tp[name].grad, dtype, f"grad of {name}")
