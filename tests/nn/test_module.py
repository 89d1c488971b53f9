"""Module: registration, traversal order, state dicts, modes, conversion, hooks, errors."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as enn
from tests.nn.helpers import close, et, needs_torch, rng, tt
from tests.oracle import torch


def _lib(nn):
    """The tensor library that owns this nn module (torch may be absent)."""
    return torch if torch is not None and nn is torch.nn else ember


def make_net(nn):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.register_buffer("running", _lib(nn).zeros(4))
            self.register_buffer("scratch", _lib(nn).ones(2), persistent=False)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.fc(x)) + self.running

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(3, 4)
            self.blocks = nn.ModuleList([Block(), Block()])
            self.heads = nn.ModuleDict({"b": nn.Linear(4, 2), "a": nn.Linear(4, 1, bias=False)})
            self.scale = nn.Parameter(_lib(nn).ones(1))
            self.shared = self.embed  # the same module twice: deduplicated by traversal
            self.seq = nn.Sequential(
                OrderedDict([("first", nn.Tanh()), ("second", nn.Linear(4, 4))])
            )
            self.plist = nn.ParameterList([nn.Parameter(_lib(nn).zeros(2))])

        def forward(self, x):
            h = self.embed(x)
            for b in self.blocks:
                h = b(h)
            h = self.seq(h)
            return self.heads["b"](h) * self.scale + self.heads["a"](h)

    return Net()


@needs_torch
def test_traversal_and_state_dict_keys_match_torch() -> None:
    e, t = make_net(enn), make_net(torch.nn)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == [
        n for n, _ in t.named_parameters(remove_duplicate=False)
    ]
    assert [n for n, _ in e.named_modules(remove_duplicate=False)] == [
        n for n, _ in t.named_modules(remove_duplicate=False)
    ]
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=False)] == [
        n for n, _ in t.named_parameters(prefix="m", recurse=False)
    ]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert repr(e) == repr(t)
    assert isinstance(e.state_dict(), OrderedDict)
    assert e.state_dict()._metadata[""] == {"version": 1}


@needs_torch
def test_copy_torch_weights_and_match_forward() -> None:
    e, t = make_net(enn), make_net(torch.nn)
    res = e.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert repr(res) == "<All keys matched successfully>"
    a = rng(0).standard_normal((5, 3)).astype(np.float32)
    close(e(et(a)), t(tt(a)), "float32")


def test_state_dict_values_are_detached_and_share_storage() -> None:
    m = enn.Linear(2, 3)
    sd = m.state_dict()
    assert type(sd["weight"]) is ember.Tensor and not sd["weight"].requires_grad
    with ember.no_grad():
        m.weight.fill_(2.0)
    assert (sd["weight"].numpy() == 2.0).all()
    kv = m.state_dict(keep_vars=True)
    assert kv["weight"] is m.weight
    sd2 = m.state_dict(prefix="model.")
    assert list(sd2) == ["model.weight", "model.bias"]


@needs_torch
def test_load_state_dict_errors_match_torch() -> None:
    e, t = enn.Sequential(enn.Linear(2, 3)), torch.nn.Sequential(torch.nn.Linear(2, 3))
    bad = {"0.weight": np.zeros((3, 5), np.float32), "0.bias": np.zeros(3, np.float32)}
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(bad)
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict({k: torch.tensor(v) for k, v in bad.items()})
    assert str(ee.value) == str(te.value)
    assert "size mismatch for 0.weight" in str(ee.value)
    extra = {"0.weight": np.zeros((3, 2), np.float32), "1.foo": np.zeros(1, np.float32)}
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(extra)
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict({k: torch.tensor(v) for k, v in extra.items()})
    assert str(ee.value) == str(te.value)
    r, tr = (
        e.load_state_dict(extra, strict=False),
        t.load_state_dict({k: torch.tensor(v) for k, v in extra.items()}, strict=False),
    )
    assert r == tr and r.missing_keys == ["0.bias"] and r.unexpected_keys == ["1.foo"]
    assert repr(r) == repr(tr)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        e.load_state_dict([1, 2])


def test_load_state_dict_copies_in_place_or_assigns() -> None:
    m = enn.Linear(2, 2)
    w = m.weight
    m.load_state_dict({"weight": ember.ones(2, 2), "bias": ember.zeros(2)})
    assert m.weight is w and (w.detach().numpy() == 1).all()
    m.load_state_dict({"weight": ember.full((2, 2), 3.0), "bias": ember.zeros(2)}, assign=True)
    assert m.weight is not w and isinstance(m.weight, enn.Parameter) and m.weight.requires_grad
    assert (m.weight.detach().numpy() == 3).all()
    m.load_state_dict(
        {"weight": np.full((2, 2), 5.0), "bias": [0.0, 1.0]}, strict=True
    ) if False else None
    m.load_state_dict({"weight": np.full((2, 2), 5.0), "bias": np.array([0.0, 1.0])})
    assert m.weight.dtype == ember.float32 and float(m.weight.sum()) == 20.0


def test_buffers_persistent_and_assignment() -> None:
    m = enn.Module()
    m.register_buffer("a", ember.zeros(2))
    m.register_buffer("b", ember.zeros(2), persistent=False)
    m.c = enn.Buffer(ember.ones(1), persistent=False)
    m.register_buffer("none", None)
    assert [n for n, _ in m.named_buffers()] == ["a", "b", "c"]
    assert type(m.c) is ember.Tensor
    assert list(m.state_dict()) == ["a"]
    m.a = ember.ones(2)  # re-assigning a registered buffer keeps it a buffer
    assert "a" in m._buffers and float(m.a.sum()) == 2
    with pytest.raises(TypeError, match="cannot assign 'int' object to buffer 'x'"):
        m.register_buffer("x", 3)
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        m.register_buffer("training", ember.zeros(1))
    with pytest.raises(KeyError, match="buffer name can"):
        m.register_buffer("a.b", ember.zeros(1))
    del m.a
    assert "a" not in m._buffers


def test_parameter_semantics() -> None:
    t = ember.randn(2, 3)
    p = enn.Parameter(t)
    assert isinstance(p, ember.Tensor) and isinstance(p, enn.Parameter)
    assert p.requires_grad and p.is_leaf
    with ember.no_grad():
        t.fill_(1.0)
    assert (p.detach().numpy() == 1).all()  # shares storage with its data
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is ember.Tensor
    q = enn.Parameter(ember.zeros(2), requires_grad=False)
    assert not q.requires_grad
    assert enn.Parameter().shape == (0,)
    c = copy.deepcopy(p)
    assert isinstance(c, enn.Parameter) and c is not p and (c.detach().numpy() == 1).all()
    r = pickle.loads(pickle.dumps(p))
    assert isinstance(r, enn.Parameter) and r.requires_grad
    m = enn.Module()
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter 'w'"):
        m.w = enn.Parameter(ember.zeros(1))
        m.w = ember.zeros(1)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'z'"):
        m.register_parameter("z", enn.Parameter(ember.zeros(1)) * 2 if False else _non_leaf_param())


def _non_leaf_param() -> enn.Parameter:
    p = enn.Parameter(ember.zeros(2))
    q = (p * 2).as_subclass(enn.Parameter)
    return q


def test_getattr_setattr_delattr_dir() -> None:
    m = enn.Linear(2, 3)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'foo'"):
        m.foo
    m.extra = enn.ReLU()
    assert "extra" in m._modules and "extra" in dir(m) and "weight" in dir(m)
    m.extra = None
    assert m._modules["extra"] is None
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'extra'"):
        m.extra = 3
    m.weight = enn.Parameter(ember.zeros(3, 2))
    m.bias = None
    assert m.bias is None and m._parameters["bias"] is None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    del m.extra
    assert "extra" not in m._modules
    s = enn.Sequential(enn.Linear(1, 1))
    assert "0" not in dir(s)


def test_plain_containers_of_modules_raise() -> None:
    class Bad(enn.Module):
        def __init__(self, kind):
            super().__init__()
            if kind == "list":
                self.layers = [enn.Linear(4, 4), enn.Linear(4, 4)]
            elif kind == "dict":
                self.layers = {"a": enn.Linear(4, 4)}
            elif kind == "params":
                self.ws = [enn.Parameter(ember.zeros(2))]
            else:
                self.sizes = [1, 2, 3]  # fine: no modules inside

    with pytest.raises(TypeError, match=r"ember\.nn\.ModuleList"):
        Bad("list")
    with pytest.raises(TypeError, match=r"ember\.nn\.ModuleDict"):
        Bad("dict")
    with pytest.raises(TypeError, match=r"ember\.nn\.ParameterList"):
        Bad("params")
    assert Bad("ok").sizes == [1, 2, 3]


def test_train_eval_requires_grad_zero_grad_apply() -> None:
    m = make_net(enn)
    assert m.training and all(c.training for c in m.modules())
    assert m.eval() is m and not any(c.training for c in m.modules())
    m.train()
    assert all(c.training for c in m.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    out = m(ember.randn(2, 3)).sum()
    out.backward()
    assert all(p.grad is not None for p in m.parameters() if p is not m.plist[0])
    m.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in m.parameters() if p.grad is not None)
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen[-1] == "Net" and seen.count("Linear") == 6


def test_to_double_float_keep_parameter_identity() -> None:
    m = make_net(enn)
    p = m.embed.weight
    m(ember.randn(2, 3)).sum().backward()
    assert m.double() is m
    assert m.embed.weight is p and p.dtype == ember.float64 and p.grad.dtype == ember.float64
    assert m.blocks[0].running.dtype == ember.float64
    m.to(ember.float32)
    assert p.dtype == ember.float32
    m.to("cpu", dtype=ember.float64)
    assert p.dtype == ember.float64
    m.float().cpu()
    assert p.dtype == ember.float32
    m.half()
    assert p.dtype == ember.float16
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        m.to(ember.int64)
    m.type(ember.float64)
    assert p.dtype == ember.float64


def test_get_submodule_parameter_buffer() -> None:
    m = make_net(enn)
    assert m.get_submodule("blocks.1.fc") is m.blocks[1].fc
    assert m.get_submodule("") is m
    assert m.get_parameter("blocks.0.fc.weight") is m.blocks[0].fc.weight
    assert m.get_buffer("blocks.0.running") is m.blocks[0].running
    with pytest.raises(AttributeError, match="ModuleList has no attribute `7`"):
        m.get_submodule("blocks.7")
    with pytest.raises(AttributeError, match="`running` is not an nn.Parameter"):
        m.get_parameter("blocks.0.running")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        m.get_buffer("embed.weight")


def test_register_module_and_parameter_errors() -> None:
    m = enn.Module()
    m.register_module("a", enn.ReLU())
    m.add_module("b", None)
    m.register_parameter("p", None)
    assert list(m._modules) == ["a", "b"] and m.p is None
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        m.add_module("c", 3)
    with pytest.raises(KeyError, match='contain ".", got: x.y'):
        m.add_module("x.y", enn.ReLU())
    with pytest.raises(
        TypeError, match="cannot assign 'torch.FloatTensor' object to parameter 'q'"
    ):
        m.register_parameter("q", ember.zeros(1))
    with pytest.raises(AttributeError, match="cannot assign module before Module.__init__"):

        class Early(enn.Module):
            def __init__(self):
                self.x = enn.ReLU()

        Early()
    with pytest.raises(
        NotImplementedError, match=r'Module \[Module\] is missing the required "forward"'
    ):
        enn.Module()(1)


class PickleNet(enn.Module):
    def __init__(self):
        super().__init__()
        self.embed = enn.Linear(3, 4)
        self.shared = self.embed
        self.register_buffer("running", ember.ones(4))
        self.body = enn.Sequential(enn.ReLU(), enn.Linear(4, 2))

    def forward(self, x):
        return self.body(self.shared(x) + self.running)


def test_pickle_and_deepcopy_roundtrip() -> None:
    m = PickleNet()
    m.register_forward_hook(_noop_hook)
    x = ember.randn(2, 3)
    y = m(x).detach().numpy()
    for c in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert c is not m and c.embed is not m.embed
        np.testing.assert_allclose(c(x).detach().numpy(), y)
        assert c.shared is c.embed
        assert isinstance(c.embed.weight, enn.Parameter) and c.embed.weight.requires_grad
        assert list(c.state_dict()) == list(m.state_dict())
        assert len(c._forward_hooks) == 1


def _noop_hook(module, args, output):
    return None


def test_extra_state_roundtrip() -> None:
    class WithState(enn.Module):
        def __init__(self):
            super().__init__()
            self.counter = 0

        def get_extra_state(self):
            return {"counter": self.counter}

        def set_extra_state(self, state):
            self.counter = state["counter"]

    a, b = WithState(), WithState()
    a.counter = 7
    sd = a.state_dict()
    assert list(sd) == ["_extra_state"]
    b.load_state_dict(sd)
    assert b.counter == 7


def test_state_dict_and_load_hooks() -> None:
    m = enn.Linear(1, 1)
    calls = []
    m.register_state_dict_pre_hook(lambda mod, prefix, keep: calls.append(("pre", prefix)))
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: calls.append(("post", list(sd))))
    m.register_load_state_dict_post_hook(
        lambda mod, keys: calls.append(("load", keys.missing_keys))
    )
    sd = m.state_dict()
    m.load_state_dict(sd)
    assert calls == [("pre", ""), ("post", ["weight", "bias"]), ("load", [])]


@pytest.mark.slow
@needs_torch
def test_seed_mlp_trains_like_torch() -> None:
    """The seed program, `import ember as torch`, with hand-written SGD; loss tracks torch's."""

    def program(torch, init=None, steps=3000, lr=0.01):
        nn = torch.nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
        if init is not None:
            model.load_state_dict(init[0])
        loss_fn = nn.MSELoss()
        x = torch.tensor(init[1]) if init is not None else torch.randn(4, 10)
        y = torch.tensor(init[2]) if init is not None else torch.randn(4, 1)
        losses = []
        for _ in range(steps):
            for p in model.parameters():
                p.grad = None
            loss = loss_fn(model(x), y)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= lr * p.grad
            losses.append(loss.item())
        return model, x, y, losses

    torch.manual_seed(0)  # the initial weights torch's run started from
    t0 = torch.nn.Sequential(torch.nn.Linear(10, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1))
    _, tx, ty, tlosses = program(torch)
    init = ({k: v.numpy() for k, v in t0.state_dict().items()}, tx.numpy(), ty.numpy())
    _, _, _, elosses = program(ember, init)
    assert elosses[-1] < 1e-3
    np.testing.assert_allclose(elosses[:50], tlosses[:50], rtol=1e-4)
    assert abs(elosses[-1] - tlosses[-1]) < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_seed_mlp_own_init_converges(seed: int) -> None:
    # NOTE: ember's stream differs from torch's; with manual_seed(0) this 4-sample problem starts
    # in a dead-ReLU basin (loss plateaus at 0.18), a property of the draw, not of training
    import ember as torch

    nn = torch.nn
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
    x, y = torch.randn(4, 10), torch.randn(4, 1)
    loss_fn = nn.MSELoss()
    for _ in range(3000):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.01 * p.grad
    assert loss.item() < 1e-3


