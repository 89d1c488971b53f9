"""The backward engine: runs each node of the graph once, in dependency order, iteratively.

Two passes over the graph reachable from the roots: count how many edges point at each node,
then pop nodes whose count reached zero (all their gradient contributions are in) and run their
backward. Broadcasting is undone here, once, for every edge (``sum_to``), and gradients are cast
to their input's dtype, so op rules never sum for broadcasting themselves.

Gradients waiting for a node live in ``buf`` keyed by the node (output 0) or ``(node, i)`` for
output ``i > 0`` of a multi-output node, so the single-output hot path never builds a list.
With ``inputs`` (``backward(inputs=)``, ``autograd.grad``) only the nodes on a path to an input
run, as in torch; without, the loop has no per-node cost for that feature.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ember.autograd import grad_mode
from ember.autograd.node import _FREED, GraphFreedError, InplaceModifiedError, Node, fmt_site, site

__all__ = ["run_backward", "sum_to", "register_array_fn"]

_anomaly = [False]  # set by autograd.anomaly_mode
_nd = np.ndarray
_generic = np.generic
_getrefcount = sys.getrefcount


def sum_to(
    F: Any, g: Any, shape: tuple[int, ...], node: Any = None, edges: Any = None, edge: Any = None
) -> Any:
    """Sum `g` over the axes that broadcasting expanded so that it has `shape`."""
    gshape = tuple(g.shape)
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[lead:], strict=True)):
        who = f" {node.name()}" if node is not None else ""
        index = next((i for i, x in enumerate(edges or ()) if x is edge), 0)
        raise RuntimeError(
            f"Function{who} returned an invalid gradient at index {index} - got {list(gshape)} "
            f"but expected shape compatible with {list(shape)}"
        )
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = F.sum(g, axis=axes, keepdims=True)
    return F.reshape(g, shape) if tuple(g.shape) != shape else g


def _namespace(g: Any, graph: bool) -> Any:
    if graph:
        from ember.autograd import tensor_np

        return tensor_np
    if g.__class__ is _nd or isinstance(g, _generic):
        return _NP
    from ember.autograd.array_ns import namespace

    return namespace(g)


def _probe_refs() -> int:
    # The reference count of an array that only the engine holds, measured with the same code
    # shape as the leaf check in the loops (a local popped from a dict, then counted), so the
    # threshold follows the interpreter's refcounting (3.11 vs 3.12+ borrowed references)
    # instead of being a magic number.
    d = {0: np.empty(1)}
    g = d.pop(0)
    return _getrefcount(g)


_PRIVATE_REFS = _probe_refs()

# torch never warns about inf/nan in backward (sqrt'(0) is inf), and pytest turns NumPy's
# RuntimeWarnings into errors: backward runs with NumPy's floating-point errors ignored. The
# prepared error state is set directly (0.1 us) instead of through np.errstate (2 us).
try:
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    _QUIET = _make_extobj(all="ignore")

    def _quiet() -> Any:
        return _extobj_contextvar.set(_QUIET)

    def _loud(token: Any) -> None:
        _extobj_contextvar.reset(token)

except (ImportError, AttributeError, TypeError):  # other NumPy versions: the public API

    def _quiet() -> Any:
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def _loud(token: Any) -> None:
        token.__exit__(None, None, None)


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
    called_at = site(3)
    buf: dict[Any, Any] = {}
    deps: dict[Any, int] = {}
    stack: list[Any] = []
    for r, g in zip(roots, root_grads, strict=True):
        tgt = r.grad_fn or r
        nr = r._out_nr
        key = (tgt, nr) if nr else tgt
        prev = buf.get(key)
        buf[key] = g if prev is None else prev + g
        if tgt not in deps:
            deps[tgt] = 0
            stack.append(tgt)
    # pass 1: count the edges into every reachable node
    while stack:
        n = stack.pop()
        if not isinstance(n, Node):
            continue
        for e in n.edges:
            if e is None:
                continue
            t = e[0]
            if t in deps:
                deps[t] += 1
            else:
                deps[t] = 1
                stack.append(t)
    prev_mode = grad_mode.state.enabled
    grad_mode.state.enabled = create_graph
    quiet = _quiet()
    try:
        if inputs is None and not create_graph and not _anomaly[0] and accumulate:
            _run_fast(buf, deps, retain_graph, called_at)
            return {}
        return _run_general(buf, deps, retain_graph, create_graph, inputs, accumulate, called_at)
    finally:
        grad_mode.state.enabled = prev_mode
        _loud(quiet)


def _run_fast(buf: dict, deps: dict, retain_graph: bool, called_at: Any) -> None:
    """The common case, kept lean: arrays (no create_graph), all leaves, no anomaly checks.

    Nodes with hooks or several outputs go through `_prepare_node`; everything else is inline.
    """
    ready = [t for t in deps if deps[t] == 0]
    n = None
    grads = gi = None
    try:
        while ready:
            n = ready.pop()
            if not isinstance(n, Node):  # a leaf Tensor: AccumulateGrad
                g = buf.pop(n, None)
                if g is None:
                    continue
                if g.__class__ is not _nd:
                    g = _as_array(g)
                grads = gi = None  # drop the engine's other references before the refcount
                private = _getrefcount(g) <= _PRIVATE_REFS
                _accumulate_leaf(n, g, private)
                continue
            edges = n.edges
            if n.nout != 1 or n._pre_hooks or n._hooks:
                grads = _prepare_node(n, buf, False, retain_graph, called_at)
                if grads is None:
                    _release_deps(edges, deps, ready)
                    continue
            else:
                g = buf.pop(n, None)
                if g is None:  # nothing flowed here: just release the dependents
                    _release_deps(edges, deps, ready)
                    continue
                F = _NP if g.__class__ is _nd else _pick_ns(g, False)
                saved = n.saved
                if saved:
                    if n.vers is None and saved is not _FREED:  # plain values: no checks
                        grads = n.backward(F, g, *saved)
                    else:
                        grads = n.backward(F, g, *n.unpack(False))
                    if not retain_graph:  # Node.release, inlined
                        n.saved = _FREED
                        n.freed_by = called_at
                else:
                    grads = n.backward(F, g)
            for e, gi in zip(edges, grads, strict=True):
                if e is None:
                    continue
                t, nr, shape, dt = e
                if gi is not None:
                    if gi.shape != shape:
                        gi = sum_to(_ns(gi), gi, shape, n, edges, e)
                    if gi.dtype is not dt and gi.dtype != dt:
                        gi = _ns(gi).astype(gi, dt)
                    key = (t, nr) if nr else t
                    prev = buf.get(key)
                    buf[key] = gi if prev is None else prev + gi
                d = deps[t] - 1
                deps[t] = d
                if d == 0:
                    ready.append(t)
    except Exception as exc:
        _note(exc, n)
        raise


def _ns(g: Any) -> Any:
    return _NP if g.__class__ is _nd else _namespace(g, False)


def _prepare_node(n: Node, buf: dict, graph: bool, retain_graph: bool, called_at: Any) -> Any:
    """Gather, materialize and hook the gradients of a node, run it: its input gradients."""
    nout = n.nout
    g = buf.pop(n, None) if nout == 1 else _gather(buf, n, nout)
    if g is None:
        return None
    if nout > 1 and n.materialize_grads:
        g = _materialize(n, g, graph)
    return _call_node(n, g, graph, retain_graph, called_at)


def _call_node(n: Node, g: Any, graph: bool, retain_graph: bool, called_at: Any) -> Any:
    """Pre-hooks, the node's backward (freeing its saved values), post-hooks."""
    if n._pre_hooks:
        g = _run_pre_hooks(n, n._pre_hooks, g, graph)
    F = _NP if g.__class__ is _nd else _pick_ns(g, graph)
    if n.saved:
        grads = n.backward(F, g, *n.unpack(graph))
        if not retain_graph:
            n.saved = _FREED
            n.freed_by = called_at
    else:
        grads = n.backward(F, g)
    if n._hooks:
        grads = _run_post_hooks(n._hooks, grads, g, graph)
    if _anomaly[0]:
        _check_nan(n, grads, graph)
    return grads


