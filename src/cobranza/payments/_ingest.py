"""The partner-transactions store: each file imported whole or not at all, and only once.

Layout under ``store``::

    partner_transactions/<sha256 of the file's bytes>.parquet   the rows of one file
    ingested_files.parquet                                       the manifest, one row per file

A file is identified by the SHA-256 of its bytes, so the same file sent twice, under any name, is
imported once. Each write goes to a temporary file that is then renamed over the target
(``os.replace``, atomic on POSIX), data first and manifest last: the manifest is the store's
truth, and a data file it does not list (left by a crash between the two renames) is ignored by
:func:`read_store` and rewritten, identically, by the next ingest of that file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from cobranza.payments._errors import PartnerFileError
from cobranza.payments._schema import PARTNER_TRANSACTIONS
from cobranza.payments.readers import (
    WARNINGS_KEY,
    CsvMapping,
    detect_format,
    read_partner_file,
)

__all__ = [
    "MANIFEST_SCHEMA",
    "IngestResult",
    "IngestedFile",
    "ingest",
    "read_manifest",
    "read_store",
]

MANIFEST = "ingested_files.parquet"
DATA_DIR = "partner_transactions"

MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("format", pa.string(), nullable=False),
        pa.field("partner_id", pa.string(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("warnings", pa.string(), nullable=False),  # JSON list of strings
    ]
)


@dataclass(frozen=True)
class IngestedFile:
    """What happened to one accepted file."""

    source_file: str
    sha256: str
    format: str
    rows: int
    status: Literal["ingested", "already ingested"]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class IngestResult:
    """The outcome of :func:`ingest`: accepted files in order, and the rejected ones."""

    files: tuple[IngestedFile, ...] = ()
    rejected: tuple[PartnerFileError, ...] = field(default=())

    @property
    def ingested(self) -> tuple[IngestedFile, ...]:
        return tuple(f for f in self.files if f.status == "ingested")

    @property
    def skipped(self) -> tuple[IngestedFile, ...]:
        return tuple(f for f in self.files if f.status == "already ingested")

    @property
    def rows(self) -> int:
        """Rows added to the store by this call."""
        return sum(f.rows for f in self.ingested)

    def summary(self) -> str:
        lines = [f"{f.source_file}: {f.status} ({f.rows} rows, {f.format})" for f in self.files]
        lines += [f"rejected: {error}" for error in self.rejected]
        return "\n".join(lines)


def ingest(
    paths: Sequence[Path],
    store: Path,
    partner_id: str,
    format: str | None = None,
    *,
    mapping: CsvMapping | Path | None = None,
    strict: bool = False,
    raise_on_reject: bool = True,
) -> IngestResult:
    """Import partner files into ``store``, each whole or not at all, each only once.

    Every file is tried: a malformed one is rejected without anything of it written, and the
    others are still imported (the unit of atomicity is the file, as issue #6 asks). When any
    file was rejected and ``raise_on_reject`` holds, the first rejection's PartnerFileError is
    raised after the batch, with notes naming the other rejections and what was imported, and
    the :class:`IngestResult` as its ``result`` attribute. ``strict`` also rejects files whose
    reader noticed problems it tolerates (an MT940 statement that does not balance).
    """
    store.mkdir(parents=True, exist_ok=True)
    (store / DATA_DIR).mkdir(exist_ok=True)
    files: list[IngestedFile] = []
    rejected: list[PartnerFileError] = []
    with _locked(store):
        manifest = read_manifest(store)
        known = dict(zip(manifest["sha256"].to_pylist(), manifest["format"].to_pylist(),
                         strict=True))  # fmt: skip
        for path in paths:
            try:
                done = _ingest_one(Path(path), store, partner_id, format, mapping, strict, known)
            except PartnerFileError as error:
                rejected.append(error)
                continue
            files.append(done)
            known.setdefault(done.sha256, done.format)
    result = IngestResult(tuple(files), tuple(rejected))
    if rejected and raise_on_reject:
        error = rejected[0]
        for other in rejected[1:]:
            error.add_note(f"also rejected: {other}")
        for done in files:
            error.add_note(f"{done.source_file}: {done.status} ({done.rows} rows)")
        error.result = result  # type: ignore[attr-defined]
        raise error
    return result


def _ingest_one(
    path: Path,
    store: Path,
    partner_id: str,
    format: str | None,
    mapping: CsvMapping | Path | None,
    strict: bool,
    known: dict[str, str],
) -> IngestedFile:
    digest = _sha256(path)
    if digest in known:
        return IngestedFile(path.name, digest, known[digest], 0, "already ingested")
    name = format or detect_format(path)
    table = read_partner_file(path, partner_id, name, mapping=mapping)
    if _sha256(path) != digest:
        # The rows must come from the bytes the store is keyed by.
        raise PartnerFileError(path.name, "the file changed while it was being read")
    warnings = tuple(json.loads((table.schema.metadata or {}).get(WARNINGS_KEY.encode(), b"[]")))
    if strict and warnings:
        raise PartnerFileError(path.name, f"refused in strict mode: {warnings[0]}")
    _write_atomic(table, store / DATA_DIR / f"{digest}.parquet")
    row = {
        "sha256": [digest], "source_file": [path.name], "format": [name],
        "partner_id": [partner_id], "rows": [table.num_rows],
        "ingested_at": [datetime.now(UTC)], "warnings": [json.dumps(list(warnings))],
    }  # fmt: skip
    manifest = pa.concat_tables([read_manifest(store), pa.table(row, schema=MANIFEST_SCHEMA)])
    _write_atomic(manifest, store / MANIFEST)
    return IngestedFile(path.name, digest, name, table.num_rows, "ingested", warnings)


def read_manifest(store: Path) -> pa.Table:
    """The manifest of ``store`` (empty when nothing was ingested yet)."""
    path = store / MANIFEST
    if not path.exists():
        return MANIFEST_SCHEMA.empty_table()
    return pq.read_table(path, schema=MANIFEST_SCHEMA)


def read_store(store: Path) -> pa.Table:
    """Every row of every file the manifest lists, in ingestion order."""
    manifest = read_manifest(store)
    tables = [
        pq.read_table(store / DATA_DIR / f"{digest}.parquet", schema=PARTNER_TRANSACTIONS)
        for digest in manifest["sha256"].to_pylist()
    ]
    if not tables:
        return PARTNER_TRANSACTIONS.empty_table()
    return pa.concat_tables(tables).replace_schema_metadata(None)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomic(table: pa.Table, target: Path) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        pq.write_table(table, temp)
        with open(temp, "rb") as written:  # noqa: PTH123 (a file descriptor is needed)
            os.fsync(written.fileno())
        Path(temp).replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)  # noqa: PTH107
        raise


@contextlib.contextmanager
def _locked(store: Path) -> Iterator[None]:
    """Hold an exclusive lock on the store, so that two ingests cannot interleave manifests."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, one writer at a time assumed
        yield
        return
    with (store / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
