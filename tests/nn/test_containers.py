"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict: behaviour and reprs vs torch."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as enn
from tests.nn.helpers import needs_torch
from tests.oracle import torch


def lin(nn, i):
    return nn.Linear(i, i + 1)


@needs_torch
def test_sequential_indexing_slicing_and_mutation_match_torch() -> None:
    for nn in (enn, torch.nn):
        s = nn.Sequential(lin(nn, 1), lin(nn, 2), lin(nn, 3), lin(nn, 4))
        assert s[-1].in_features == 4 and s[0].in_features == 1
        sub = s[1:3]
        assert type(sub) is nn.Sequential and list(sub._modules) == ["1", "2"]
        with pytest.raises(IndexError, match="index 4 is out of range"):
            s[4]
        s.append(lin(nn, 5)).extend([lin(nn, 6)])
        s.insert(1, lin(nn, 9))
        s.insert(-1, lin(nn, 8))
        popped = s.pop(0)
        assert popped.in_features == 1
        del s[1:3]
        s[0] = lin(nn, 7)
        s += nn.Sequential(lin(nn, 10))
        t = s + nn.Sequential(lin(nn, 11))
        doubled = nn.Sequential(lin(nn, 12)) * 2
        if nn is enn:
            e_state = (
                [m.in_features for m in s],
                list(s._modules),
                [m.in_features for m in t],
                len(doubled),
                repr(s),
            )
        else:
            t_state = (
                [m.in_features for m in s],
                list(s._modules),
                [m.in_features for m in t],
                len(doubled),
                repr(s),
            )
    assert e_state == t_state


def test_sequential_forward_and_ordered_dict() -> None:
    s = enn.Sequential(OrderedDict([("fc", enn.Linear(2, 3)), ("act", enn.ReLU())]))
    assert list(s._modules) == ["fc", "act"] and s.fc is s[0]
    y = s(ember.randn(4, 2))
    assert y.shape == (4, 3) and float(y.min()) >= 0
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU"]
    assert len(s) == 2
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential class"):
        s + [enn.ReLU()]


@needs_torch
def test_module_list_ops_and_repr_match_torch() -> None:
    out = []
    for nn in (enn, torch.nn):
        ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        ml.append(nn.ReLU())
        ml.extend([nn.Linear(2, 2), nn.Linear(2, 2)])
        ml.insert(1, nn.Tanh())
        r1 = repr(ml)
        ml[-1] = nn.Sigmoid()
        del ml[0]
        p = ml.pop(0)
        sl = ml[1:3]
        out.append(
            (
                r1,
                repr(ml),
                type(p).__name__,
                type(sl).__name__,
                list(ml._modules),
                len(ml + nn.ModuleList([nn.ReLU()])),
                repr(nn.ModuleList()),
            )
        )
        with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
            ml.extend(3)
    assert out[0] == out[1]


@needs_torch
def test_module_dict_matches_torch() -> None:
    out = []
    for nn in (enn, torch.nn):
        md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
        md["c"] = nn.Linear(1, 1)
        md.update([("d", nn.Sigmoid())])
        p = md.pop("b")
        out.append(
            (
                list(md.keys()),
                [type(v).__name__ for v in md.values()],
                "a" in md,
                len(md),
                type(p).__name__,
                repr(md),
                list(md),
            )
        )
        with pytest.raises(ValueError, match="has length 1; 2 is required"):
            md.update([("x",)])
        md.clear()
        assert len(md) == 0
    assert out[0] == out[1]


@needs_torch
def test_parameter_list_and_dict_match_torch() -> None:
    out = []
    for lib in (ember, torch):
        nn = lib.nn
        pl = nn.ParameterList([nn.Parameter(lib.zeros(2, 3)), lib.ones(4)])  # tensors get wrapped
        pl.append(nn.Parameter(lib.zeros(1, dtype=lib.float64)))
        pd = nn.ParameterDict({"w": nn.Parameter(lib.zeros(2)), "a": lib.ones(3)})
        pd["z"] = lib.zeros(1)
        m = nn.Module()
        m.pl, m.pd = pl, pd
        out.append(
            (
                repr(pl).replace("torch.", "ember."),
                repr(pd).replace("torch.", "ember."),
                [n for n, _ in m.named_parameters()],
                all(isinstance(p, nn.Parameter) for p in pl),
                len(pl),
                len(pd),
                list(pd.keys()),
                "w" in pd,
                pd.get("q", 5),
                list(pd),
                len(pl[0:2]),
                list(m.state_dict()),
            )
        )
        with pytest.raises(RuntimeError, match="ParameterList should not be called."):
            pl(1)
        with pytest.raises(TypeError, match="not a string"):
            pd[1]
    assert out[0] == out[1]


def test_parameter_dict_dict_methods() -> None:
    pd = enn.ParameterDict({"a": ember.ones(1)})
    pd.setdefault("b", ember.zeros(2))
    assert list(pd) == ["a", "b"]
    k, v = pd.popitem()
    assert k == "b" and v.shape == (2,)
    c = pd.copy() | enn.ParameterDict({"x": ember.ones(1)})
    assert list(c) == ["a", "x"]
    pd.clear()
    assert len(pd) == 0
    assert list(enn.ParameterDict().fromkeys(["u", "v"], ember.ones(1))) == ["u", "v"]


def test_containers_register_everything_for_training() -> None:
    class Net(enn.Module):
        def __init__(self):
            super().__init__()
            self.layers = enn.ModuleList([enn.Linear(3, 3) for _ in range(2)])
            self.extra = enn.ParameterList([enn.Parameter(ember.ones(3))])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x) * self.extra[0]
            return x

    n = Net()
    assert len(list(n.parameters())) == 5
    n(ember.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in n.parameters())
    n.double()
    assert n.extra[0].dtype == ember.float64
    assert np.allclose(n.extra[0].detach().numpy(), 1)
