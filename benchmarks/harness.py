"""Side-by-side timing: each workload runs for ember and torch interleaved (A B A B ...) in one
process, so both see the same machine state. Reports median/min per step and the median of the
per-pair ratios ember/torch.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Result:
    name: str
    unit: str
    ember_median: float
    ember_min: float
    torch_median: float | None = None
    torch_min: float | None = None
    ratio: float | None = None  # median of per-pair ember/torch ratios
    target: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio <= self.target


def time_call(fn: Callable[[], Any], inner: int) -> float:
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def compare(
    name: str,
    ember_fn: Callable[[], Any],
    torch_fn: Callable[[], Any] | None,
    *,
    inner: int = 10,
    rounds: int = 15,
    warmup: int = 3,
    scale: float = 1e3,
    unit: str = "ms",
    target: float | None = None,
) -> Result:
    """Interleave ember and torch timings; `scale` converts seconds per call to `unit`."""
    for _ in range(warmup):
        ember_fn()
        if torch_fn is not None:
            torch_fn()
    es, ts, ratios = [], [], []
    for _ in range(rounds):
        e = time_call(ember_fn, inner) * scale
        es.append(e)
        if torch_fn is not None:
            t = time_call(torch_fn, inner) * scale
            ts.append(t)
            ratios.append(e / t)
    r = Result(name, unit, statistics.median(es), min(es), target=target)
    if ts:
        r.torch_median, r.torch_min = statistics.median(ts), min(ts)
        r.ratio = statistics.median(ratios)
    return r


def table(results: list[Result]) -> str:
    head = f"{'workload':<34} {'ember med':>10} {'ember min':>10} {'torch med':>10} {'torch min':>10} {'ratio':>7} {'target':>7}  met"
    lines = [head, "-" * len(head)]
    for r in results:
        f = lambda v: f"{v:10.3f}" if v is not None else f"{'-':>10}"
        ratio = f"{r.ratio:7.2f}" if r.ratio is not None else f"{'-':>7}"
        tgt = f"{r.target:7.2f}" if r.target is not None else f"{'-':>7}"
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        lines.append(
            f"{r.name + ' (' + r.unit + ')':<34} {f(r.ember_median)} {f(r.ember_min)} {f(r.torch_median)} {f(r.torch_min)} {ratio} {tgt}  {met}"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import os

    import numpy as np

    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def dump(results: list[Result], path: str) -> None:
    with open(path, "w") as f:
        json.dump(
            {"machine": machine(), "results": [asdict(r) | {"met": r.met} for r in results]},
            f,
            indent=2,
        )
