"""Random number generation: a global default Generator, seeded by ``manual_seed``.

Streams differ from torch's (ember draws through NumPy's PCG64), but seeding semantics match:
the same seed gives the same numbers, and ``Generator`` objects can be passed as ``generator=``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

__all__ = [
    "Generator", "manual_seed", "seed", "initial_seed", "default_generator", "get_rng_state",
    "set_rng_state", "fork_rng",
]  # fmt: skip


class Generator:
    """A random generator (``torch.Generator``) backed by NumPy's PCG64."""

    def __init__(self, device: Any = "cpu") -> None:
        from ember.backends import device as _device

        self.device = _device(device)
        self._seed = 67280421310721  # torch's default seed
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        """Reseed; negative seeds wrap modulo 2**64 as in torch. Returns self."""
        seed = int(seed)
        if not -(1 << 63) <= seed < 1 << 64:
            raise ValueError("Overflow when unpacking long long")
        if seed < 0:
            seed = seed % (1 << 64)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        s = int(time.time_ns() % (1 << 63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Any:
        import pickle

        from ember.dtypes import uint8
        from ember.ops.creation import tensor

        blob = pickle.dumps((self._seed, self._rng.bit_generator.state))
        return tensor(list(blob), dtype=uint8)

    def set_state(self, state: Any) -> Generator:
        import pickle

        self._seed, st = pickle.loads(bytes(np.asarray(state).astype(np.uint8).tobytes()))
        self._rng.bit_generator.state = st
        return self

    @property
    def np(self) -> np.random.Generator:
        return self._rng


default_generator = Generator()


def _gen(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator)._rng


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and CUDA's, when used)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    default_generator.set_state(new_state)


class fork_rng:
    """Context manager restoring the default generator's state on exit."""

    def __init__(self, devices: Any = None, enabled: bool = True, **kwargs: Any) -> None:
        self.enabled = enabled

    def __enter__(self) -> None:
        if self.enabled:
            self._state = (default_generator._seed, default_generator._rng.bit_generator.state)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            default_generator._seed = self._state[0]
            default_generator._rng.bit_generator.state = self._state[1]
