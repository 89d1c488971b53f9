"""torch.nn.modules.utils helpers: tuple expanders and the DDP state_dict prefix fix."""

from __future__ import annotations

import collections
from itertools import repeat
from typing import Any

__all__ = [
    "consume_prefix_in_state_dict_if_present",
    "_single",
    "_pair",
    "_triple",
    "_quadruple",
    "_ntuple",
]


def _ntuple(n: int, name: str = "parse") -> Any:
    def parse(x: Any) -> tuple:
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Strip `prefix` from keys in place (e.g. 'module.' from a DistributedDataParallel save).

    consume_prefix_in_state_dict_if_present(sd, "module."); model.load_state_dict(sd)
    """
    keys = list(state_dict.keys())
    for key in keys:
        if key.startswith(prefix):
            state_dict[key[len(prefix) :]] = state_dict.pop(key)
    meta = getattr(state_dict, "_metadata", None)
    if meta is not None:
        for key in list(meta.keys()):
            if len(key) == 0:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                meta[key[len(prefix) :] if key.startswith(prefix) else ""] = meta.pop(key)
