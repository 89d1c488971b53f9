"""Shared helpers for the data tests: nested ember-vs-torch structure comparison."""

from __future__ import annotations

import numpy as np

import ember


def to_np(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def assert_same_structure(e, t, path="batch"):
    """Same container types, same tensor dtypes/shapes/values, same leaves (ember vs torch)."""
    if isinstance(e, ember.Tensor):
        assert type(t).__name__ == "Tensor", f"{path}: torch gave {type(t)}"
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], path
        assert tuple(e.shape) == tuple(t.shape), path
        np.testing.assert_array_equal(e.numpy(), t.numpy(), err_msg=path)
        return
    assert type(e).__name__ == type(t).__name__, f"{path}: {type(e)} vs {type(t)}"
    if isinstance(e, dict):
        assert list(e) == list(t), path
        for k in e:
            assert_same_structure(e[k], t[k], f"{path}[{k!r}]")
    elif isinstance(e, list | tuple):
        assert len(e) == len(t), path
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same_structure(a, b, f"{path}[{i}]")
    elif isinstance(e, np.ndarray):
        assert e.dtype == t.dtype, path
        np.testing.assert_array_equal(e, t, err_msg=path)
    else:
        assert e == t, path
