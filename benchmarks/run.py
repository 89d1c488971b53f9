"""The benchmark suite: ``python -m benchmarks.run [--quick] [--json out.json]``.

Each workload runs for ember and (when installed) torch, interleaved in one process, and the
table reports median/min per step, the median of per-pair ratios ember/torch and the target.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

from benchmarks import bench_dispatch, workloads
from benchmarks.harness import Result, compare, dump, machine, table


def gemm_gflops() -> float:
    """NumPy's float32 GEMM rate on this machine (1024^3), the ceiling ember's compute sees."""
    a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
    a @ a
    t = time.perf_counter()
    for _ in range(5):
        a @ a
    return 2 * 1024**3 * 5 / (time.perf_counter() - t) / 1e9


def import_time(mod: str) -> float:
    code = f"import time; t=time.perf_counter(); import {mod}; print(time.perf_counter()-t)"
    vals = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        vals.append(float(out.stdout.strip()))
    return min(vals)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer rounds (for a smoke run)")
    p.add_argument("--json", default="benchmarks/results.json")
    p.add_argument("--only", default=None, help="comma-separated workload names (W1,W2,...)")
    args = p.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(2)
    except ImportError:
        torch = None
    import ember

    rounds = 5 if args.quick else 15
    sel = set(args.only.split(",")) if args.only else None

    def want(name: str) -> bool:
        return sel is None or name in sel

    results: list[Result] = []
    gf = gemm_gflops()
    if want("W5"):
        results += bench_dispatch.run(torch)
    specs = [
        ("W1", "W1 seed MLP step", workloads.w1_seed_mlp, 200, 0.5, 0),
        (
            "W2",
            "W2 MLP 784-512-512-10 Adam",
            workloads.w2_mlp_adam,
            10,
            1.0,
            2 * 3 * 128 * (784 * 512 + 512 * 512 + 512 * 10),
        ),
        (
            "W3",
            "W3 seed CNN step",
            workloads.w3_seed_cnn,
            3,
            1.0,
            3 * 2 * 64 * (28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 3136 * 128 + 128 * 10),
        ),
        (
            "W4",
            "W4 2-block transformer step",
            workloads.w4_transformer,
            1,
            1.0,
            3 * 2 * 16 * 128 * (2 * (4 * 256 * 256 + 2 * 256 * 1024) + 256 * 1000)
            + 3 * 2 * 2 * 2 * 16 * 128 * 128 * 256,
        ),
        (
            "W6",
            "W6 CNN inference b256",
            workloads.w6_cnn_inference,
            2,
            1.0,
            2 * 256 * (28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 3136 * 128 + 128 * 10),
        ),
        (
            "OPT",
            "AdamW step 10M params",
            lambda lib: workloads.optimizer_step(lib, "AdamW"),
            3,
            1.0,
            0,
        ),
        (
            "OPT",
            "SGD+momentum step 10M params",
            lambda lib: workloads.optimizer_step(lib, "SGD"),
            3,
            1.0,
            0,
        ),
        ("DL", "DataLoader epoch 60k b256", workloads.dataloader_epoch, 1, 1.0, 0),
    ]
    for key, name, make, inner, target, flops in specs:
        if not want(key):
            continue
        r = compare(
            name,
            make(ember),
            make(torch) if torch else None,
            inner=inner,
            rounds=max(3, rounds // (3 if inner <= 2 else 1)),
            target=target,
        )
        if flops:
            r.extra["gflops"] = round(flops / (r.ember_median / 1e3) / 1e9, 1)
            r.extra["gflops_vs_numpy_gemm"] = round(flops / (r.ember_median / 1e3) / 1e9 / gf, 3)
        results.append(r)
        print(table([r]).splitlines()[-1], flush=True)
    if want("IMPORT"):
        ie = import_time("ember")
        it = import_time("torch") if torch else None
        results.append(
            Result(
                "import time",
                "s",
                ie,
                ie,
                it,
                it,
                (ie / it) if it else None,
                target=None,
                extra={"target_s": 0.2, "met": ie <= 0.2},
            )
        )
    if want("W4") and want("RSS"):
        # VmHWM (this process's peak RSS): ru_maxrss would carry over the parent's peak across
        # fork+exec on Linux
        code = (
            "import benchmarks.workloads as w, {lib} as L; s = w.w4_transformer(L); "
            "[s() for _ in range(2)]; "
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
        )
        rss = {}
        for lib in ("ember", "torch") if torch else ("ember",):
            out = subprocess.run(
                [sys.executable, "-c", code.format(lib=lib)],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": os.getcwd()},
            )
            rss[lib] = (
                int(out.stdout.strip().splitlines()[-1]) / 1024 if out.returncode == 0 else None
            )
        results.append(
            Result(
                "W4 peak RSS",
                "MiB",
                rss["ember"] or 0,
                rss["ember"] or 0,
                rss.get("torch"),
                rss.get("torch"),
                (rss["ember"] / rss["torch"]) if rss.get("torch") and rss["ember"] else None,
            )
        )
    print()
    print(f"machine: {machine()}  NumPy float32 GEMM: {gf:.0f} GFLOP/s")
    print(table(results))
    for r in results:
        if r.extra:
            print(f"  {r.name}: {r.extra}")
    dump(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
