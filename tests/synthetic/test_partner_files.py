"""Synthetic partner files: read by the real readers, and reconciliation finds exactly the
injected defects (every one, nothing else) on both engines."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from cobranza.engine import Engine
from cobranza.payments import ingest, read_partner_file, read_store
from cobranza.payments.exceptions import payment_exceptions, payment_holds
from cobranza.payments.reconcile import ReconcileConfig, reconcile
from cobranza.synthetic import generate
from cobranza.synthetic._partner_files import DefectRates, write_partner_files

DAYS = 45
RATES = DefectRates(
    duplicate_report=0.2, duplicate_payment=0.2, missing_settlement=0.2, amount_mismatch=0.2,
    late_settlement=0.3, late_batch=0.2, unknown_reference=0.2, unapplied_credit=0.2,
    chargeback=0.3, split=0.3,
)  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("partner_files")
    book = generate(root / "book", 1500, 11)
    files = write_partner_files(book, root / "files", days=DAYS, seed=3, rates=RATES)
    store = root / "store"
    for partner, paths in sorted(files.files.items()):
        ingest(paths, store, partner)
    return {"book": book, "files": files, "store": store, "root": root}


def _truth(path: Path) -> set[tuple[str, str, str | None, str | None]]:
    with path.open(encoding="utf-8") as fh:
        return {
            (r["root_cause"], r["partner_id"], r["external_id"] or None, r["payment_id"] or None)
            for r in csv.DictReader(fh)
        }


def test_files_are_read_by_the_readers_and_reproducible(world: dict[str, object],
                                                        tmp_path: Path) -> None:  # fmt: skip
    files = world["files"]
    formats = {p.suffix for paths in files.files.values() for p in paths}
    assert formats == {".json", ".xml"}
    assert {"STP", "OXXO-CONEKTA", "PROSA", "BBVA-DOMI", "BBVA-VENTANILLA"} <= set(files.files)
    # Every defect kind was injected at least once.
    assert set(files.counts) == {
        "duplicate_report", "duplicate_payment", "missing_settlement", "amount_mismatch",
        "late_settlement", "late_batch", "unknown_reference", "unapplied_credit", "chargeback",
    }  # fmt: skip
    camt = read_partner_file(files.files["PROSA"][0], "PROSA")
    assert camt.num_rows >= 1
    assert all(f is not None for f in camt.column("fee").to_pylist() if f is not None)
    again = write_partner_files(world["book"], tmp_path / "again", days=DAYS, seed=3, rates=RATES)

    def digest(folder: Path) -> dict[str, str]:
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip

    assert digest(again.folder) == digest(files.folder)


def test_reconciliation_finds_every_injected_defect_and_nothing_else(
    world: dict[str, object], engine: Engine
) -> None:
    files = world["files"]
    engine.register_arrow("pf_transactions", read_store(world["store"]))
    engine.register_file("pf_payments", world["book"] / "payments.parquet")
    engine.register_file("pf_loans", world["book"] / "loans.parquet")
    rec = reconcile(
        engine, engine.table("pf_transactions"), engine.table("pf_payments").drop("_row"),
        files.as_of, loans=engine.table("pf_loans").select("loan_id"),
        settlement_days=files.settlement_days, config=ReconcileConfig(lookback_days=DAYS),
    )  # fmt: skip
    exc = payment_exceptions(rec)
    found = engine.fetch(exc.exceptions).to_pylist()
    got = {(r["root_cause"], r["partner_id"], r["external_id"], r["payment_id"]) for r in found}
    expected = _truth(files.ground_truth)
    assert len(expected) >= 20
    assert got - expected == set(), "flagged without a defect"
    assert expected - got == set(), "defect not found"
    assert len(found) == len(got)
    # Deterministic identifiers: one per exception, stable across runs of the same inputs.
    ids = sorted(r["exception_id"] for r in found)
    assert len(set(ids)) == len(ids)
    assert sorted(engine.fetch(payment_exceptions(rec).exceptions).column("exception_id")
                  .to_pylist()) == ids  # fmt: skip
    holds = engine.fetch(payment_holds(exc.exceptions)).to_pylist()
    open_credits = {r["loan_id"] for r in found
                    if r["root_cause"] == "unapplied_credit" and r["status"] == "open"}  # fmt: skip
    assert {h["loan_id"] for h in holds} == open_credits
    rec.drop()
