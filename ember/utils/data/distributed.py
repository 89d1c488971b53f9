"""``DistributedSampler``: each rank iterates over its own shard of the dataset.

torch's rules: the index list (a permutation seeded by ``seed + epoch`` when shuffling) is padded
by repeating its start (or, with ``drop_last``, cut) to a multiple of ``num_replicas``, and rank
r takes every ``num_replicas``-th index starting at r, so every rank gets the same number of
samples. The permutations come from ember's RNG, so they differ from torch's for a seed.

Forgetting ``set_epoch(epoch)`` silently reuses one order every epoch (UP-36): the sampler keeps
torch's behaviour but warns the first time a new epoch starts with an unchanged shuffling epoch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sized
from typing import Any, TypeVar

from ember.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]

T_co = TypeVar("T_co", covariant=True)


class DistributedSampler(Sampler[T_co]):
    """Restrict data loading to one rank's shard (torch.utils.data.DistributedSampler)."""

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            import ember.distributed as dist

            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            # drop the tail so every rank gets the same amount of data
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed
        self._last_epoch: int | None = None  # the epoch of the previous iteration, if any
        self._warned = False

    def __iter__(self) -> Iterator[T_co]:
        if self.shuffle and self._last_epoch == self.epoch and not self._warned:
            self._warned = True
            warnings.warn(
                f"DistributedSampler: a new pass over the data started with the same epoch "
                f"({self.epoch}) as the previous one, so it repeats the previous shuffling order. "
                "Call sampler.set_epoch(epoch) at the start of every epoch.",
                UserWarning,
                stacklevel=2,
            )
        self._last_epoch = self.epoch
        n = len(self.dataset)
        if self.shuffle:
            from ember import random as _random
            from ember.ops.creation import randperm

            g = _random.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices: list[Any] = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size "
                                 f"({self.total_size})")  # fmt: skip
        indices = indices[self.rank : self.total_size : self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match num_samples "
                                 f"({self.num_samples})")  # fmt: skip
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: with ``shuffle=True`` each epoch gets its own order (same on every
        rank when they all pass the same epoch)."""
        self.epoch = epoch