def _run_general(
    buf: dict,
    deps: dict,
    retain_graph: bool,
    graph: bool,
    inputs: list | None,
    accumulate: bool,
    called_at: Any,
) -> dict[int, Any]:
    """Every feature: create_graph (Tensors), ``inputs`` (pruning, capture), anomaly checks."""
    prune = None
    capture: dict[Any, list[tuple[int, int]]] = {}
    captured: dict[int, Any] = {}
    only: set[int] | None = None
    if inputs is not None:
        prune, only = _plan(deps, inputs, accumulate, capture)
    ready = [t for t in deps if deps[t] == 0]
    n = None
    grads = gi = None
    try:
        while ready:
            n = ready.pop()
            if not isinstance(n, Node):  # a leaf Tensor: AccumulateGrad
                g = buf.pop(n, None)
                if g is None:
                    continue
                if prune is not None:
                    acc = accumulate and id(n) in only  # type: ignore[operator]
                    if not acc and n not in capture:
                        continue
                else:
                    acc = accumulate
                if not graph and g.__class__ is not _nd:
                    g = _as_array(g)
                grads = gi = None  # drop the engine's other references before the refcount
                private = not graph and _getrefcount(g) <= _PRIVATE_REFS
                hooks = getattr(n, "_hooks", None)
                if hooks:
                    g2 = _run_leaf_hooks(hooks, g, graph)
                    if g2 is not g:
                        g, private = g2, False
                if n in capture:
                    captured[id(n)] = g
                    private = False
                if acc:
                    _accumulate(n, g, graph, private)
                continue
            nout = n.nout
            g = buf.pop(n, None) if nout == 1 else _gather(buf, n, nout)
            edges = n.edges
            if g is None or (prune is not None and n not in prune):
                if g is not None and n in capture:  # an input of grad(): hooks, capture, stop
                    _capture_only(n, g, graph, capture, captured)
                _release_deps(edges, deps, ready)
                continue
            if nout > 1 and n.materialize_grads:
                g = _materialize(n, g, graph)
            if n in capture:
                for nr, tid in capture[n]:
                    captured[tid] = g[nr] if nout > 1 else g
            grads = _call_node(n, g, graph, retain_graph, called_at)
            for e, gi in zip(edges, grads, strict=True):
                if e is None:
                    continue
                t, nr, shape, dt = e
                if gi is not None:
                    if gi.shape != shape:
                        gi = sum_to(_pick_ns(gi, graph), gi, shape, n, edges, e)
                    gdt = gi._data.dtype if graph else gi.dtype
                    if gdt is not dt and gdt != dt:
                        gi = _pick_ns(gi, graph).astype(gi, dt)
                    key = (t, nr) if nr else t
                    prev = buf.get(key)
                    buf[key] = gi if prev is None else prev + gi
                d = deps[t] - 1
                deps[t] = d
                if d == 0:
                    ready.append(t)
    except Exception as exc:
        _note(exc, n)
        raise
    return captured


