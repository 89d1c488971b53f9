"""AccumulateGrad: the node torch shows in ``next_functions`` for a leaf that requires grad.

ember's engine accumulates into leaves directly; this object exists for introspection
(``grad_fn.next_functions[0][0].variable``) and is cached weakly per leaf, as in torch.
"""

from __future__ import annotations

import weakref
from typing import Any


class AccumulateGrad:
    """Stands for "accumulate into ``variable.grad``" in the graph."""

    def __init__(self, variable: Any) -> None:
        self.variable = variable
        self.next_functions: tuple = ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


def accumulate_node(t: Any) -> AccumulateGrad:
    ref = getattr(t, "_acc", None)
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(t)
        t._acc = weakref.ref(node)  # weak, as torch: the node holds the leaf, not the reverse
    return node
