"""The op registry: every public differentiable op has at least one OpSpec here.

Specs live in one file per op family (mirroring ember/ops/); this module collects them.
"""

from __future__ import annotations

import importlib
import pkgutil

from tests.opdb.spec import OpSpec

OPS: list[OpSpec] = []
for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _m.name.startswith("ops_"):
        OPS.extend(importlib.import_module(f"tests.opdb.{_m.name}").SPECS)

_names = [s.name for s in OPS]
assert len(_names) == len(set(_names)), "duplicate OpSpec names"
