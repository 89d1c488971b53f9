"""Core autograd semantics: accumulation, broadcasting, retain/create_graph, ``backward(inputs=)``,
``autograd.grad``, grad modes, the engine (iterative, each node once, freeing), ``next_functions``.

Most tests take the library as a parameter ``T`` and run on ember and, when installed, on torch:
the same assertions hold for both, which proves the expected values are torch's.
"""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest

import ember
from tests.oracle import torch

LIBS = [pytest.param(ember, id="ember")]
if torch is not None:
    LIBS.append(pytest.param(torch, id="torch"))
libs = pytest.mark.parametrize("T", LIBS)


def arr(t):
    return np.asarray(t.detach().numpy())


def close(t, expected):
    np.testing.assert_allclose(arr(t), np.asarray(expected, dtype=np.float64), rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------- accumulation
@libs
def test_grad_accumulates_across_backward_calls(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    close(x.grad, [2, 4, 6])
    (x * 3).sum().backward()
    close(x.grad, [5, 7, 9])
    x.grad = None
    (x * 3).sum().backward()
    close(x.grad, [3, 3, 3])


@libs
def test_user_held_grad_sees_inplace_accumulation(T):
    p = T.tensor([1.0, 2.0], requires_grad=True)
    (p * 2).sum().backward()
    g = p.grad
    (p * 5).sum().backward()
    assert p.grad is g  # torch accumulates into the existing .grad in place
    close(g, [7, 7])
    p.grad.zero_()
    (p * 1).sum().backward()
    close(g, [1, 1])


@libs
def test_leaf_grads_are_independent_arrays(T):
    a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = T.tensor([4.0, 5.0, 6.0], requires_grad=True)
    c = a + b  # AddBackward hands the same gradient to both inputs
    c.sum().backward()
    with T.no_grad():
        a.grad.mul_(10)
    close(a.grad, [10, 10, 10])
    close(b.grad, [1, 1, 1])


@libs
def test_leaf_grad_does_not_alias_views_or_user_gradient(T):
    if T is torch:
        pytest.skip("torch steals a view of the user's gradient here (a.grad aliases g)")
    a = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    b = a.reshape(2, 2)  # ViewBackward hands a view of the incoming gradient
    g = T.ones(2, 2)
    b.backward(g)
    with T.no_grad():
        g.add_(5)
    close(a.grad, [1, 1, 1, 1])
    # the root itself is a leaf: its .grad must not be the user's gradient tensor
    x = T.tensor([1.0, 2.0], requires_grad=True)
    gx = T.tensor([3.0, 4.0])
    x.backward(gx)
    with T.no_grad():
        gx.mul_(0)
    close(x.grad, [3, 4])
    # one input used twice and a second leaf fed by the same gradient
    u = T.tensor([1.0, 2.0], requires_grad=True)
    v = T.tensor([1.0, 2.0], requires_grad=True)
    w = (u + v) + u
    w.sum().backward()
    with T.no_grad():
        u.grad.zero_()
    close(v.grad, [1, 1])


def test_leaf_grad_no_alias_between_many_leaves_ember():
    # several leaves fed from one gradient array in every order the engine may visit them
    xs = [ember.tensor([1.0, 2.0], requires_grad=True) for _ in range(5)]
    s = xs[0]
    for x in xs[1:]:
        s = s + x
    s.sum().backward()
    datas = [x.grad._data for x in xs]
    for i, d in enumerate(datas):
        for e in datas[i + 1 :]:
            assert not np.shares_memory(d, e)
    for d in datas:
        assert d.flags.owndata or d.base is None
        assert d.flags.writeable


def test_leaf_grad_steals_only_private_arrays_ember():
    # a fresh private gradient becomes .grad without a copy (torch steals too)
    made = []

    class Fresh(ember.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            return v * 1

        @staticmethod
        def backward(ctx, g):
            out = g * 2
            made.append(id(out._data))  # only the id: a reference would forbid stealing
            return out

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    Fresh.apply(x).sum().backward()
    assert id(x.grad._data) == made[0]
    assert x.grad._data.flags.writeable
    assert sys.getrefcount(x.grad._data) == 3  # .grad's Tensor + `x.grad` temp + argument
    # a gradient the user still holds is copied
    kept = []

    class Held(ember.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            return v * 1

        @staticmethod
        def backward(ctx, g):
            out = g * 2
            kept.append(out)
            return out

    y = ember.tensor([1.0, 2.0], requires_grad=True)
    Held.apply(y).sum().backward()
    assert not np.shares_memory(y.grad._data, kept[0]._data)
    with ember.no_grad():
        kept[0].add_(100)
    close(y.grad, [2, 2])


@libs
def test_broadcasting_gradients_are_reduced(T):
    a = T.ones(3, 1, requires_grad=True)
    b = T.ones(4, requires_grad=True)
    c = T.ones(1, 1, 4, requires_grad=True)
    s = T.tensor(2.0, requires_grad=True)
    (a * b * c * s).sum().backward()
    assert tuple(a.grad.shape) == (3, 1)
    assert tuple(b.grad.shape) == (4,)
    assert tuple(c.grad.shape) == (1, 1, 4)
    assert tuple(s.grad.shape) == ()
    close(a.grad, [[8], [8], [8]])
    close(b.grad, [6, 6, 6, 6])
    close(c.grad, [[[6, 6, 6, 6]]])
    close(s.grad, 12)


@libs
def test_grad_dtype_follows_input(T):
    a = T.ones(2, dtype=T.float32, requires_grad=True)
    b = T.ones(2, dtype=T.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == T.float32
    assert b.grad.dtype == T.float64


# --------------------------------------------------------------------------- retain / create graph
@libs
def test_retain_graph_allows_second_backward(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = arr(x.grad).copy()
    y.backward()
    np.testing.assert_allclose(arr(x.grad), 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


@libs
def test_third_derivative_of_polynomial(T):
    x = T.tensor(2.0, requires_grad=True)
    y = x**4 + 3 * x**3 - x
    (g1,) = T.autograd.grad(y, x, create_graph=True)
    (g2,) = T.autograd.grad(g1, x, create_graph=True)
    (g3,) = T.autograd.grad(g2, x)
    close(g1, 4 * 8 + 9 * 4 - 1)
    close(g2, 12 * 4 + 18 * 2)
    close(g3, 24 * 2 + 18)
    assert g1.requires_grad and g2.requires_grad and not g3.requires_grad


CREATE_GRAPH_WARNING = pytest.mark.filterwarnings(
    "ignore:Using backward\\(\\) with create_graph=True:UserWarning"  # torch's, not ember's
)


@CREATE_GRAPH_WARNING
@libs
def test_backward_create_graph_then_grad_of_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    gx = x.grad
    close(gx, [3, 12])
    assert gx.requires_grad and gx.grad_fn is not None
    (g2,) = T.autograd.grad(gx.sum(), x)
    close(g2, [6, 12])


@libs
def test_gradient_penalty_pattern(T):
    gen = np.random.default_rng(0)
    w = T.tensor(gen.standard_normal((3, 4)), requires_grad=True)
    xin = T.tensor(gen.standard_normal((5, 3)), requires_grad=True)
    out = (xin @ w).tanh().sum()
    (gx,) = T.autograd.grad(out, xin, create_graph=True)
    penalty = ((gx.norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    assert w.grad is not None and tuple(w.grad.shape) == (3, 4)
    assert xin.grad is not None
    # check against central differences of the penalty as a function of w
    wd = arr(w).copy()

    def pen(wv):
        wt = T.tensor(wv, requires_grad=False)
        xt = T.tensor(arr(xin), requires_grad=True)
        (g,) = T.autograd.grad((xt @ wt).tanh().sum(), xt)
        return float(((arr(g) ** 2).sum(1) ** 0.5 - 1) @ ((arr(g) ** 2).sum(1) ** 0.5 - 1) / 5)

    num = np.zeros_like(wd)
    for i in np.ndindex(wd.shape):
        d = np.zeros_like(wd)
        d[i] = 1e-6
        num[i] = (pen(wd + d) - pen(wd - d)) / 2e-6
    np.testing.assert_allclose(arr(w.grad), num, rtol=1e-4, atol=1e-7)


@CREATE_GRAPH_WARNING
@libs
def test_create_graph_grads_of_two_leaves_are_distinct(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward(create_graph=True)
    assert a.grad is not b.grad
    (a + b).sum().backward(create_graph=True)
    close(a.grad, [4, 5])
    close(b.grad, [2, 3])


# --------------------------------------------------------------------------- backward(inputs=)
@libs
def test_backward_inputs_leaves(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    close(a.grad, [3, 4])
    assert b.grad is None
    (a * b).sum().backward(inputs=b)
    close(b.grad, [1, 2])


@libs
def test_backward_inputs_non_leaf(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    c = a * 2
    d = (c * 3).sum()
    d.backward(inputs=[c], retain_graph=True)
    close(c.grad, [3, 3])
    assert a.grad is None
    d.backward(inputs=[c, a])
    close(c.grad, [6, 6])
    close(a.grad, [6, 6])


@libs
def test_backward_inputs_prunes_unneeded_nodes(T):
    calls = []
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([1.0, 2.0], requires_grad=True)
    c = a * 2
    c.register_hook(lambda g: calls.append("c"))
    e = b * 2
    e.register_hook(lambda g: calls.append("e"))
    (c + e).sum().backward(inputs=[b])
    assert calls == ["e"]
    assert a.grad is None


@libs
def test_backward_inputs_empty_raises(T):
    a = T.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (a * 2).sum().backward(inputs=[])


# --------------------------------------------------------------------------- autograd.grad
@libs
def test_grad_returns_tuple_and_leaves_dot_grad_alone(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = T.tensor([3.0], requires_grad=True)
    gx, gy = T.autograd.grad((x * y).sum(), [x, y])
    close(gx, [3, 3])
    close(gy, [3])
    assert x.grad is None and y.grad is None
    res = T.autograd.grad((x * 2).sum(), x)
    assert isinstance(res, tuple) and len(res) == 1


@libs
def test_grad_with_grad_outputs_and_several_outputs(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    (g,) = T.autograd.grad([x * 2, x * x], [x], [T.tensor([1.0, 10.0]), T.tensor([1.0, 1.0])])
    close(g, [2 + 2, 20 + 4])


@libs
def test_grad_non_leaf_input(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    (gh,) = T.autograd.grad((h * 3).sum(), h)
    close(gh, [3, 3])


@libs
def test_grad_retain_graph(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp()).sum()
    T.autograd.grad(y, x, retain_graph=True)
    T.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        T.autograd.grad(y, x)


@libs
def test_grad_allow_unused_and_materialize(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    z = T.tensor([5.0], requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match="The differentiated Tensor at index 1 appears to not have been used in the graph",
    ):
        T.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = T.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None
    gx, gz = T.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    close(gz, [0])
    with pytest.raises(
        ValueError,
        match="Expected allow_unused to be True or not passed when materialize_grads=True",
    ):
        T.autograd.grad((x * 2).sum(), [x, z], allow_unused=False, materialize_grads=True)


@libs
def test_grad_input_not_requiring_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    z = T.ones(2)
    with pytest.raises(
        RuntimeError, match="One of the differentiated Tensors does not require grad"
    ):
        T.autograd.grad((x * 2).sum(), z)


@libs
def test_nonscalar_backward_without_gradient(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (x * 2).backward()
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        T.autograd.grad(x * 2, x)
    # a one-element non-0-d output is fine, as torch
    (x * 2).sum().reshape(1).backward()
    close(x.grad, [2, 2])


@libs
def test_grad_tensors_shape_mismatch(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    msg = (
        r"Mismatch in shape: grad_output\[0\] has a shape of .*\[2\]\) and output\[0\] has a "
        r"shape of .*\[3\]\)"
    )
    with pytest.raises(RuntimeError, match=msg):
        (x * 2).backward(T.ones(2))
    with pytest.raises(RuntimeError, match=msg):
        T.autograd.grad(x * 2, x, T.ones(2))
    with pytest.raises(RuntimeError, match=msg):
        T.autograd.backward([x * 2], [T.ones(2)])


@libs
def test_autograd_backward_function(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    T.autograd.backward([(x * 2).sum(), (x * 3).sum()])
    close(x.grad, [5, 5])
    T.autograd.backward(x * 2, grad_tensors=T.tensor([1.0, 0.0]))
    close(x.grad, [7, 5])


# --------------------------------------------------------------------------- grad modes
@libs
def test_no_grad_context_and_nesting(T):
    x = T.tensor([1.0], requires_grad=True)
    with T.no_grad():
        y = x * 2
        assert not T.is_grad_enabled()
        with T.enable_grad():
            z = x * 2
            assert T.is_grad_enabled()
        w = x * 2
    assert T.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    assert not w.requires_grad
    with T.no_grad():
        t = T.ones(2)
        u = T.zeros(2, requires_grad=True)  # explicit requires_grad on a new leaf still holds
    assert not t.requires_grad and u.requires_grad


@libs
def test_grad_mode_decorators(T):
    x = T.tensor([1.0], requires_grad=True)

    @T.no_grad()
    def f(v):
        return v * 2

    @T.enable_grad()
    def g(v):
        return v * 2

    @T.set_grad_enabled(False)
    def h(v):
        return v * 2

    @T.inference_mode()
    def k(v):
        return v * 2

    assert not f(x).requires_grad
    with T.no_grad():
        assert g(x).requires_grad
    assert not h(x).requires_grad
    assert T.is_grad_enabled()  # decorating must not change the current mode
    assert not k(x).requires_grad
    assert f.__name__ == "f"

    @T.no_grad
    def bare(v):  # torch also accepts the class itself as decorator
        return v * 2

    assert not bare(x).requires_grad


@libs
def test_set_grad_enabled_function_and_context(T):
    x = T.tensor([1.0], requires_grad=True)
    T.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        T.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with T.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert T.is_grad_enabled()
    with T.no_grad(), T.set_grad_enabled(True):
        assert (x * 2).requires_grad


@libs
def test_inference_mode(T):
    x = T.tensor([1.0], requires_grad=True)
    with T.inference_mode():
        assert T.is_inference_mode_enabled()
        assert not T.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad
    assert not T.is_inference_mode_enabled()
    with T.inference_mode(False):
        assert (x * 2).requires_grad


@libs
def test_grad_mode_restored_after_exception(T):
    with pytest.raises(ValueError):
        with T.no_grad():
            raise ValueError
    assert T.is_grad_enabled()


@libs
def test_grad_mode_is_per_thread(T):
    import threading

    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        seen["start"] = T.is_grad_enabled()  # a new thread starts with grad enabled
        with T.no_grad():
            inside.set()
            release.wait(5)

    with T.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        inside.wait(5)
    x = T.ones(1, requires_grad=True)
    assert T.is_grad_enabled() and (x * 2).requires_grad  # the worker's no_grad is its own
    release.set()
    t.join()
    assert seen["start"] is True


@libs
def test_no_grad_on_generator(T):
    x = T.tensor([1.0], requires_grad=True)

    @T.no_grad()
    def gen():
        yield x * 2
        yield x * 3

    outs = []
    for o in gen():
        outs.append(o.requires_grad)
        assert T.is_grad_enabled()  # the mode applies inside the generator only
    assert outs == [False, False]
    assert T.is_grad_enabled()


# --------------------------------------------------------------------------- the engine
def test_deep_chain_is_iterative():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(5_000):  # far deeper than Python's recursion limit
        y = y * 1.0
    y.sum().backward()
    close(x.grad, [1, 1])


@pytest.mark.slow
def test_long_chain_is_iterative():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    close(x.grad, [1, 1])
    del y
    gc.collect()


@libs
def test_each_node_runs_once_in_diamond(T):
    class Count(T.autograd.Function):
        calls = 0

        @staticmethod
        def forward(ctx, v):
            return v * 1

        @staticmethod
        def backward(ctx, g):
            Count.calls += 1
            return g

    x = T.tensor([1.0, 2.0], requires_grad=True)
    h = Count.apply(x)
    top = h * 2 + h * 3 + h.exp()
    top.sum().backward()
    assert Count.calls == 1
    np.testing.assert_allclose(arr(x.grad), 5 + np.exp([1.0, 2.0]), rtol=1e-6)


@libs
def test_saved_tensors_freed_after_backward(T):
    x = T.randn(1000, requires_grad=True)
    big = x * 2
    ref = weakref.ref(big)
    y = (big * big).sum()  # MulBackward saves `big`
    del big
    gc.collect()
    assert ref() is not None
    y.backward()
    gc.collect()
    assert ref() is None  # the graph no longer holds the intermediate


@libs
def test_saved_tensors_kept_with_retain_graph(T):
    x = T.randn(10, requires_grad=True)
    big = x * 2
    ref = weakref.ref(big)
    y = (big * big).sum()
    del big
    y.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None
    y.backward()
    close(x.grad, 2 * 2 * 4 * arr(x))


def test_graph_collected_when_output_dropped():
    T = ember
    x = T.randn(10, requires_grad=True)
    y = (x * 2).exp()
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


@libs
def test_next_functions_structure(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([1.0, 2.0])
    c = a * b
    d = c + a
    fn = d.grad_fn
    assert type(fn).__name__ == "AddBackward0"
    (n0, i0), (n1, i1) = fn.next_functions
    assert n0 is c.grad_fn and i0 == 0
    assert type(n1).__name__ == "AccumulateGrad" and n1.variable is a
    assert c.grad_fn.next_functions[0][0] is n1  # one AccumulateGrad per leaf, shared
    assert c.grad_fn.next_functions[1] == (None, 0)
    assert n1.next_functions == ()
    assert a.grad_fn is None and a.is_leaf and not c.is_leaf


@libs
def test_output_nr_of_multi_output_op(T):
    x = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    p, q = x.split(2)
    assert p.output_nr == 0 and q.output_nr == 1
    assert p.grad_fn is q.grad_fn
    (q * 2).sum().backward()  # the unused output gets zeros
    close(x.grad, [0, 0, 2, 2])


@libs
def test_requires_grad_propagation(T):
    a = T.ones(2, requires_grad=True)
    b = T.ones(2)
    assert (a + b).requires_grad
    assert not (b + b).requires_grad
    assert (a.detach() + b).grad_fn is None
    assert not (a > 0).requires_grad  # bool results never require grad


@libs
def test_backward_on_leaf_root(T):
    x = T.tensor(3.0, requires_grad=True)
    x.backward()
    close(x.grad, 1)


@libs
def test_integer_output_backward_errors(T):
    x = T.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        (x > 0).sum().backward()
