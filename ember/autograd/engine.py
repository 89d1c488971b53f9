"""The backward engine: runs each node of the graph once, in dependency order, iteratively.

Two passes over the graph reachable from the roots: count how many edges point at each node,
then pop nodes whose count reached zero (all their gradient contributions are in) and run their
backward. Broadcasting is undone here, once, for every edge (``sum_to``), and gradients are cast
to their input's dtype, so op rules never sum for broadcasting themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.autograd import grad_mode
from ember.autograd.node import Node, fmt_site, site

__all__ = ["run_backward", "sum_to"]

_anomaly = [False]  # set by autograd.anomaly_mode


def sum_to(F: Any, g: Any, shape: tuple[int, ...], node: Any = None) -> Any:
    """Sum `g` over the axes that broadcasting expanded so that it has `shape`."""
    gshape = g.shape
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[lead:], strict=True)):
        who = f" by {node.name()}" if node is not None else ""
        raise RuntimeError(
            f"Function{who} returned an invalid gradient - got shape {tuple(gshape)} but expected "
            f"shape compatible with {tuple(shape)}"
        )
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = F.sum(g, axis=axes, keepdims=True)
    return F.reshape(g, shape) if g.shape != shape else g


def _namespace(g: Any, graph: bool) -> Any:
    if graph:
        from ember.autograd import tensor_np

        return tensor_np
    if g.__class__ is np.ndarray or isinstance(g, np.generic):
        return _NP
    from ember.autograd.array_ns import namespace

    return namespace(g)


def _wrap(arr: Any) -> Any:
    from ember.tensor import _make

    return _make(arr)


def _to_arr(g: Any, graph: bool) -> Any:
    """Hooks see Tensors; in fast mode the engine works on arrays."""
    return g if graph else g._data


def run_backward(
    roots: list[Any],
    root_grads: list[Any],
    retain_graph: bool,
    create_graph: bool,
    inputs: list[Any] | None = None,
    accumulate: bool = True,
) -> dict[int, Any]:
    """Backpropagate `root_grads` (arrays, or Tensors when `create_graph`) from `roots`.

    With `accumulate`, leaves' ``.grad`` are updated (restricted to `inputs` when given). Without,
    the gradients of `inputs` (leaves or not) are returned by id, and no ``.grad`` changes.
    """
    from ember.tensor import Tensor

    graph = create_graph
    called_at = site(3)
    # targets: a leaf Tensor, or a Node; edges are (target, output_nr, shape, np_dtype)
    capture: dict[Any, list[tuple[int, int]]] = {}  # target -> [(output_nr, id(input))]
    only: set[int] | None = None
    if inputs is not None:
        for t in inputs:
            key = t.grad_fn if t.grad_fn is not None else t
            capture.setdefault(key, []).append((t._out_nr, id(t)))
        only = {id(t) for t in inputs if t.grad_fn is None}
    captured: dict[int, Any] = {}

    deps: dict[Any, int] = {}
    buf: dict[Any, Any] = {}
    stack: list[Any] = []
    for r, g in zip(roots, root_grads, strict=True):
        tgt = r.grad_fn if r.grad_fn is not None else r
        _add_grad(buf, tgt, r._out_nr, g)
        if tgt not in deps:
            deps[tgt] = 0
            stack.append(tgt)
    # pass 1: count the edges into every reachable node
    seen = set(stack)
    while stack:
        n = stack.pop()
        if n.__class__ is Tensor or isinstance(n, Tensor):
            continue
        for e in n.edges:
            if e is None:
                continue
            t = e[0]
            if t in seen:
                deps[t] += 1
            else:
                seen.add(t)
                deps[t] = 1
                stack.append(t)
    ready = [t for t in deps if deps[t] == 0]
    prev_mode = grad_mode.state.enabled
    grad_mode.state.enabled = create_graph
    try:
        while ready:
            n = ready.pop()
            g = buf.pop(n, None)
            if isinstance(n, Tensor):  # a leaf
                if g is None:
                    continue
                if n in capture:
                    captured[id(n)] = g
                if accumulate and (only is None or id(n) in only):
                    _accumulate(n, g, graph)
                continue
            edges = n.edges
            if g is None:  # nothing flowed here: just release the dependents
                for e in edges:
                    if e is not None:
                        deps[e[0]] -= 1
                        if deps[e[0]] == 0:
                            ready.append(e[0])
                continue
            if n.nout > 1:
                g = _materialize(n, g, graph)
            pre = getattr(n, "_pre_hooks", None)
            if pre:
                g = _run_pre_hooks(n, pre, g, graph)
            if n in capture:
                for nr, tid in capture[n]:
                    captured[tid] = g[nr] if n.nout > 1 else g
            F = _namespace(g if n.nout == 1 else next(x for x in g if x is not None), graph)
            grads = n.backward(F, g, *n.unpack(graph)) if n.saved else n.backward(F, g)
            if not retain_graph:
                n.release(called_at)
            post = getattr(n, "_hooks", None)
            if post:
                grads = _run_post_hooks(post, grads, g, graph)
            if _anomaly[0]:
                _check_nan(n, grads, graph)
            for e, gi in zip(edges, grads, strict=True):
                if e is None:
                    continue
                t, nr, shape, dt = e
                if gi is not None:
                    if gi.shape != shape:
                        gi = sum_to(F, gi, shape, n)
                    gdt = gi._data.dtype if graph else gi.dtype
                    if gdt is not dt and gdt != dt:
                        gi = F.astype(gi, dt)
                    _add_grad(buf, t, nr, gi)
                d = deps[t] - 1
                deps[t] = d
                if d == 0:
                    ready.append(t)
    finally:
        grad_mode.state.enabled = prev_mode
    _ = fmt_site  # imported for error messages raised by nodes
    return captured


def _add_grad(buf: dict, t: Any, nr: int, g: Any) -> None:
    if isinstance(t, Node) and t.nout > 1:
        slot = buf.get(t)
        if slot is None:
            slot = buf[t] = [None] * t.nout
        slot[nr] = g if slot[nr] is None else slot[nr] + g
        return
    prev = buf.get(t)
    buf[t] = g if prev is None else prev + g


def _materialize(n: Node, g: list, graph: bool) -> list:
    """Multi-output nodes see zeros for outputs that got no gradient (torch's default)."""
    if all(x is not None for x in g):
        return g
    out = []
    for x, (shape, dt) in zip(g, n.metadata, strict=True):
        if x is None:
            x = np.zeros(shape, dt) if not graph else _zeros_tensor(shape, dt)
        out.append(x)
    return out


def _zeros_tensor(shape: tuple, dt: Any) -> Any:
    return _wrap(np.zeros(shape, dt))


def _accumulate(leaf: Any, g: Any, graph: bool) -> None:
    """AccumulateGrad: leaf hooks, then ``leaf.grad += g`` (a fresh array the first time)."""
    from ember.tensor import _make

    if not graph and g.__class__ is not np.ndarray and isinstance(g, np.generic):
        g = np.asarray(g)  # NumPy turns 0-d results into scalars
    hooks = getattr(leaf, "_hooks", None)
    if hooks:
        gt = g if graph else _make(g)
        for fn in list(hooks.values()):
            r = fn(gt)
            if r is not None:
                gt = r
        g = gt if graph else gt._data
    old = leaf._grad
    if graph:
        leaf._grad = g if old is None else old + g
    elif old is None:
        leaf._grad = _make(g.copy() if not _owned(g) else g)
    else:
        od = old._data
        if od.shape == g.shape and od.dtype == g.dtype and od.flags.writeable:
            od += g  # in place, as torch: references to leaf.grad see the sum
            old._vc[0] += 1
        else:
            old._data = od + g
    post = getattr(leaf, "_post_hooks", None)
    if post:
        for fn in list(post.values()):
            fn(leaf)


def _owned(g: Any) -> bool:
    # NOTE: a backward may hand the same array to several inputs (add) or a view of the incoming
    # gradient (reshape); the leaf must get an array no one else holds, so only fresh, private
    # arrays are kept without a copy.
    import sys

    return g.base is None and g.flags.writeable and sys.getrefcount(g) <= _OWNED_REFS


_OWNED_REFS = 4


def _run_pre_hooks(n: Node, pre: dict, g: Any, graph: bool) -> Any:
    from ember.tensor import _make

    multi = n.nout > 1
    for item in list(pre.values()):
        kind = item[0]
        if kind == "node":
            gs = tuple(_box(x, graph) for x in (g if multi else [g]))
            r = item[1](gs)
            if r is not None:
                r = [_to_arr(x, graph) if x is not None else None for x in r]
                g = r if multi else r[0]
        else:  # ("tensor", nr, fn) or ("retain", nr, weakref)
            nr = item[1]
            cur = g[nr] if multi else g
            if cur is None:
                continue
            if kind == "retain":
                t = item[2]()
                if t is not None:
                    val = cur if graph else cur.copy()
                    if t._grad is None:
                        t._grad = val if graph else _make(val)
                    else:
                        t._grad = t._grad + (val if graph else _make(val))
                continue
            r = item[2](_box(cur, graph))
            if r is not None:
                new = _to_arr(r, graph)
                if multi:
                    g = list(g)
                    g[nr] = new
                else:
                    g = new
    return g


def _box(x: Any, graph: bool) -> Any:
    from ember.tensor import _make

    return x if graph or x is None else _make(x)


def _run_post_hooks(post: dict, grads: tuple, g: Any, graph: bool) -> tuple:
    gin = tuple(_box(x, graph) for x in grads)
    gout = tuple(_box(x, graph) for x in (g if isinstance(g, list) else [g]))
    for fn in list(post.values()):
        r = fn(gin, gout)
        if r is not None:
            gin = tuple(r)
    return tuple(_to_arr(x, graph) if x is not None else None for x in gin)


def _check_nan(n: Node, grads: tuple, graph: bool) -> None:
    for i, gi in enumerate(grads):
        if gi is None:
            continue
        arr = gi._data if graph else gi
        if arr.dtype.kind == "f" and bool(np.isnan(arr).any()):
            raise RuntimeError(
                f"Function '{n.name()}' returned nan values in its {i}th output. The forward op "
                f"that created it ran at {fmt_site(n.site)}."
            )


class _NPNamespace:
    """NumPy plus the few helpers backward rules use that NumPy spells differently."""

    def __init__(self) -> None:
        self.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("_")})

    @staticmethod
    def astype(x: Any, dt: Any) -> Any:
        return x.astype(dt, copy=False)

    @staticmethod
    def add_at(target: Any, index: Any, values: Any) -> Any:
        np.add.at(target, index, values)
        return target


_NP = _NPNamespace()


def register_array_fn(name: str, fn: Any) -> None:
    """Add a helper to the NumPy backward namespace (and CuPy's), e.g. a special function."""
    setattr(_NP, name, fn)
    from ember.autograd import array_ns

    array_ns.extra[name] = fn
    for ns in array_ns._cache.values():
        setattr(ns, name, fn)
