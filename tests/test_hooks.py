"""Autograd hooks: ``Tensor.register_hook`` (leaf and non-leaf), ``retain_grad``,
``register_post_accumulate_grad_hook``, ``grad_fn.register_hook/register_prehook``, and their
order, as torch. Each test runs on ember and, when installed, on torch.
"""

from __future__ import annotations

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


# --------------------------------------------------------------------------- tensor hooks
@libs
def test_leaf_hook_sees_grad_and_replaces_it(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    def hook(g):
        seen.append(arr(g).copy())
        return g * 10

    x.register_hook(hook)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3, 3])
    close(x.grad, [30, 30])


@libs
def test_non_leaf_hook_replaces_grad_flowing_on(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g + 1)
    (y * 3).sum().backward()
    close(x.grad, [8, 8])  # (3 + 1) * 2


@libs
def test_hook_removal_via_handle(T):
    x = T.tensor([1.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 100)
    h.remove()
    (x * 2).sum().backward()
    close(x.grad, [2])
    y = x * 1
    h2 = y.register_hook(lambda g: g * 100)
    h2.remove()
    h2.remove()  # removing twice is harmless
    y.sum().backward()
    close(x.grad, [3])


@libs
def test_hooks_run_in_registration_order_and_chain(T):
    x = T.tensor([1.0], requires_grad=True)
    y = x * 1
    log = []
    y.register_hook(lambda g: (log.append(("a", arr(g)[0])), g * 2)[1])
    y.register_hook(lambda g: (log.append(("b", arr(g)[0])), None)[1])
    y.register_hook(lambda g: (log.append(("c", arr(g)[0])), g + 1)[1])
    y.sum().backward()
    assert log == [("a", 1.0), ("b", 2.0), ("c", 2.0)]
    close(x.grad, [3])


@libs
def test_register_hook_on_tensor_not_requiring_grad(T):
    with pytest.raises(
        RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"
    ):
        T.ones(2).register_hook(lambda g: g)


@libs
def test_hook_on_multi_use_tensor_fires_once_with_total(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    seen = []
    y.register_hook(lambda g: seen.append(arr(g).copy()))
    (y * 2 + y * 3).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [5, 5])


@libs
def test_hook_returning_wrong_shape_raises(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: T.ones(3))
    with pytest.raises(RuntimeError):
        y.sum().backward()


@libs
def test_hooks_with_autograd_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (g,) = T.autograd.grad((x * 2).sum(), x)
    close(g, [20, 20])  # leaf hooks apply to the captured gradient too
    y = x * 3
    y.register_hook(lambda g: g * 0)
    (gy,) = T.autograd.grad((y * 2).sum(), y)
    close(gy, [0, 0])


# --------------------------------------------------------------------------- retain_grad
@libs
def test_retain_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    z = (y * y).sum()
    z.backward(retain_graph=True)
    close(y.grad, [4, 8])
    z.backward()
    close(y.grad, [8, 16])  # accumulates like a leaf's
    x.retain_grad()  # no-op on a leaf
    assert not x.retains_grad


@libs
def test_retain_grad_sees_hook_modified_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 2)  # registered after retain_grad, still runs before it
    y.sum().backward()
    close(y.grad, [2, 2])
    close(x.grad, [4, 4])


