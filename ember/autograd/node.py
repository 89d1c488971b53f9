"""Graph nodes (torch's ``grad_fn``): one per differentiable op call, built while the op runs.

A node keeps the edges to its inputs' producers, what its backward needs (saved tensors with the
version they had when saved), and the user's file:line that created it (provenance for errors).

Backward rules are written once against a NumPy-like namespace ``F``: the engine passes NumPy (or
CuPy) arrays normally, and Tensors with a differentiable namespace (``tensor_np``) when
``create_graph=True``; so every rule is fast by default and differentiable twice for free.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["Node", "record", "site", "InplaceModifiedError", "GraphFreedError"]

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PROVENANCE = os.environ.get("EMBER_PROVENANCE", "1") != "0"
_FREED = ("freed",)
_seq = [0]


class InplaceModifiedError(RuntimeError):
    """A tensor saved for backward was modified in place before backward ran."""


class GraphFreedError(RuntimeError):
    """Backward ran through a part of the graph whose saved tensors were already freed."""


def site(depth: int = 2) -> Any:
    """(filename, lineno) of the first frame outside the ember package, or None if disabled."""
    if not _PROVENANCE:
        return None
    f = sys._getframe(depth)
    while f is not None and f.f_code.co_filename.startswith(_PKG):
        f = f.f_back
    return None if f is None else (f.f_code.co_filename, f.f_lineno)


def fmt_site(s: Any) -> str:
    return "<unknown location>" if s is None else f"{s[0]}:{s[1]}"


class Node:
    """Base of all backward nodes. Subclasses are named as torch names them (``MulBackward0``).

    ``backward(F, g, *saved)`` returns a tuple with one gradient (or None) per edge, in the shape
    of the output; broadcasting is undone centrally by the engine.
    """

    __slots__ = (
        "__weakref__", "_hooks", "_pre_hooks", "args", "edges", "freed_by", "metadata", "out",
        "saved", "site", "vers",
    )  # fmt: skip
    nout = 1  # number of outputs (multi-output nodes override and keep `out_meta`)

    def backward(self, F: Any, g: Any, *saved: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    # -- torch-compatible introspection -------------------------------------------------------
    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        from ember.autograd.accumulate import accumulate_node

        res = []
        for e in self.edges:
            if e is None:
                res.append((None, 0))
            elif isinstance(e[0], Node):
                res.append((e[0], e[1]))
            else:
                res.append((accumulate_node(e[0]), 0))
        return tuple(res)

    def register_hook(self, fn: Any) -> Any:
        """fn(grad_inputs, grad_outputs) -> new grad_inputs or None; runs after this backward."""
        from ember.autograd.hooks import add_hook

        if getattr(self, "_hooks", None) is None:
            self._hooks = {}
        return add_hook(self._hooks, fn)

    def register_prehook(self, fn: Any) -> Any:
        """fn(grad_outputs) -> new grad_outputs or None; runs before this backward."""
        from ember.autograd.hooks import add_hook

        if getattr(self, "_pre_hooks", None) is None:
            self._pre_hooks = {}
        return add_hook(self._pre_hooks, ("node", fn))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # -- saved tensors -------------------------------------------------------------------------
    def unpack(self, graph: bool) -> tuple[Any, ...]:
        """Saved values for backward: arrays (or Tensors when building a graph), version-checked."""
        saved = self.saved
        if saved is _FREED:
            raise self._freed_error()
        res = []
        for item, ver in zip(saved, self.vers, strict=True):
            if ver is None:
                res.append(item)
            elif ver == -1:  # the output of this very node: (array, version counter, version)
                arr, vc, v = item
                if vc[0] != v:
                    raise self._inplace_error(arr, vc, v, output=True)
                res.append(_output_tensor(self, arr, vc) if graph else arr)
            else:
                if item._vc[0] != ver:
                    raise self._inplace_error(item._data, item._vc, ver, output=False, t=item)
                res.append(item if graph else item._data)
        return tuple(res)

    def _inplace_error(self, arr: Any, vc: list, ver: int, output: bool, t: Any = None) -> Exception:
        tname = f"[ember.{_dtype_name(arr)} {list(arr.shape)}]".replace(" []", " []")
        if output:
            who = f"output 0 of {self.name()}"
        elif t is not None and t.grad_fn is not None:
            who = f"an input of {self.name()}"
        else:
            who = f"an input of {self.name()}"
        mut = vc[1]
        msg = (
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {tname}, which is {who}, is at version {vc[0]}; expected "
            f"version {ver} instead.\n"
            f"  saved by:    {self.name()} (created at {fmt_site(self.site)})\n"
            f"  modified by: {mut[0] if mut else 'an in-place op'} "
            f"(at {fmt_site(mut[1] if mut else None)})\n"
            "Hint: use the out-of-place op (e.g. `y = y + 1` instead of `y += 1`), or clone the "
            "tensor before modifying it."
        )
        return InplaceModifiedError(msg)

    def _freed_error(self) -> Exception:
        return GraphFreedError(
            "Trying to backward through the graph a second time (or directly access saved tensors "
            "after they have already been freed). Saved intermediate values of the graph are freed "
            "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
            "to backward through the graph a second time or if you need to access saved tensors "
            f"after calling backward.\n  freed node: {self.name()} (created at "
            f"{fmt_site(self.site)})\n  freed by the backward() called at "
            f"{fmt_site(getattr(self, 'freed_by', None))}\n"
            "Hint: if you need the graph twice on purpose, pass retain_graph=True to the *first* "
            "backward; in a training loop, recompute the forward pass each step instead."
        )

    def release(self, where: Any) -> None:
        if self.saved:
            self.saved = _FREED
            self.freed_by = where


def _dtype_name(arr: Any) -> str:
    from ember import dtypes

    try:
        return {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor"}.get(
            dtypes.from_np(arr.dtype).name, str(arr.dtype)
        )
    except TypeError:
        return str(arr.dtype)


def _output_tensor(node: Node, arr: Any, vc: list) -> Any:
    from ember.tensor import _make

    t = _make(arr, True, node)
    t._vc = vc
    return t


def record(
    cls: type[Node], out: Any, inputs: tuple[Any, ...], saved: tuple = (), args: Any = None
) -> Node:
    """Create a `cls` node for `out` computed from `inputs` (Tensors or None) and attach it.

    `saved` holds Tensors (version-checked), plain values, or `out` itself (kept as its array,
    so that a node never references its own output tensor: no reference cycle).
    """
    node = cls.__new__(cls)
    edges = []
    for x in inputs:
        if x is None or not x._rg:
            edges.append(None)
        else:
            a = x._data
            edges.append((x.grad_fn or x, x._out_nr, a.shape, a.dtype))
    node.edges = edges
    if saved:
        vs = []
        items = []
        for s in saved:
            if s is out:
                items.append((out._data, out._vc, out._vc[0]))
                vs.append(-1)
            elif isinstance(s, _Tensor):
                items.append(s)
                vs.append(s._vc[0])
            else:
                items.append(s)
                vs.append(None)
        node.saved = items
        node.vers = vs
    else:
        node.saved = ()
        node.vers = ()
    node.args = args
    node.site = site(3) if _PROVENANCE else None
    out._rg = True
    out.grad_fn = node
    return node


_Tensor: Any = None  # set by ember.tensor once the class exists (no import cycle)
