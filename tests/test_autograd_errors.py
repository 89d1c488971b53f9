"""Autograd errors users hate (USER-PAINS §1) and the debugging tools: each error keeps torch's
first sentence (checked on torch too) and adds what ember knows: the ops and file:lines involved.

UP-01 in-place modification of a saved tensor, UP-07 backward without a grad path, UP-08 second
backward through a freed graph, UP-09 in-place on a leaf, UP-83 gradcheck, UP-84 anomaly mode.
"""

from __future__ import annotations

import re
import sys
import warnings

import numpy as np
import pytest

import ember
from ember.autograd import GraphFreedError, InplaceModifiedError, NoGradPathError
from ember.autograd.gradcheck import GradcheckError
from tests.oracle import torch

LIBS = [pytest.param(ember, id="ember")]
if torch is not None:
    LIBS.append(pytest.param(torch, id="torch"))
libs = pytest.mark.parametrize("T", LIBS)

HERE = __file__


def line_of(marker: str) -> int:
    """The line number in this file of the statement that ends with `# <marker>`."""
    with open(HERE) as f:
        for i, text in enumerate(f, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return i
    raise AssertionError(marker)


def at(marker: str) -> str:
    return f"{HERE}:{line_of(marker)}"


INPLACE = (
    "one of the variables needed for gradient computation has been modified by an inplace operation"
)


# --------------------------------------------------------------------------- UP-01
@libs
def test_up01_first_sentence_as_torch(T):
    a = T.randn(3, requires_grad=True)
    b = a.exp()
    b.add_(1)
    with pytest.raises(
        RuntimeError,
        match=INPLACE + r": \[\w+\.FloatTensor \[3\]\], which is output 0 of Exp, is at version 1; "
        r"expected version 0 instead",
    ):
        b.sum().backward()


def test_up01_saved_output_names_both_ops_and_lines():
    a = ember.randn(3, requires_grad=True)
    b = a.exp()  # up01-exp
    b.add_(1)  # up01-add
    with pytest.raises(InplaceModifiedError) as info:
        b.sum().backward()
    msg = str(info.value)
    assert msg.startswith(INPLACE)
    assert "exp (ExpBackward0), which saved its output" in msg
    assert "modified by: add_" in msg
    assert "[torch.FloatTensor [3]]" in msg
    assert "is at version 1; expected version 0" in msg
    assert at("up01-exp") in msg
    assert at("up01-add") in msg
    assert isinstance(info.value, RuntimeError)


def test_up01_saved_input_mutated_with_augmented_assignment():
    a = ember.randn(3, requires_grad=True)
    b = a * 2
    c = b * b  # up01-mul
    b += 1  # up01-iadd
    with pytest.raises(InplaceModifiedError) as info:
        c.sum().backward()
    msg = str(info.value)
    assert "which is output 0 of Add," in msg  # as torch: the tensor's current history
    assert "mul (MulBackward0), which saved an input" in msg
    assert "modified by: add_" in msg
    assert at("up01-mul") in msg and at("up01-iadd") in msg


def test_up01_saved_input_mutated_with_setitem():
    a = ember.randn(3, requires_grad=True)
    b = a * 2
    c = b * b  # up01-mul2
    b[0] = 1  # up01-setitem
    with pytest.raises(InplaceModifiedError) as info:
        c.sum().backward()
    msg = str(info.value)
    assert "mul (MulBackward0), which saved an input" in msg
    assert at("up01-mul2") in msg and at("up01-setitem") in msg


def test_up01_saved_plain_tensor_mutated_under_no_grad():
    x = ember.randn(3, requires_grad=True)
    w = ember.ones(3)
    y = (x * w).sum()
    with ember.no_grad():
        w.mul_(2)  # up01-mul_
    with pytest.raises(InplaceModifiedError) as info:
        y.backward()
    msg = str(info.value)
    assert "[torch.FloatTensor [3]] is at version 1; expected version 0" in msg  # a leaf: as torch
    assert "modified by: mul_" in msg and at("up01-mul_") in msg


def test_up01_retain_graph_after_fix_still_works():
    a = ember.randn(3, requires_grad=True)
    b = a.exp()
    c = b.clone()
    c.add_(1)
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.exp(a.detach().numpy()), rtol=1e-6)


