"""``SyncBatchNorm``: batch norm whose training statistics cover the batch of every rank.

As torch: each rank computes its per-channel mean, sum of squared deviations and count, one
all-gather combines them (counts may differ across ranks, even be zero), and backward all-reduces
the two per-channel sums the input gradient needs. Weight and bias gradients stay local (DDP
averages them). Outside training, or with one rank, it is plain ``F.batch_norm``. Unlike torch,
it also runs on CPU (over MPI).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.autograd.function import Function, once_differentiable
from ember.nn import functional as F
from ember.nn.modules.module import Module
from ember.nn.modules.normalization import _BatchNorm
from ember.tensor import Tensor, _make

__all__ = ["SyncBatchNorm"]


def _axes(x: Any) -> tuple[int, ...]:
    return (0, *range(2, x.ndim))


def _bshape(x: Any) -> tuple[int, ...]:
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class _SyncBatchNormFn(Function):
    @staticmethod
    def forward(ctx: Any, input: Tensor, weight: Tensor | None, bias: Tensor | None,
                running_mean: Tensor | None, running_var: Tensor | None, eps: float,
                momentum: float, process_group: Any, world_size: int) -> Tensor:  # fmt: skip
        import ember.distributed as dist
        from ember.backends import xp_of

        x = input._data
        xp = xp_of(x)
        c = x.shape[1]
        axes = _axes(x)
        n_local = x.size // c if c else 0
        stats = xp.zeros(2 * c + 1, np.float64)
        if x.size:
            mean_l = x.mean(axis=axes, dtype=np.float64)
            dev = x.astype(np.float64) - mean_l.reshape(_bshape(x))
            stats[:c] = mean_l
            stats[c : 2 * c] = (dev * dev).sum(axis=axes)
            stats[2 * c] = n_local
        gathered = _make(xp.zeros((world_size, 2 * c + 1), np.float64))
        dist.all_gather_into_tensor(gathered, _make(stats), group=process_group)
        g = gathered._data
        counts = g[:, 2 * c : 2 * c + 1]
        total = float(counts.sum())
        if total <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got {int(total)} values "
                "in all ranks' batches together"
            )
        mean = (g[:, :c] * counts).sum(axis=0) / total
        m2 = (g[:, c : 2 * c] + counts * (g[:, :c] - mean) ** 2).sum(axis=0)
        invstd = 1.0 / xp.sqrt(m2 / total + eps)
        if running_mean is not None and running_var is not None:
            rm, rv = running_mean._data, running_var._data
            rm *= 1 - momentum
            rm += (momentum * mean).astype(rm.dtype)
            rv *= 1 - momentum
            rv += (momentum * m2 / (total - 1)).astype(rv.dtype)
            running_mean._vc[0] += 1
            running_var._vc[0] += 1
        shape = _bshape(x)
        mean_x = mean.astype(x.dtype).reshape(shape)
        invstd_x = invstd.astype(x.dtype).reshape(shape)
        xhat = (x - mean_x) * invstd_x
        y = xhat
        if weight is not None:
            y = y * weight._data.reshape(shape)
        if bias is not None:
            y = y + bias._data.reshape(shape)
        ctx.save_for_backward(input, weight)
        ctx.stats = (mean_x, invstd_x, total, process_group)
        return _make(xp.ascontiguousarray(y.astype(x.dtype, copy=False)))

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: Tensor) -> Any:
        import ember.distributed as dist
        from ember.backends import xp_of

        input, weight = ctx.saved_tensors
        mean, invstd, total, process_group = ctx.stats
        x, dy = input._data, grad_output._data
        xp = xp_of(x)
        axes = _axes(x)
        c = x.shape[1]
        xmu = x - mean
        sum_dy = dy.sum(axis=axes, dtype=np.float64)
        sum_dy_xmu = (dy * xmu).sum(axis=axes, dtype=np.float64)
        need_w, need_b = ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        gw = _make((sum_dy_xmu * invstd.reshape(-1)).astype(x.dtype)) if need_w else None
        gb = _make(sum_dy.astype(x.dtype)) if need_b else None
        gx = None
        if ctx.needs_input_grad[0]:
            both = _make(xp.concatenate([sum_dy, sum_dy_xmu]))
            dist.all_reduce(both, group=process_group)
            s_dy = both._data[:c].astype(x.dtype).reshape(mean.shape) / total
            s_xmu = both._data[c:].astype(x.dtype).reshape(mean.shape) / total
            scale = invstd if weight is None else invstd * weight._data.reshape(mean.shape)
            gx = _make(((dy - s_dy - xmu * (invstd * invstd) * s_xmu) * scale).astype(x.dtype))
        return gx, gw, gb, None, None, None, None, None, None


class SyncBatchNorm(_BatchNorm):
    """Batch norm over N-D input with statistics synchronised across a process group."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)  # fmt: skip
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input: Tensor) -> None:
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        eaf = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._vc[0] += 1
            if self.momentum is None:  # cumulative moving average
                eaf = 1.0 / float(self.num_batches_tracked.item())
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_stats = not self.training or self.track_running_stats
        running_mean = self.running_mean if use_stats else None
        running_var = self.running_var if use_stats else None
        need_sync = bn_training and self.training
        world_size = 1
        pg = None
        if need_sync:
            import ember.distributed as dist

            need_sync = dist.is_available() and dist.is_initialized()
            if need_sync:
                pg = self.process_group or dist.group.WORLD
                world_size = dist.get_world_size(pg)
                need_sync = world_size > 1
        if not need_sync:
            return F.batch_norm(input, running_mean, running_var, self.weight, self.bias,
                                bn_training, eaf, self.eps)  # fmt: skip
        return _SyncBatchNormFn.apply(input, self.weight, self.bias, running_mean, running_var,
                                      self.eps, eaf, pg, world_size)  # fmt: skip

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """Replace every ``BatchNorm*d`` in `module` by a SyncBatchNorm sharing its parameters
        and buffers (returns the new module when `module` itself is a batch norm)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group,
                      bias=module.bias is not None)  # fmt: skip
            if module.affine:
                out.weight = module.weight
                if module.bias is not None:
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