def _accumulate_leaf(leaf: Any, g: Any, private: bool) -> None:
    """A leaf in the fast loop: its hooks (which see Tensors), then AccumulateGrad."""
    hooks = getattr(leaf, "_hooks", None)
    if hooks:
        g2 = _run_leaf_hooks(hooks, g, False)
        if g2 is not g:
            g, private = g2, False
    _accumulate(leaf, g, False, private)


def _pick_ns(g: Any, graph: bool) -> Any:
    """The namespace for a gradient that is not a plain ndarray (Tensors, CuPy, a list)."""
    if graph:
        from ember.autograd import tensor_np

        return tensor_np
    if g.__class__ is _nd:
        return _NP
    if g.__class__ is list:  # multi-output node: the first gradient present decides
        g = next(x for x in g if x is not None)
    return _namespace(g, False)


def _as_array(g: Any) -> Any:
    # NumPy turns 0-d results into scalars; CuPy arrays pass through
    return np.asarray(g) if isinstance(g, _generic) else g


def _release_deps(edges: list, deps: dict, ready: list) -> None:
    """A node that does not run still releases the nodes it points to."""
    for e in edges:
        if e is not None:
            t = e[0]
            deps[t] -= 1
            if deps[t] == 0:
                ready.append(t)


def _gather(buf: dict, n: Node, nout: int) -> list | None:
    g = [buf.pop(n, None)]
    for i in range(1, nout):
        g.append(buf.pop((n, i), None))
    return None if all(x is None for x in g) else g