# --------------------------------------------------------------------------- UP-07
@libs
def test_up07_first_sentence_as_torch(T):
    z = T.ones(3)
    with pytest.raises(
        RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"
    ):
        z.sum().backward()
    x = T.ones(2, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="element 1 of tensors does not require grad and does not have a grad_fn"
    ):
        T.autograd.backward([(x * 2).sum(), z.sum()])


def test_up07_inside_no_grad_names_the_block():
    x = ember.ones(3, requires_grad=True)
    with ember.no_grad():  # up07-no-grad
        loss = (x * 2).sum()
        with pytest.raises(NoGradPathError) as info:
            loss.backward()
    msg = str(info.value)
    assert "grad mode is disabled right now" in msg
    assert at("up07-no-grad") in msg
    assert "loss.requires_grad = True` does not fix this" in msg


def test_up07_after_no_grad_block_points_at_it():
    x = ember.ones(3, requires_grad=True)
    with ember.no_grad():  # up07-eval
        loss = (x * 2).sum()
    with pytest.raises(NoGradPathError) as info:
        loss.backward()
    msg = str(info.value)
    assert "Possible cause: grad mode was last disabled" in msg
    assert at("up07-eval") in msg


def test_up07_inference_mode_and_set_grad_enabled():
    x = ember.ones(3, requires_grad=True)
    with ember.inference_mode():  # up07-inference
        with pytest.raises(NoGradPathError) as info:
            (x * 2).sum().backward()
    assert "inference_mode()" in str(info.value) and at("up07-inference") in str(info.value)


def test_up07_lists_the_causes():
    loss = (ember.ones(3) * 2).sum()
    msg = ""
    try:
        loss.backward()
    except NoGradPathError as e:
        msg = str(e)
    for cause in (
        "frozen",
        "no_grad()",
        ".detach()",
        ".numpy()",
        "leaf tensor with requires_grad=False",
    ):
        assert cause in msg


def test_up07_frozen_parameter_is_named():
    nn = pytest.importorskip("ember.nn")
    model = nn.Sequential(nn.Linear(2, 2))
    for p in model.parameters():
        p.requires_grad_(False)
    w = model[0].weight
    with pytest.raises(NoGradPathError) as info:
        w.backward(ember.ones(2, 2))
    assert "0.weight" in str(info.value) and "requires_grad=False" in str(info.value)


# --------------------------------------------------------------------------- UP-08
@libs
def test_up08_first_sentence_as_torch(T):
    x = T.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "Trying to backward through the graph a second time (or directly access saved "
            "tensors after they have already been freed)."
        ),
    ):
        y.backward()


def test_up08_names_freed_node_and_first_backward():
    x = ember.ones(2, requires_grad=True)
    h = x.exp()  # up08-exp
    y = h.sum()
    y.backward()  # up08-first
    with pytest.raises(GraphFreedError) as info:
        y.backward()
    msg = str(info.value)
    assert "freed node: ExpBackward0" in msg
    assert at("up08-exp") in msg
    assert at("up08-first") in msg
    assert "retain_graph=True" in msg and "recompute the forward" in msg


def test_up08_autograd_grad_frees_too():
    x = ember.ones(2, requires_grad=True)
    y = (x * x).sum()
    ember.autograd.grad(y, x)  # up08-grad
    with pytest.raises(GraphFreedError) as info:
        ember.autograd.grad(y, x)
    assert at("up08-grad") in str(info.value)


