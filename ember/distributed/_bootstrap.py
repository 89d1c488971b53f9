"""Run one rank of an ``ember-run`` job: ``python -m ember.distributed._bootstrap [-m] target ...``.

Started by mpiexec, once per rank. Sets torchrun's variables (``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``GROUP_RANK``) from MPI, then runs the script (or module)
as ``__main__``. Any exception, or ``sys.exit`` with a non-zero code, prints this rank's
traceback and aborts every rank with that exit code: plain Python under mpiexec would leave the
other ranks waiting forever.
"""

from __future__ import annotations

import os
import runpy
import sys


def _set_env() -> tuple[int, int]:
    from ember.distributed import mpi

    MPI = mpi.load_mpi()
    world = MPI.COMM_WORLD
    rank, size = world.Get_rank(), world.Get_size()
    local = world.Split_type(MPI.COMM_TYPE_SHARED, key=rank)
    nodes = world.allgather(local.Get_rank() == 0)  # node index: leaders in rank order
    node = sum(nodes[: rank + 1]) - 1 if local.Get_rank() == 0 else None
    node = local.bcast(node, root=0)
    env = {
        "RANK": rank, "WORLD_SIZE": size, "LOCAL_RANK": local.Get_rank(),
        "LOCAL_WORLD_SIZE": local.Get_size(), "GROUP_RANK": node, "NODE_RANK": node,
        "ROLE_RANK": rank, "ROLE_WORLD_SIZE": size,
    }  # fmt: skip
    os.environ.update({k: str(v) for k, v in env.items()})
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    local.Free()
    return rank, size


def _user_tb(exc: BaseException) -> BaseException:
    """Drop this module's and runpy's frames from the traceback: show the user's code only."""
    tb = exc.__traceback__
    while tb is not None and (
        tb.tb_frame.f_code.co_filename in (__file__, runpy.__file__)
        or tb.tb_frame.f_code.co_filename.startswith("<frozen runpy")
    ):
        tb = tb.tb_next
    return exc.with_traceback(tb)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    module = bool(args) and args[0] in ("-m", "--module")
    if module:
        args = args[1:]
    if not args:
        print("usage: python -m ember.distributed._bootstrap [-m] target [args...]",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    rank, size = _set_env()
    from ember.distributed import debug, mpi

    debug.install_excepthook(rank, size, mpi.abort)
    target, sys.argv = args[0], args
    code = 0
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path[0] = os.path.dirname(os.path.abspath(target))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exc:
        if exc.code is None or exc.code == 0:
            return
        if isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
        print(f"[ember.distributed] rank {rank} exited with code {code}; aborting all ranks",
              file=sys.stderr)  # fmt: skip
        mpi.abort(code)
    except BaseException as exc:  # every failure must end the whole job
        debug.report_and_abort(_user_tb(exc), rank, size, mpi.abort)


if __name__ == "__main__":
    main()
