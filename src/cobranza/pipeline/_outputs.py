"""Atomic run outputs: everything is written into a staging folder, then swapped into place."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_directory(out: Path) -> Iterator[Path]:
    """Yield a staging folder beside ``out``; on success it replaces ``out`` in one rename.

    On any error the staging folder is removed and ``out`` is left as it was, so readers see
    the previous complete run or the new complete run, never a half-written one.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    staging = out.parent / f".{out.name}.staging-{token}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backup = out.parent / f".{out.name}.previous-{token}"
    if out.exists():
        out.rename(backup)
    try:
        staging.rename(out)
    except BaseException:
        if backup.exists():
            backup.rename(out)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(backup, ignore_errors=True)