def _plan(deps: dict, inputs: list, accumulate: bool, capture: dict) -> tuple[set, set]:
    """Which nodes must run to reach `inputs` (torch's exec_info), and what to capture.

    With `accumulate` (``backward(inputs=)``), a non-leaf input's node runs (its retain_grad
    hook fills ``.grad``); without (``grad()``), its gradient is captured and the node runs only
    if another input lies beyond it.
    """
    only = set()
    targets = set()
    for t in inputs:
        fn = t.grad_fn
        if fn is None:
            only.add(id(t))
            targets.add(t)
            if not accumulate:
                capture.setdefault(t, []).append((0, id(t)))
        elif accumulate:
            targets.add(fn)
        else:
            capture.setdefault(fn, []).append((t._out_nr, id(t)))
    # a topological order (Kahn), walked backwards so every node is seen after its children
    indeg = dict(deps)
    todo = [t for t in indeg if indeg[t] == 0]
    topo = []
    while todo:
        n = todo.pop()
        topo.append(n)
        if isinstance(n, Node):
            for e in n.edges:
                if e is not None:
                    indeg[e[0]] -= 1
                    if indeg[e[0]] == 0:
                        todo.append(e[0])
    needed: set = set()
    for n in reversed(topo):
        if n in targets:
            needed.add(n)
        elif isinstance(n, Node):
            for e in n.edges:
                if e is not None and (e[0] in needed or e[0] in capture):
                    needed.add(n)
                    break
    return needed, only


def _capture_only(n: Node, g: Any, graph: bool, capture: dict, captured: dict) -> Any:
    """torch runs an unneeded input node's tensor hooks, then captures its gradient."""
    multi = n.nout > 1
    if multi and n.materialize_grads:
        g = _materialize(n, g, graph)
    if n._pre_hooks:
        g = _run_pre_hooks(n, n._pre_hooks, g, graph, tensor_only=True)
    for nr, tid in capture[n]:
        captured[tid] = g[nr] if multi else g
    return g


def _materialize(n: Node, g: list, graph: bool) -> list:
    """Multi-output nodes see zeros for outputs that got no gradient (torch's default)."""
    if all(x is not None for x in g):
        return g
    like = next(x for x in g if x is not None)
    out = []
    for x, (shape, dt) in zip(g, n.metadata, strict=True):
        if x is None and dt is not None:
            x = _zeros(like, shape, dt, graph)
        out.append(x)
    return out


def _zeros(like: Any, shape: tuple, dt: Any, graph: bool) -> Any:
    arr = like._data if graph else like
    if arr.__class__ is _nd:
        z = np.zeros(shape, dt)
    else:
        from ember.backends import xp_of

        z = xp_of(arr).zeros(shape, dt)
    if graph:
        from ember.tensor import _make

        return _make(z)
    return z


def _run_leaf_hooks(hooks: dict, g: Any, graph: bool) -> Any:
    from ember.tensor import _make

    gt = g if graph else _make(g)
    for fn in list(hooks.values()):
        r = fn(gt)
        if r is not None:
            gt = _check_hook_result(r, gt, "hook")
    return gt if graph else gt._data


def _accumulate(leaf: Any, g: Any, graph: bool, private: bool) -> None:
    """AccumulateGrad: ``leaf.grad += g`` in place, or a new ``.grad`` that owns its memory.

    `private` says the engine holds the only reference to `g` (checked with the refcount, as
    torch does with ``use_count``), so it can become ``.grad`` without a copy; any other array
    (shared with another leaf, a view, the user's ``gradient``) is copied first.
    """
    from ember.tensor import _make

    old = leaf._grad
    if graph:  # torch: clone the first time and add out of place, so the sum stays differentiable
        leaf._grad = g.clone() if old is None else old + g
    elif old is None:
        if not (private and g.base is None and _writeable(g)):
            g = g.copy()
        leaf._grad = _make(g)
    else:
        od = old._data
        if od.shape == g.shape and od.dtype == g.dtype and _writeable(od):
            od += g  # in place, as torch: references to leaf.grad see the sum
            old._vc[0] += 1
        elif od.shape == g.shape and od.dtype == g.dtype:
            old._data = od + g
        else:  # e.g. a .grad assigned with another dtype: keep its dtype, as torch's +=
            old._data = (od + g).astype(od.dtype, copy=False)
    post = getattr(leaf, "_post_hooks", None)
    if post:
        for fn in list(post.values()):
            fn(leaf)


