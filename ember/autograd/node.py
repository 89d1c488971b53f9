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

__all__ = [
    "Node", "record", "site", "fmt_site", "resolve_site", "InplaceModifiedError",
    "GraphFreedError",
]  # fmt: skip

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PROVENANCE = os.environ.get("EMBER_PROVENANCE", "1") != "0"
_FREED = ("freed",)


class InplaceModifiedError(RuntimeError):
    """A tensor saved for backward was modified in place before backward ran."""


class GraphFreedError(RuntimeError):
    """Backward ran through a part of the graph whose saved tensors were already freed."""


def site(depth: int = 2) -> Any:
    """Where the user called into ember: the first frame outside the package, or None if disabled.

    Kept as ``(code object, instruction offset)``, cheap to take on every op; ``fmt_site`` and
    ``resolve_site`` turn it into file:line only when an error message needs it.
    """
    if not _PROVENANCE:
        return None
    f = sys._getframe(depth)
    while f is not None and f.f_code.co_filename.startswith(_PKG):
        f = f.f_back
    return None if f is None else (f.f_code, f.f_lasti)


def resolve_site(s: Any) -> tuple[str, int] | None:
    """(filename, lineno) of a ``site()`` value (also accepts a ready (filename, lineno))."""
    if s is None:
        return None
    where, pos = s
    if isinstance(where, str):
        return where, pos
    line = where.co_firstlineno
    for start, end, ln in where.co_lines():
        if start <= pos < end:
            if ln is not None:
                line = ln
            break
    return where.co_filename, line


def fmt_site(s: Any) -> str:
    r = resolve_site(s)
    return "<unknown location>" if r is None else f"{r[0]}:{r[1]}"


class Node:
    """Base of all backward nodes. Subclasses are named as torch names them (``MulBackward0``).

    ``backward(F, g, *saved)`` returns a tuple with one gradient (or None) per edge, in the shape
    of the output; broadcasting is undone centrally by the engine.
    """

    __slots__ = (
        "__weakref__", "_hooks", "_pre_hooks", "args", "edges", "freed_by", "metadata", "out",
        "saved", "site", "vers",
    )  # fmt: skip
    nout = 1  # number of outputs (multi-output nodes override and set `metadata`)
    materialize_grads = True  # multi-output: missing output grads become zeros

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
        return res

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
    def unpack(self, graph: bool) -> Any:
        """Saved values for backward: arrays (or Tensors when building a graph), version-checked."""
        saved = self.saved
        if saved is _FREED:
            raise self._freed_error()
        vers = self.vers
        if vers is None:
            return saved
        res = []
        for item, ver in zip(saved, vers, strict=True):
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
        return res

    def _inplace_error(
        self, arr: Any, vc: list, ver: int, output: bool, t: Any = None, nr: int = 0
    ) -> Exception:
        """torch's message, plus which op saved the tensor and which op modified it, and where."""
        tname = f"[torch.{_dtype_name(arr)} {list(arr.shape)}]"
        if output:
            who = f", which is output {nr} of {_short(self.name())},"
        elif t is not None and t.grad_fn is not None:
            who = f", which is output {t._out_nr} of {_short(t.grad_fn.name())},"
        else:
            who = ""
        mut = vc[1]
        what = "its output" if output else "an input"
        msg = (
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {tname}{who} is at version {vc[0]}; expected version {ver} "
            "instead.\n"
            f"  saved by:    {_op_name(self)} ({self.name()}), which saved {what} for backward, "
            f"at {fmt_site(self.site)}\n"
            f"  modified by: {mut[0] if mut else 'an in-place op'} at "
            f"{fmt_site(mut[1] if mut else None)}\n"
            "Hint: use the out-of-place op (e.g. `y = y + 1` instead of `y += 1`), or clone() "
            "the tensor before modifying it."
        )
        return InplaceModifiedError(msg)

    def _freed_error(self) -> Exception:
        """torch's message, plus the freed node, where it was made and which backward freed it."""
        return GraphFreedError(
            "Trying to backward through the graph a second time (or directly access saved tensors "
            "after they have already been freed). Saved intermediate values of the graph are freed "
            "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
            "to backward through the graph a second time or if you need to access saved tensors "
            f"after calling backward.\n  freed node: {self.name()} (its forward op ran at "
            f"{fmt_site(self.site)})\n  freed by:   the backward() / autograd.grad() called at "
            f"{fmt_site(getattr(self, 'freed_by', None))}\n"
            "Hint: in a training loop, recompute the forward pass each step (a tensor kept from "
            "the previous step, e.g. a running `total_loss += loss` or an RNN hidden state that "
            "was not detached, carries the old graph). If you need the same graph twice on "
            "purpose, pass retain_graph=True to the *first* call, e.g. "
            "`autograd.grad(loss, params, retain_graph=True)`; adding it blindly keeps every "
            "graph alive and leaks memory."
        )

    def release(self, where: Any) -> None:
        if self.saved:
            self.saved = _FREED
            self.freed_by = where


def _short(name: str) -> str:
    """torch names a tensor's producer without the suffix: ExpBackward0 -> Exp."""
    import re

    return re.sub(r"Backward\d*$", "", name) or name


def _op_name(node: Node) -> str:
    """The op behind a node, as users call it: ExpBackward0 -> exp, MyFnBackward -> MyFn."""
    name = node.name()
    base = name.rsplit("Backward", 1)[0] if "Backward" in name else name
    if getattr(node, "_cls", None) is not None:  # a custom Function: its class name
        return f"{base}.apply"
    return base.lower() or name


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
    # the hot path of every differentiable op: no helper calls, no per-item work that can wait
    node = _onew(cls)
    edges = []
    for x in inputs:
        if x is not None and x._rg:
            a = x._data
            edges.append((x.grad_fn or x, x._out_nr, a.shape, a.dtype))
        else:
            edges.append(None)
    node.edges = edges
    if saved:
        # the caller's tuple is kept as is (one object less per node for the GC to track) unless
        # it holds `out`, which is replaced by its array: a node never references its output
        for s in saved:
            if s is out or isinstance(s, _Tensor):
                break
        else:  # plain values only (scalars, shapes, None): nothing to version-check
            node.saved = saved
            node.vers = None
            saved = None
        if saved is not None:
            vs = []
            has_out = False
            for s in saved:
                if s is out:
                    vs.append(-1)
                    has_out = True
                elif isinstance(s, _Tensor):
                    vs.append(s._vc[0])
                else:
                    vs.append(None)
            if has_out:
                vc = out._vc
                trip = (out._data, vc, vc[0])
                saved = [trip if s is out else s for s in saved]
            node.saved = saved
            node.vers = vs
    else:
        node.saved = ()
        node.vers = None
    node.args = args
    node._hooks = node._pre_hooks = None  # read directly by the engine (no getattr fallback)
    if _PROVENANCE:  # site(3), inlined: the first frame outside ember
        f = _getframe(2)
        while f is not None and f.f_code.co_filename.startswith(_PKG):
            f = f.f_back
        node.site = None if f is None else (f.f_code, f.f_lasti)  # see site()
    else:
        node.site = None
    out._rg = True
    out.grad_fn = node
    return node


_onew = object.__new__
_getframe = sys._getframe
_Tensor: Any = None  # set by ember.tensor once the class exists (no import cycle)
