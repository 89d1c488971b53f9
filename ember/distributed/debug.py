"""Debugging aids: debug level, collective fingerprints, the abort-on-exception hook.

* ``DebugLevel`` as torch's (``TORCH_DISTRIBUTED_DEBUG`` or ``EMBER_DISTRIBUTED_DEBUG``, or
  ``init_process_group(debug=...)``). With ``DETAIL`` every collective first all-gathers a
  fingerprint (op, shape, dtype, reduce op, call site) and every rank raises
  ``CollectiveMismatchError`` naming the ranks that differ. Without it, only the first
  ``EMBER_DISTRIBUTED_CHECK_FIRST`` (50) collectives of each group are checked: most mismatches
  show up at once, and the cost (one small all-gather) stops after the warm-up. ``OFF`` set
  explicitly turns the warm-up checks off too.
* ``install_excepthook``: an uncaught exception on any rank prints that rank's traceback and
  aborts every rank (plain Python under mpiexec would hang the others forever).
"""

from __future__ import annotations

import enum
import hashlib
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from ember.distributed.communicator import CollectiveMismatchError, CollInfo

__all__ = [
    "DebugLevel", "get_debug_level", "set_debug_level", "set_debug_level_from_env",
    "install_excepthook", "report_and_abort", "fingerprint", "check_fingerprints",
]  # fmt: skip

_FP_BYTES = 256
_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class DebugLevel(enum.IntEnum):
    OFF = 0
    INFO = 1
    DETAIL = 2


_level: list[DebugLevel | None] = [None]  # None: not set anywhere (warm-up checks only)


def _from_text(value: Any) -> DebugLevel:
    if isinstance(value, DebugLevel):
        return value
    if isinstance(value, bool):
        return DebugLevel.DETAIL if value else DebugLevel.OFF
    try:
        return DebugLevel[str(value).strip().upper()]
    except KeyError:
        raise ValueError(
            f"invalid distributed debug level {value!r}: expected OFF, INFO or DETAIL"
        ) from None


def set_debug_level_from_env() -> None:
    """Read ``EMBER_DISTRIBUTED_DEBUG`` (else ``TORCH_DISTRIBUTED_DEBUG``)."""
    for var in ("EMBER_DISTRIBUTED_DEBUG", "TORCH_DISTRIBUTED_DEBUG"):
        value = os.environ.get(var)
        if value:
            _level[0] = _from_text(value)
            break
    _check_first[0] = int(os.environ.get("EMBER_DISTRIBUTED_CHECK_FIRST", "50"))


def set_debug_level(level: Any) -> None:
    _level[0] = _from_text(level)


def get_debug_level() -> DebugLevel:
    return DebugLevel.OFF if _level[0] is None else _level[0]


_check_first = [int(os.environ.get("EMBER_DISTRIBUTED_CHECK_FIRST", "50"))]


def checks_for(seq: int) -> bool:
    """Whether collective number `seq` of a group gets a fingerprint check."""
    level = _level[0]
    if level is None or level is DebugLevel.INFO:
        return seq <= _check_first[0]
    return level is DebugLevel.DETAIL


def call_site() -> tuple[str, int] | str:
    """(file, line) of the innermost frame outside ember (where the user called in)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_EMBER_DIR):
        f = f.f_back
    if f is None:
        return ""
    return (f.f_code.co_filename, f.f_lineno)


def fingerprint(info: CollInfo) -> np.ndarray:
    """A fixed-size record: 16-byte digest of what must agree, then a readable description."""
    rec = np.zeros(_FP_BYTES, np.uint8)
    sig = info.signature()
    digest = hashlib.blake2b(f"{info.op}|{sig}".encode(), digest_size=16).digest()
    rec[:16] = np.frombuffer(digest, np.uint8)
    text = f"{info.op}({sig}) at {info.where() or '?'}".encode()[: _FP_BYTES - 16]
    rec[16 : 16 + len(text)] = np.frombuffer(text, np.uint8)
    return rec


def check_fingerprints(records: np.ndarray, info: CollInfo) -> None:
    """Raise on every rank if the gathered fingerprints (one row per rank) differ."""
    digests = [bytes(r[:16]) for r in records]
    if all(d == digests[0] for d in digests):
        return
    by: dict[bytes, list[int]] = {}
    text: dict[bytes, str] = {}
    for i, (d, r) in enumerate(zip(digests, records, strict=True)):
        by.setdefault(d, []).append(info.ranks[i])
        text[d] = bytes(r[16:]).rstrip(b"\0").decode(errors="replace")
    lines = [f"ranks {ranks}: {text[d]}" for d, ranks in by.items()]
    err = CollectiveMismatchError(
        f"collective #{info.seq} on group {info.group!r} differs across ranks:\n  "
        + "\n  ".join(lines)
        + "\nEvery rank must call the same collectives, in the same order, with the same shapes "
        "and dtypes."
    )
    err._ember_reporter = min(info.ranks)  # type: ignore[attr-defined]  # raised on every rank
    raise err


# ------------------------------------------------------------------ abort on uncaught exceptions
_hook_state: dict[str, Any] = {}


def _emit(text: str) -> None:
    """Write `text` to stderr in one go: an aborted rank's launcher may drop the pieces of many
    small writes that are still on their way."""
    try:
        sys.stderr.flush()
        data = text.encode(errors="replace")
        fd = sys.stderr.fileno()
        while data:
            data = data[os.write(fd, data) :]
    except (AttributeError, OSError, ValueError):  # no usable file descriptor
        sys.stderr.write(text)
        sys.stderr.flush()


def report_and_abort(
    exc: BaseException, rank: int, size: int, abort: Callable[[int], None], code: int = 1
) -> None:
    """Print `exc` once for the job and end every rank."""
    try:
        reporter = getattr(exc, "_ember_reporter", None)
        if isinstance(exc, KeyboardInterrupt):
            _emit(f"[ember.distributed] rank {rank}: interrupted; aborting the job\n")
            code = 130
        elif reporter is not None and reporter != rank:
            # the same error was raised on every rank: the reporter prints it, we only wait
            _emit(
                f"[ember.distributed] rank {rank}: {type(exc).__name__} (details printed by "
                f"rank {reporter}); aborting the job\n"
            )
            time.sleep(2.0)
        else:
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            _emit(
                f"[ember.distributed] rank {rank} of {size} raised an uncaught exception; "
                f"aborting all ranks. Traceback of rank {rank}:\n{tb}"
            )
            time.sleep(0.1)  # let the launcher forward it before the abort tears things down
    finally:
        abort(code)


def install_excepthook(rank: int, size: int, abort: Callable[[int], None]) -> None:
    """Make an uncaught exception on this rank abort the whole job (once per process)."""
    _hook_state.update(rank=rank, size=size, abort=abort)
    if _hook_state.get("installed"):
        return
    _hook_state["installed"] = True
    previous = sys.excepthook

    def hook(tp: type[BaseException], value: BaseException, tb: Any) -> None:
        st = _hook_state
        if st.get("size", 1) <= 1:
            previous(tp, value, tb)
            return
        if value.__traceback__ is None:
            value = value.with_traceback(tb)
        report_and_abort(value, st["rank"], st["size"], st["abort"])

    sys.excepthook = hook
