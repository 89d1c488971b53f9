"""Custom ``autograd.Function``: ctx API, multiple outputs, non-tensor args, returning an input,
errors, ``once_differentiable``, double backward, grad_fn names. Runs on ember and torch.
"""

from __future__ import annotations

import gc
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


def make_exp(T):
    class MyExp(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    return MyExp


@libs
def test_basic_function_and_grad_fn_name(T):
    MyExp = make_exp(T)
    x = T.tensor([0.0, 1.0], requires_grad=True)
    y = MyExp.apply(x)
    assert type(y.grad_fn).__name__ == "MyExpBackward"
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    close(x.grad, np.exp([0.0, 1.0]))
    assert y.grad_fn.next_functions[0][0].variable is x


@libs
def test_double_backward_through_custom_function(T):
    MyExp = make_exp(T)
    x = T.tensor([0.5, 1.0], requires_grad=True, dtype=T.float64)
    y = MyExp.apply(x * 2)
    (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
    close(g, 2 * np.exp([1.0, 2.0]))
    (g2,) = T.autograd.grad(g.sum(), x)
    close(g2, 4 * np.exp([1.0, 2.0]))


@libs
def test_needs_input_grad_and_non_tensor_args(T):
    seen = {}

    class Scale(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, w, flag):
            ctx.k = k
            ctx.flag = flag
            ctx.save_for_backward(x, w)
            seen["needs"] = ctx.needs_input_grad
            return x * k * w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            assert ctx.flag == "on"
            gx = g * ctx.k * w if ctx.needs_input_grad[0] else None
            gw = g * ctx.k * x if ctx.needs_input_grad[2] else None
            return gx, None, gw, None

    x = T.tensor([1.0, 2.0], requires_grad=True)
    w = T.tensor([3.0, 4.0])
    y = Scale.apply(x, 2.0, w, "on")
    nf = y.grad_fn.next_functions  # one entry per Tensor argument
    assert len(nf) == 2 and nf[0][0].variable is x and nf[1] == (None, 0)
    y.sum().backward()
    assert seen["needs"] == (True, False, False, False)
    close(x.grad, [6, 8])


@libs
def test_multiple_outputs_and_materialized_zeros(T):
    got = []

    class Split2(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            got.append((arr(ga).tolist(), arr(gb).tolist()))
            return ga * 2 + gb * 3

    x = T.tensor([1.0, 1.0], requires_grad=True)
    a, b = Split2.apply(x)
    assert a.grad_fn is b.grad_fn
    assert a.output_nr == 0 and b.output_nr == 1
    b.sum().backward()
    assert got == [([0, 0], [1, 1])]  # the unused output's grad is materialized as zeros
    close(x.grad, [3, 3])


@libs
def test_set_materialize_grads_false(T):
    got = []

    class Split2(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            got.append((ga is None, gb is None))
            return gb * 3

    x = T.tensor([1.0, 1.0], requires_grad=True)
    a, b = Split2.apply(x)
    b.sum().backward()
    assert got == [(True, False)]


@libs
def test_mark_non_differentiable(T):
    class SortIdx(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            idx = (x > 1).to(T.float32)
            ctx.mark_non_differentiable(idx)
            return y, idx

        @staticmethod
        def backward(ctx, g, gidx):
            assert gidx is not None  # zeros for the non-differentiable output
            return g * 2

    x = T.tensor([1.0, 2.0], requires_grad=True)
    y, idx = SortIdx.apply(x)
    assert y.requires_grad and not idx.requires_grad and idx.grad_fn is None
    y.sum().backward()
    close(x.grad, [2, 2])


@libs
def test_integer_outputs_do_not_require_grad(T):
    class WithInt(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.long(), x * 2

        @staticmethod
        def backward(ctx, gi, g):
            return g * 2

    x = T.tensor([1.0, 2.0], requires_grad=True)
    i, y = WithInt.apply(x)
    assert not i.requires_grad and i.grad_fn is None
    y.sum().backward()
    close(x.grad, [2, 2])


@libs
def test_mark_dirty(T):
    class AddOne_(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    v = b._version
    c = AddOne_.apply(b)
    assert c is b
    assert b._version > v
    assert type(b.grad_fn).__name__ == "AddOne_Backward"
    close(b, [3, 5])
    c.sum().backward()
    close(a.grad, [2, 2])
    with pytest.raises(
        RuntimeError,
        match="a leaf Variable that requires grad has been used in an in-place operation",
    ):
        AddOne_.apply(a)


@libs
def test_returning_an_input_returns_a_view(T):
    class Ident(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    fn = b.grad_fn
    o = Ident.apply(b)
    assert o is not b
    assert b.grad_fn is fn  # the input's history is untouched
    assert type(o.grad_fn).__name__ == "IdentBackward"
    o.sum().backward()
    close(a.grad, [3, 3])
    o2 = Ident.apply(a)  # a leaf input returned as is
    assert o2 is not a and a.is_leaf and not o2.is_leaf


@libs
def test_wrong_number_of_gradients(T):
    class Few(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return (g,)

    class Many(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class ExtraNone(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None, None

    a = T.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=r"function FewBackward returned an incorrect number of gradients \(expected 2, got 1",
    ):
        Few.apply(a, 2).sum().backward()
    with pytest.raises(
        RuntimeError,
        match=r"function ManyBackward returned an incorrect number of gradients \(expected 1, got",
    ):
        Many.apply(a).sum().backward()
    ExtraNone.apply(a).sum().backward()  # trailing Nones are allowed
    close(a.grad, [2, 2])


@libs
def test_gradient_for_non_tensor_input_errors(T):
    class Num(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, T.ones(1)

    class NotTensor(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 1.0

    a = T.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match="returned a gradient different than None at position 2, but the corresponding "
        "forward input was not a Variable",
    ):
        Num.apply(a, 2).sum().backward()
    with pytest.raises(RuntimeError, match=r"expected Variable or None \(got float\)"):
        NotTensor.apply(a).sum().backward()


@libs
def test_wrong_gradient_shape(T):
    class Bad(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return T.ones(3)

    a = T.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=r"Function BadBackward returned an invalid gradient at index 0 - got \[3\] but "
        r"expected shape compatible with \[2\]",
    ):
        Bad.apply(a).sum().backward()


@libs
def test_broadcast_gradient_is_reduced_and_cast(T):
    class Wide(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return T.ones(4, 2, dtype=T.float64)  # broadcastable to x's shape, other dtype

    a = T.tensor([1.0, 2.0], requires_grad=True)
    Wide.apply(a).sum().backward()
    close(a.grad, [4, 4])
    assert a.grad.dtype == T.float32


@libs
def test_apply_under_no_grad(T):
    MyExp = make_exp(T)
    x = T.tensor([0.0], requires_grad=True)
    with T.no_grad():
        y = MyExp.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    z = MyExp.apply(T.tensor([0.0]))  # no input requires grad
    assert not z.requires_grad


@libs
def test_once_differentiable(T):
    from_mod = T.autograd.function.once_differentiable
    seen = []

    class Twice(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @from_mod
        def backward(ctx, g):
            seen.append(T.is_grad_enabled())
            return g * 2

    x = T.tensor([1.0, 2.0], requires_grad=True)
    Twice.apply(x).sum().backward()
    close(x.grad, [2, 2])
    (g,) = T.autograd.grad(Twice.apply(x).sum(), x, create_graph=True)
    assert seen == [False, False]
    close(g, [2, 2])


@libs
def test_once_differentiable_double_backward_raises(T):
    from_mod = T.autograd.function.once_differentiable

    class Sq(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @from_mod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = Sq.apply(x)
    (gy,) = T.autograd.grad(y.sum(), y, create_graph=True)  # nothing differentiable yet
    gout = T.ones(2, requires_grad=True)
    (g,) = T.autograd.grad(y, x, gout, create_graph=True)
    assert g.requires_grad
    with pytest.raises(
        RuntimeError,
        match="trying to differentiate twice a function that was marked with @once_differentiable",
    ):
        g.sum().backward()


@libs
def test_saved_tensors_freed_and_second_backward(T):
    MyExp = make_exp(T)
    x = T.tensor([0.0], requires_grad=True)
    y = MyExp.apply(x)
    s = y.sum()
    s.backward(retain_graph=True)
    s.backward()
    close(x.grad, [2])
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        s.backward()


@libs
def test_saved_input_modified_in_place_raises(T):
    class Sq(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    y = Sq.apply(b)
    with T.no_grad():
        b.add_(1)
    with pytest.raises(
        RuntimeError,
        match="one of the variables needed for gradient computation has been modified by an "
        "inplace operation",
    ):
        y.sum().backward()


def test_saved_output_does_not_keep_graph_alive():
    MyExp = make_exp(ember)
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    y = MyExp.apply(x)
    ref = weakref.ref(y.grad_fn)
    gc.disable()  # no cycle collector: only reference counting may free the ctx
    try:
        del y
        assert ref() is None
    finally:
        gc.enable()


@libs
def test_setup_context_style(T):
    class Mul3(T.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = T.tensor([1.0, 2.0], requires_grad=True)
    Mul3.apply(x, 3.0).sum().backward()
    close(x.grad, [3, 3])


@libs
def test_custom_function_inside_graph(T):
    MyExp = make_exp(T)
    x = T.tensor([0.0, 1.0], requires_grad=True)
    w = T.tensor([2.0, 3.0], requires_grad=True)
    y = (MyExp.apply(x * w) * w).sum()
    y.backward()
    e = np.exp([0.0, 3.0])
    close(x.grad, e * np.array([2.0, 3.0]) ** 2)
    close(w.grad, e + e * np.array([0.0, 1.0]) * np.array([2.0, 3.0]))


@libs
def test_ctx_saved_tensors_accessible_in_backward_only_once_freed(T):
    holder = {}

    class Keep(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            holder["ctx"] = ctx
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = T.tensor([1.0], requires_grad=True)
    Keep.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        holder["ctx"].saved_tensors