@libs
def test_retained_grad_is_independent(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.retain_grad()
    y.sum().backward()
    with T.no_grad():
        y.grad.mul_(100)
    close(x.grad, [1, 1])


@libs
def test_non_leaf_grad_access_warns(T):
    x = T.tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None


@libs
def test_retain_grad_on_tensor_not_requiring_grad(T):
    with pytest.raises(
        RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"
    ):
        T.ones(2).retain_grad()


# --------------------------------------------------------------------------- post accumulate
@libs
def test_post_accumulate_grad_hook_fires_once_with_full_grad(T):
    p = T.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    def hook(param):
        assert param is p
        seen.append(arr(param.grad).copy())

    p.register_post_accumulate_grad_hook(hook)
    (p * 2 + p * 3 + p * p).sum().backward()
    assert len(seen) == 1  # once per backward, after all contributions are summed
    np.testing.assert_allclose(seen[0], [7, 9])
    (p * 1).sum().backward()
    assert len(seen) == 2
    np.testing.assert_allclose(seen[1], [8, 10])  # sees the accumulated .grad


@libs
def test_post_accumulate_grad_hook_can_step_and_zero(T):
    # the optimizer-in-backward pattern: update and free the grad inside the hook
    p = T.tensor([1.0, 2.0], requires_grad=True)

    def hook(param):
        with T.no_grad():
            param.sub_(param.grad * 0.5)
        param.grad = None

    p.register_post_accumulate_grad_hook(hook)
    (p * 2).sum().backward()
    close(p, [0, 1])
    assert p.grad is None


@libs
def test_post_accumulate_grad_hook_on_non_leaf_raises(T):
    x = T.tensor([1.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"
    ):
        (x * 2).register_post_accumulate_grad_hook(lambda p: None)


@libs
def test_post_accumulate_grad_hook_removal(T):
    p = T.tensor([1.0], requires_grad=True)
    calls = []
    h = p.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    (p * 2).sum().backward()
    h.remove()
    (p * 2).sum().backward()
    assert calls == [1]


@libs
def test_post_accumulate_not_called_for_autograd_grad(T):
    p = T.tensor([1.0], requires_grad=True)
    calls = []
    p.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    T.autograd.grad((p * 2).sum(), p)
    assert calls == []


# --------------------------------------------------------------------------- node hooks
@libs
def test_grad_fn_hooks(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    log = []

    def pre(grad_outputs):
        log.append(("pre", arr(grad_outputs[0]).tolist()))
        return (grad_outputs[0] * 2,)

    def post(grad_inputs, grad_outputs):
        log.append(("post", arr(grad_inputs[0]).tolist(), arr(grad_outputs[0]).tolist()))
        return (grad_inputs[0] + 1, grad_inputs[1])

    y.grad_fn.register_prehook(pre)
    y.grad_fn.register_hook(post)
    y.sum().backward()
    # the post hook sees the grad_outputs after the pre hook changed them
    assert log == [("pre", [1, 1]), ("post", [6, 6], [2, 2])]
    close(x.grad, [7, 7])


@libs
def test_grad_fn_hook_removal(T):
    x = T.tensor([1.0], requires_grad=True)
    y = x * 3
    h = y.grad_fn.register_prehook(lambda go: (go[0] * 0,))
    h.remove()
    y.sum().backward()
    close(x.grad, [3])


@libs
def test_hook_order_matches_torch(T):
    x = T.tensor([1.0, 1.0], requires_grad=True)
    y = x * 2
    log = []
    y.grad_fn.register_prehook(lambda gs: log.append("node_pre"))
    y.register_hook(lambda g: log.append("tensor1"))
    y.retain_grad()
    y.register_hook(lambda g: (log.append("tensor2"), g * 2)[1])
    y.grad_fn.register_hook(lambda gi, go: log.append("node_post"))
    x.register_hook(lambda g: log.append("leaf"))
    x.register_post_accumulate_grad_hook(lambda p: log.append("post_accumulate"))
    y.sum().backward()
    assert log == ["tensor1", "tensor2", "node_pre", "node_post", "leaf", "post_accumulate"]
    close(y.grad, [2, 2])
    close(x.grad, [4, 4])


@libs
def test_handle_as_context_manager(T):
    x = T.tensor([1.0], requires_grad=True)
    with x.register_hook(lambda g: g * 5):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    close(x.grad, [6])


@libs
def test_hook_under_create_graph_is_differentiable(T):
    x = T.tensor([2.0], requires_grad=True)
    y = x * x
    y.register_hook(lambda g: g * x)  # the hook's op is recorded under create_graph
    (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
    close(g, [8])  # x * 2x
    (g2,) = T.autograd.grad(g.sum(), x)
    close(g2, [8])  # d(2x^2)/dx = 4x


@libs
def test_grads_in_hooks_are_tensors_without_history(T):
    x = T.tensor([1.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append((type(g).__name__, g.requires_grad)))
    (x * 2).sum().backward()
    assert seen == [("Tensor", False)]