def test_manual_sgd_without_no_grad_names_the_parameter() -> None:
    """UP-09: the leaf in-place error names model.fc.weight and suggests no_grad."""

    class Net(enn.Module):
        def __init__(self):
            super().__init__()
            self.fc = enn.Linear(3, 1)

        def forward(self, x):
            return self.fc(x)

    model = Net()
    model(ember.randn(2, 3)).sum().backward()
    with pytest.raises(RuntimeError) as e:
        for p in model.parameters():
            p -= 0.1 * p.grad
    assert "model.fc.weight" in str(e.value) and "no_grad" in str(e.value)
    model2 = Net()
    with pytest.raises(RuntimeError, match="model.fc.weight"):
        model2.fc.weight.add_(1.0)  # never traversed: named at assignment time


def test_forward_error_notes_name_the_submodule() -> None:
    """UP-03: the error keeps its type and gets a note with path, config and input shape."""
    m = enn.Sequential(enn.Linear(4, 3), enn.ReLU(), enn.Linear(5, 2))
    with pytest.raises(
        RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 5x2\)"
    ) as e:
        m(ember.randn(2, 4))
    note = "\n".join(e.value.__notes__)
    assert "`2`" in note and "in_features=5" in note and "(2, 3)" in note
    assert "expected last dim 5" in note and "Sequential" in note
    assert len(e.value.__notes__) == 1

    class Net(enn.Module):
        def __init__(self):
            super().__init__()
            self.conv_out = enn.Identity()
            self.fc = enn.Linear(64 * 7 * 7, 10)

        def forward(self, x):
            x = self.conv_out(x)
            x = x.view(-1, 64 * 7 * 7)
            return self.fc(x)

    with pytest.raises(
        RuntimeError, match=r"shape '\[-1, 3136\]' is invalid for input of size"
    ) as e:
        Net()(ember.randn(2, 16, 7, 7))
    assert "Net" in e.value.__notes__[0] and "(2, 16, 7, 7)" in e.value.__notes__[0]

    class Outer(enn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = enn.Sequential(enn.Linear(2, 2), enn.Sequential(enn.Linear(3, 1)))

        def forward(self, x):
            return self.encoder(x)

    with pytest.raises(RuntimeError) as e:
        Outer()(ember.randn(1, 2))
    assert "`encoder.1.0`" in e.value.__notes__[0] and "of Outer" in e.value.__notes__[0]
