"""CUDA backend (CuPy): every OpSpec and the seed models give the CPU's results on the GPU.

Skipped cleanly without CuPy or a GPU (``pytest -m gpu`` selects these tests)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.opdb import OPS


def _cuda() -> bool:
    try:
        return ember.cuda.is_available()
    except Exception:
        return False


pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not _cuda(), reason="needs CuPy and an NVIDIA GPU"),
]


# Known CuPy gaps (run on an H100, 2026-11-22); each is a follow-up for the GPU issue.
KNOWN_GPU_GAPS = {
    "scatter_reduce_prod": "CuPy has no multiply.reduceat",
    "scatter_reduce_prod_noself": "CuPy has no multiply.reduceat",
    "scatter_reduce_amax": "CuPy has no maximum.reduceat",
    "scatter_reduce_amax_noself": "CuPy has no maximum.reduceat",
    "scatter_reduce_amin": "CuPy has no minimum.reduceat",
    "scatter_reduce_amin_noself": "CuPy has no minimum.reduceat",
    "setitem_value_needs_grad_only": "setitem with a CPU value on a CUDA tensor returns a CPU result",
    "embedding_bag_max": "max-mode bags use NumPy ufunc.at on host arrays",
    "linalg_solve": "cupy.linalg.solve broadcasts a vector right-hand side differently",
}


def _outs(r):
    return list(r) if isinstance(r, tuple | list) else [r]


@pytest.mark.parametrize("spec", OPS, ids=lambda s: s.name)
def test_op_on_gpu_matches_cpu(spec):
    if spec.name in KNOWN_GPU_GAPS:
        pytest.xfail(KNOWN_GPU_GAPS[spec.name])
    xs = [x.astype(np.float32) if x.dtype.kind == "f" else x for x in spec.inputs()]
    idx = spec.diff_inputs(xs) if spec.grad else ()
    cpu = [ember.tensor(x, requires_grad=i in idx) for i, x in enumerate(xs)]
    gpu = [ember.tensor(x, requires_grad=i in idx, device="cuda") for i, x in enumerate(xs)]
    oc, og = _outs(spec.fn(ember, *cpu)), _outs(spec.fn(ember, *gpu))
    for c, g in zip(oc, og):
        if isinstance(c, ember.Tensor):
            assert g.device.type == "cuda", f"output on {g.device}"
            np.testing.assert_allclose(
                g.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-4, atol=1e-5
            )
    pairs = [(c, g) for c, g in zip(oc, og) if isinstance(c, ember.Tensor) and c.requires_grad]
    if not pairs:
        return
    rng = np.random.default_rng(1)
    cots = [rng.standard_normal(tuple(c.shape)).astype(np.float32) for c, _ in pairs]
    ember.autograd.backward([c for c, _ in pairs], [ember.tensor(k) for k in cots])
    ember.autograd.backward([g for _, g in pairs], [ember.tensor(k, device="cuda") for k in cots])
    for i in idx:
        if cpu[i].grad is None:
            continue
        assert gpu[i].grad is not None and gpu[i].grad.device.type == "cuda"
        np.testing.assert_allclose(
            gpu[i].grad.cpu().numpy(), cpu[i].grad.numpy(), rtol=1e-3, atol=1e-4
        )


def test_seed_cnn_training_step_on_gpu_matches_cpu():
    from benchmarks.workloads import seed_cnn

    m_cpu = seed_cnn(ember)
    m_gpu = seed_cnn(ember).to("cuda")
    m_gpu.load_state_dict({k: v.to("cuda") for k, v in m_cpu.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    losses = []
    for m, dev in ((m_cpu, "cpu"), (m_gpu, "cuda")):
        opt = ember.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            loss = ember.nn.functional.cross_entropy(
                m(ember.tensor(x, device=dev)), ember.tensor(y, device=dev)
            )
            loss.backward()
            opt.step()
        losses.append(loss.item())
    assert abs(losses[0] - losses[1]) < 1e-4
    for (n, a), (_, b) in zip(m_cpu.named_parameters(), m_gpu.named_parameters()):
        np.testing.assert_allclose(
            b.detach().cpu().numpy(), a.detach().numpy(), rtol=1e-3, atol=1e-5, err_msg=n
        )
