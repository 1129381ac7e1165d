"""The partner-transactions store: whole files, once each, nothing of a malformed one."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

import cobranza.payments._ingest as ingest_module
from cobranza import ConfigError
from cobranza.payments import (
    PARTNER_TRANSACTIONS,
    IngestResult,
    PartnerFileError,
    ingest,
    read_manifest,
    read_store,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "payment_files"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared payment files are absent")

STP_25 = DATA / "spei_stp" / "deposits_20230825.json"
STP_28 = DATA / "spei_stp" / "deposits_20230828.json"
CAMT = DATA / "camt" / "camt053.v2.multi.statement.xml"
WRONG = DATA / "camt" / "camt053.v2.wrong.xml"


def _snapshot(store: Path) -> dict[str, str]:
    """Every file under the store with the SHA-256 of its bytes."""
    if not store.exists():
        return {}
    return {
        p.relative_to(store).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.rglob("*"))
        if p.is_file()
    }


def test_ingest_writes_each_file_and_a_manifest(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = ingest([STP_25, STP_28, CAMT], store, "stp-tamizi")
    assert [(f.source_file, f.format, f.rows, f.status) for f in result.files] == [
        ("deposits_20230825.json", "stp", 4, "ingested"),
        ("deposits_20230828.json", "stp", 7, "ingested"),
        ("camt053.v2.multi.statement.xml", "camt", 2, "ingested"),
    ]
    assert result.rows == 13 and not result.rejected
    digest = hashlib.sha256(STP_25.read_bytes()).hexdigest()
    assert (store / "partner_transactions" / f"{digest}.parquet").is_file()
    manifest = read_manifest(store).to_pylist()
    assert manifest[0]["sha256"] == digest
    assert [m["rows"] for m in manifest] == [4, 7, 2]
    assert {m["partner_id"] for m in manifest} == {"stp-tamizi"}
    table = read_store(store)
    assert table.schema.equals(PARTNER_TRANSACTIONS)
    assert table.num_rows == 13
    assert table["source_file"].to_pylist()[:4] == ["deposits_20230825.json"] * 4


def test_ingesting_twice_changes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest([STP_25, CAMT], store, "p")
    before = _snapshot(store)
    again = ingest([STP_25, CAMT], store, "p")
    assert _snapshot(store) == before  # byte-identical, manifest included
    assert [f.status for f in again.files] == ["already ingested"] * 2
    assert again.rows == 0
    # The same bytes under another name are the same file.
    copy = tmp_path / "renamed.json"
    shutil.copyfile(STP_25, copy)
    assert ingest([copy], store, "p").files[0].status == "already ingested"
    assert _snapshot(store) == before
    # And twice in one batch: once.
    fresh = tmp_path / "fresh"
    twice = ingest([STP_25, copy], fresh, "p")
    assert [f.status for f in twice.files] == ["ingested", "already ingested"]
    assert read_store(fresh).num_rows == 4


def test_a_malformed_file_raises_before_anything_is_written(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest([STP_25], store, "p")
    before = _snapshot(store)
    with pytest.raises(PartnerFileError) as caught:
        ingest([WRONG], store, "p")
    assert str(caught.value).startswith("camt053.v2.wrong.xml, line 3, element")
    assert _snapshot(store) == before
    assert read_store(store).num_rows == 4


def test_a_batch_imports_each_good_file_and_rejects_the_bad_one(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with pytest.raises(PartnerFileError) as caught:
        ingest([STP_25, STP_28, WRONG], store, "p")
    error = caught.value
    assert error.file == "camt053.v2.wrong.xml"
    result: IngestResult = error.result  # type: ignore[attr-defined]
    assert [f.source_file for f in result.ingested] == [STP_25.name, STP_28.name]
    assert "deposits_20230825.json: ingested (4 rows)" in error.__notes__
    assert read_store(store).num_rows == 11
    # Fixing nothing and sending the batch again: the good files are not imported twice.
    again = ingest([STP_25, STP_28, WRONG], store, "p", raise_on_reject=False)
    assert [f.status for f in again.files] == ["already ingested"] * 2
    assert [e.file for e in again.rejected] == ["camt053.v2.wrong.xml"]
    assert read_store(store).num_rows == 11


def test_strict_refuses_a_statement_that_does_not_balance(tmp_path: Path) -> None:
    knab = DATA / "mt940" / "jejik" / "knab.sta"
    store = tmp_path / "store"
    with pytest.raises(PartnerFileError, match=r"strict mode: knab\.sta, line 10"):
        ingest([knab], store, "bank", strict=True)
    assert read_manifest(store).num_rows == 0
    result = ingest([knab], store, "bank")
    assert result.files[0].warnings[0].startswith("knab.sta, line 10: statement 2 does not")
    assert "does not balance" in read_manifest(store)["warnings"][0].as_py()


def test_a_crash_between_data_and_manifest_leaves_the_store_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    real_write = ingest_module._write_atomic

    def crash_on_manifest(table, target):  # type: ignore[no-untyped-def]
        if target.name == ingest_module.MANIFEST:
            raise OSError("disk full")
        real_write(table, target)

    monkeypatch.setattr(ingest_module, "_write_atomic", crash_on_manifest)
    with pytest.raises(OSError, match="disk full"):
        ingest([STP_25], store, "p")
    monkeypatch.undo()
    assert read_store(store).num_rows == 0  # the orphan data file is not listed
    assert not [p for p in store.rglob(".*") if p.name != ".lock"]  # no temporary left
    assert ingest([STP_25], store, "p").files[0].status == "ingested"
    assert read_store(store).num_rows == 4


def test_csv_needs_a_mapping_and_formats_can_be_forced(tmp_path: Path) -> None:
    csv = tmp_path / "pagos.csv"
    csv.write_text("id,importe\nA,1.00\n")
    with pytest.raises(ConfigError, match="needs a column mapping"):
        ingest([csv], tmp_path / "store", "p")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("rail: cash\ncurrency: MXN\ncolumns: {external_id: id, amount: importe}\n")
    result = ingest([csv], tmp_path / "store", "p", "csv", mapping=mapping)
    assert result.files[0].rows == 1
    # A forced format that does not fit is a rejection, not a guess.
    with pytest.raises(PartnerFileError, match="line 1: not valid JSON"):
        ingest([CAMT], tmp_path / "other", "p", "stp")