def _run_pre_hooks(n: Node, pre: dict, g: Any, graph: bool, tensor_only: bool = False) -> Any:
    """torch's order: tensor hooks, then retain_grad, then ``grad_fn.register_prehook`` hooks."""
    from ember.tensor import _make

    multi = n.nout > 1
    items = list(pre.values())
    for kind in ("tensor", "retain", "node"):
        if tensor_only and kind == "node":
            break
        for item in items:
            if item[0] != kind:
                continue
            if kind == "node":
                gs = tuple(_box(x, graph) for x in (g if multi else [g]))
                r = item[1](gs)
                if r is not None:
                    r = tuple(r)
                    if len(r) != len(gs):
                        raise RuntimeError(
                            f"hook '{_fname(item[1])}' has returned an incorrect number of values "
                            f"(got {len(r)}, but expected {len(gs)})"
                        )
                    r = [None if x is None else _to_arr(_check_hook_result(x, y, "hook"), graph)
                         for x, y in zip(r, gs, strict=True)]  # fmt: skip
                    g = r if multi else r[0]
                continue
            nr = item[1]
            cur = g[nr] if multi else g
            if cur is None:
                continue
            if kind == "retain":
                t = item[2]()
                if t is not None:
                    val = cur.clone() if graph else _make(_as_array(cur).copy())
                    t._grad = val if t._grad is None else t._grad + val
                continue
            boxed = _box(cur, graph)
            r = item[2](boxed)
            if r is not None:
                new = _to_arr(_check_hook_result(r, boxed, "hook"), graph)
                if multi:
                    g = list(g)
                    g[nr] = new
                else:
                    g = new
    return g


def _fname(fn: Any) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _check_hook_result(r: Any, like: Any, what: str) -> Any:
    from ember.tensor import Tensor

    if not isinstance(r, Tensor):
        raise TypeError(f"expected a Tensor or None returned by the {what}, got {type(r).__name__}")
    if like is not None and r._data.shape != like._data.shape:
        raise RuntimeError(
            f"hook returned a gradient of shape {list(r._data.shape)}, but the gradient it "
            f"replaces has shape {list(like._data.shape)}"
        )
    return r


def _box(x: Any, graph: bool) -> Any:
    from ember.tensor import _make

    return x if graph or x is None else _make(_as_array(x))


def _to_arr(g: Any, graph: bool) -> Any:
    """Hooks see Tensors; in fast mode the engine works on arrays."""
    return g if graph else g._data


def _run_post_hooks(post: dict, grads: tuple, g: Any, graph: bool) -> tuple:
    gin = tuple(_box(x, graph) for x in grads)
    gout = tuple(_box(x, graph) for x in (g if isinstance(g, list) else [g]))
    for fn in list(post.values()):
        r = fn(gin, gout)
        if r is not None:
            r = tuple(r)
            if len(r) != len(gin):
                raise RuntimeError(
                    f"hook '{_fname(fn)}' has returned an incorrect number of values (got "
                    f"{len(r)}, but expected {len(gin)})"
                )
            gin = tuple(None if x is None else _check_hook_result(x, y, "hook")
                        for x, y in zip(r, gin, strict=True))  # fmt: skip
    return tuple(_to_arr(x, graph) if x is not None else None for x in gin)


def _check_nan(n: Node, grads: tuple, graph: bool) -> None:
    for i, gi in enumerate(grads):
        if gi is None:
            continue
        arr = gi._data if graph else gi
        if arr.dtype.kind in "fc" and bool((arr != arr).any()):
            err = RuntimeError(
                f"Function '{n.name()}' returned nan values in its {i}th output.\n"
                f"  The forward op that created {n.name()} ran at {fmt_site(n.site)}.\n"
                "  Hint: look for log/sqrt/division of zero or negative values at that line."
            )
            err._ember_sited = True  # type: ignore[attr-defined]
            raise err


def _note(exc: BaseException, n: Any) -> None:
    """Point an error raised by a node's backward at the forward line that created the node."""
    if not isinstance(n, Node) or isinstance(exc, InplaceModifiedError | GraphFreedError):
        return
    if getattr(exc, "_ember_sited", False) or not hasattr(exc, "add_note"):
        return
    exc._ember_sited = True  # type: ignore[attr-defined]  # noted once, by the innermost engine
    exc.add_note(
        f"(raised while running the backward of {n.name()}, whose forward op ran at "
        f"{fmt_site(getattr(n, 'site', None))})"
    )


class _NPNamespace:
    """NumPy plus the few helpers backward rules use that NumPy spells differently."""

    def __init__(self) -> None:
        self.__dict__.update({k: v for k, v in vars(np).items() if not k.startswith("_")})

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


def _writeable(a: Any) -> bool:
    """NumPy arrays can be read-only (broadcast views); CuPy arrays have no such flag."""
    return getattr(a.flags, "writeable", True)