def test_up08_training_loop_total_loss_pattern():
    w = ember.ones(2, requires_grad=True)
    total = ember.zeros(())
    with pytest.raises(GraphFreedError):
        for _ in range(2):
            loss = (w * w).sum()
            total = total + loss  # keeps the first step's graph
            total.backward()


# --------------------------------------------------------------------------- UP-09
@libs
def test_up09_first_sentence_as_torch(T):
    p = T.ones(2, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match="a leaf Variable that requires grad is being used in an in-place operation",
    ):
        p.add_(1)
    with pytest.raises(
        RuntimeError,
        match="a leaf Variable that requires grad is being used in an in-place operation",
    ):
        p -= 0.1 * p


def test_up09_suggests_no_grad():
    p = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        p.sub_(1)
    assert "no_grad" in str(info.value)
    with ember.no_grad():
        p.sub_(1)  # the fix works
    np.testing.assert_allclose(p.detach().numpy(), [0, 0])


def test_up09_manual_sgd_names_the_parameter():
    nn = pytest.importorskip("ember.nn")

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    model = Model()
    w = model.fc.weight
    w.grad = ember.ones(2, 2)
    with pytest.raises(RuntimeError) as info:
        w -= 0.1 * w.grad
    msg = str(info.value)
    assert "fc.weight" in msg and "no_grad" in msg


