"""Folders that appear whole or not at all: written into a staging folder, swapped into place."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_directory(out: str | Path, *, replace: bool) -> Iterator[Path]:
    """Yield a staging folder beside ``out``; on success it becomes ``out`` in one rename.

    With ``replace`` a previous ``out`` is swapped out and deleted only after the new one is in
    place; without it an existing non-empty ``out`` is refused up front with
    :class:`FileExistsError`, because silently deleting a user's folder is worse than an error.
    On any error the staging folder is removed and ``out`` is left as it was, so readers see
    the previous complete folder or the new complete one, never a half-written one.
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not replace and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not an empty directory")
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary folder
    backup = staging.with_name(staging.name.replace(".staging-", ".previous-"))
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
