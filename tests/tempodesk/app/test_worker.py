"""The worker process: what it prepares before polling."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import workflows.ticket
from tempodesk.app.worker import precompile_workflow_modules


def test_workflow_modules_get_fresh_bytecode_so_the_sandbox_never_compiles_them_per_ticket() -> (
    None
):
    source = Path(workflows.ticket.__file__)
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.unlink(missing_ok=True)

    precompile_workflow_modules()

    header = cached.read_bytes()[:16]
    # A timestamp-validated .pyc of this very source: the import machinery will use it.
    assert int.from_bytes(header[4:8], "little") == 0
    assert int.from_bytes(header[8:12], "little") == int(source.stat().st_mtime) & 0xFFFFFFFF
    assert int.from_bytes(header[12:16], "little") == source.stat().st_size & 0xFFFFFFFF