# --------------------------------------------------------------------------- UP-83 gradcheck
def _sq(T, wrong: bool):
    class Sq(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (3 if wrong else 2) * x

    return Sq


@libs
def test_gradcheck_passes_and_fails_as_torch(T):
    x = T.tensor([0.5, -1.0, 2.0], dtype=T.float64, requires_grad=True)
    assert T.autograd.gradcheck(_sq(T, False).apply, (x,))
    y = T.tensor([1.0, 0.5, -0.5], dtype=T.float64, requires_grad=True)
    assert T.autograd.gradcheck(lambda a, b: (a * b.exp(), a.sin()), (x, y))
    with pytest.raises(
        RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"
    ):
        T.autograd.gradcheck(_sq(T, True).apply, (x,))
    assert not T.autograd.gradcheck(_sq(T, True).apply, (x,), raise_exception=False)


def test_gradcheck_names_worst_element():
    x = ember.tensor([[0.5, -1.0], [2.0, 3.0]], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        ember.autograd.gradcheck(lambda a, b: (b * 2, _sq(ember, True).apply(a)), (x, y))
    msg = str(info.value)
    assert msg.startswith("Jacobian mismatch for output 1 with respect to input 0")
    # worst element: d out[1][1] / d x[1][1] = 2 * 3 = 6 numerically, 9 analytically
    assert "worst element: d output 1[1, 1] / d input 0[1, 1]: numerical 6 vs analytical 9" in msg


@libs
def test_gradcheck_warns_for_float32(T):
    x = T.tensor([0.5, -1.0], requires_grad=True)
    with pytest.warns(
        UserWarning, match="Input #0 requires gradient and is not a double precision floating point"
    ):
        T.autograd.gradcheck(lambda a: a.exp(), (x,), raise_exception=False)


def test_gradcheck_float32_checked_in_float64():
    x = ember.tensor([0.5, -1.0, 2.0], requires_grad=True)  # float32: would fail without upcast
    with pytest.warns(UserWarning):
        assert ember.autograd.gradcheck(lambda a: (a * a).exp(), (x,))
    assert x.dtype == ember.float32 and x.grad is None  # the user's tensor is untouched


@libs
def test_gradcheck_needs_an_input_requiring_grad(T):
    with pytest.raises(
        ValueError, match="gradcheck expects at least one input tensor to require gradient"
    ):
        T.autograd.gradcheck(lambda a: a * 2, (T.ones(2, dtype=T.float64),))


def test_gradcheck_non_contiguous_input():
    base = ember.tensor(np.arange(6.0).reshape(2, 3) / 7, dtype=ember.float64)
    x = base.t().detach().requires_grad_()
    assert ember.autograd.gradcheck(lambda a: a.exp().sum(0), (x,))


@libs
def test_gradgradcheck(T):
    x = T.tensor([0.5, -1.0, 2.0], dtype=T.float64, requires_grad=True)
    assert T.autograd.gradgradcheck(lambda a: (a**3).sin(), (x,))

    class WrongDouble(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a**3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * 3 * a.detach() ** 2  # right value, but not differentiable w.r.t. a

    assert T.autograd.gradcheck(WrongDouble.apply, (x,))
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        T.autograd.gradgradcheck(WrongDouble.apply, (x,))


# --------------------------------------------------------------------------- UP-84 anomaly
@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's 0/0 warning in the forward
@libs
def test_anomaly_nan_in_backward_names_node(T):
    x = T.tensor([0.0, 1.0], requires_grad=True)
    with T.autograd.detect_anomaly():
        y = (x / x).sum()
        with pytest.raises(
            RuntimeError, match=r"Function 'DivBackward0' returned nan values in its 1th output\."
        ):
            y.backward()
    with T.autograd.detect_anomaly():
        y = (x.sqrt() * 0).sum()
        with pytest.raises(
            RuntimeError, match=r"Function 'SqrtBackward0' returned nan values in its 0th output\."
        ):
            y.backward()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_message_has_forward_line():
    x = ember.tensor([0.0], requires_grad=True)
    with ember.autograd.detect_anomaly():
        y = (x.log() * 0).sum()  # up84-log
        with pytest.raises(RuntimeError) as info:
            y.backward()
    msg = str(info.value)
    assert msg.startswith("Function 'LogBackward0' returned nan values in its 0th output.")
    assert at("up84-log") in msg


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
@libs
def test_anomaly_off_lets_nan_through(T):
    x = T.tensor([0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = (x.log() * 0).sum()
    y.backward()  # no anomaly mode: NaN gradient, no error (and no NumPy warning in backward)
    assert np.isnan(x.grad.numpy()).all()


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
@pytest.mark.parametrize(
    "T",
    [
        pytest.param(ember, id="ember"),
        *([pytest.param(torch, id="torch")] if torch is not None else []),
    ],
)
def test_is_anomaly_enabled_top_level(T):
    T.autograd.set_detect_anomaly(True)
    try:
        assert T.is_anomaly_enabled()
    finally:
        T.autograd.set_detect_anomaly(False)
    assert not T.is_anomaly_enabled()


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
@libs
def test_set_detect_anomaly_and_query(T):
    with T.autograd.set_detect_anomaly(True):
        assert T.autograd.anomaly_mode.detect_anomaly is T.autograd.detect_anomaly
    if T is ember:
        assert not ember.autograd.anomaly_mode.is_anomaly_enabled()


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
@libs
def test_detect_anomaly_check_nan_false(T):
    x = T.tensor([0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = (x.log() * 0).sum()
    with T.autograd.detect_anomaly(check_nan=False):
        y.backward()
    assert np.isnan(x.grad.numpy()).all()


def test_backward_error_notes_forward_line():
    class Boom(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    x = ember.ones(2, requires_grad=True)
    y = Boom.apply(x)  # note-boom
    with pytest.raises(ValueError, match="boom") as info:
        y.sum().backward()
    if sys.version_info >= (3, 11):
        notes = "\n".join(getattr(info.value, "__notes__", []))
        assert "BoomBackward" in notes and at("note-boom") in notes


def test_grad_mode_restored_after_backward_error():
    class Boom(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    x = ember.ones(2, requires_grad=True)
    with pytest.raises(ValueError):
        Boom.apply(x).sum().backward(create_graph=True)
    assert ember.is_grad_enabled()
    with ember.no_grad():
        with pytest.raises(ValueError):
            Boom.apply(x * 1).sum()  # no graph under no_grad: plain result
            raise ValueError
        assert not ember.is_grad_enabled()
