"""``ember-run`` / ``python -m ember.distributed.run``: launch a job of N ranks per node on MPI.

    ember-run --nproc-per-node 2 train.py --epochs 3
    ember-run --nproc-per-node 8 --hosts node1,node2 train.py      # 16 ranks on two nodes

torchrun's role on top of the venv's ``mpiexec``: every rank runs ``ember.distributed._bootstrap``,
which sets ``RANK``/``LOCAL_RANK``/``WORLD_SIZE``/``LOCAL_WORLD_SIZE``/``MASTER_ADDR``/
``MASTER_PORT`` and makes an exception on any rank abort the job. The environment gets settings
measured to matter on CPU (each only if not already set): one BLAS/OpenMP thread per rank
(``--threads-per-rank``; more threads per rank slowed compute 2.5-3.7x), ``MALLOC_MMAP_MAX_=0``
(messages above 32 MiB otherwise lose half their bandwidth), MPICH's heavy yield when there
are more ranks than cores, and unbuffered output (buffered prints die with an aborted rank).
The exit code is the first failing rank's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

__all__ = ["main", "build_command", "find_mpiexec"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")  # fmt: skip


def find_mpiexec() -> str:
    """The ``mpiexec`` next to this Python (the venv's, from the mpich wheel), else on PATH."""
    here = Path(sys.executable).parent / "mpiexec"
    if here.exists():
        return str(here)
    found = shutil.which("mpiexec")
    if found is None:
        raise SystemExit(
            "ember-run: mpiexec not found next to this Python or on PATH. Install the "
            "distributed extra: pip install 'ember[distributed]' (mpi4py and mpich)"
        )
    return found


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ember-run", description="Launch a distributed ember job on MPI (torchrun-like).",
    )  # fmt: skip
    p.add_argument("--nproc-per-node", "--nproc_per_node", dest="nproc", type=int, default=1,
                   help="ranks per node (default 1)")  # fmt: skip
    hosts = p.add_mutually_exclusive_group()
    hosts.add_argument("--hosts", help="comma-separated host names: one node each")
    hosts.add_argument("--hostfile", help="a file of host names, one per line")
    p.add_argument("--nnodes", type=int, default=None,
                   help="number of nodes (default: from --hosts/--hostfile, else 1)")  # fmt: skip
    p.add_argument("--master-addr", "--master_addr", dest="master_addr", default=None)
    p.add_argument("--master-port", "--master_port", dest="master_port", type=int, default=None)
    p.add_argument("--threads-per-rank", type=int, default=1,
                   help="BLAS/OpenMP threads per rank (default 1; a variable already set in "
                        "the environment wins)")  # fmt: skip
    p.add_argument("--mpiexec", default=None, help="mpiexec to use (default: the venv's)")
    p.add_argument("-m", "--module", action="store_true",
                   help="run the target as a module (python -m target)")  # fmt: skip
    p.add_argument("--no-python", "--no_python", dest="no_python", action="store_true",
                   help="run the target as a program, without Python")  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help="print the mpiexec command and exit")
    p.add_argument("target", help="the training script (or module with -m)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the script")
    return p


def _hosts(opts: argparse.Namespace) -> list[str]:
    if opts.hosts:
        return [h.strip() for h in opts.hosts.split(",") if h.strip()]
    if opts.hostfile:
        lines = Path(opts.hostfile).read_text().splitlines()
        return [
            ln.split("#")[0].split(":")[0].split()[0] for ln in lines if ln.split("#")[0].strip()
        ]
    return []


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_command(opts: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The mpiexec command line and the environment for it."""
    if opts.nproc < 1:
        raise SystemExit(f"ember-run: --nproc-per-node must be >= 1, got {opts.nproc}")
    hosts = _hosts(opts)
    nnodes = opts.nnodes or max(len(hosts), 1)
    if hosts and nnodes != len(hosts):
        raise SystemExit(f"ember-run: --nnodes {nnodes} but {len(hosts)} hosts were given")
    cmd = [opts.mpiexec or find_mpiexec(), "-n", str(opts.nproc * nnodes), "-ppn", str(opts.nproc)]
    if opts.hosts:
        cmd += ["-hosts", ",".join(hosts)]
    elif opts.hostfile:
        cmd += ["-f", opts.hostfile]
    if opts.no_python:
        cmd += [opts.target, *opts.args]
    else:
        cmd += [sys.executable, "-m", "ember.distributed._bootstrap"]
        cmd += (["-m"] if opts.module else []) + [opts.target, *opts.args]
    env = dict(os.environ)
    for var in _THREAD_VARS:
        env.setdefault(var, str(opts.threads_per_rank))
    env.setdefault("MALLOC_MMAP_MAX_", "0")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if opts.nproc * opts.threads_per_rank > (os.cpu_count() or 1):
        env.setdefault("MPIR_CVAR_ENABLE_HEAVY_YIELD", "1")
    env["MASTER_ADDR"] = opts.master_addr or (hosts[0] if hosts else "127.0.0.1")
    env["MASTER_PORT"] = str(opts.master_port or _free_port())
    return cmd, env


def main(argv: list[str] | None = None) -> int:
    """Run the job; returns the exit code of the first rank that failed (0 if none did)."""
    opts = _parser().parse_args(argv)
    if opts.args and opts.args[0] == "--":
        opts.args = opts.args[1:]
    cmd, env = build_command(opts)
    if opts.dry_run:
        print(" ".join(cmd))
        return 0
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # mpiexec got the same SIGINT and forwards it to the ranks
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
