"""Reconciliation and exceptions on the real STP deposit lists of the shared data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from test_reconcile import PAYMENTS_SCHEMA, pay

from cobranza.engine import Engine
from cobranza.payments import ingest, read_store
from cobranza.payments.exceptions import payment_exceptions, payment_holds
from cobranza.payments.reconcile import reconcile

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "payment_files"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared payment files are absent")
STP = "stp-tamizi"
AUG = dt.date(2023, 8, 25)


def test_real_stp_deposits(engine: Engine, tmp_path: Path) -> None:
    files = sorted((DATA / "spei_stp").glob("deposits_*.json"))
    ingest(files, tmp_path / "store", STP)
    pays = [
        pay("P1", "L0240823", AUG, "40.00", STP, "240823"),
        pay("P2", "L7174381", dt.date(2023, 8, 28), "22833.38", STP, "7174381"),
        pay("P3", "L0747375", dt.date(2023, 8, 27), "95.00", STP, "747375"),
        pay("P4", "L0416737", dt.date(2023, 8, 28), "160.00", STP, "416737"),
        pay("P5", "L0250823", AUG, "6000.00", STP, "250823", status="reversed"),
        pay("P6", "L0999999", dt.date(2023, 8, 20), "100.00", STP, "999999"),
    ]
    loans = sorted({p["loan_id"] for p in pays} | {"L8244561"})
    engine.register_arrow("r_tx", read_store(tmp_path / "store"))
    engine.register_arrow("r_pay", pa.Table.from_pylist(pays, schema=PAYMENTS_SCHEMA))
    engine.register_arrow("r_loans", pa.table({"loan_id": loans}))
    as_of = dt.date(2023, 8, 31)
    rec = reconcile(
        engine, engine.table("r_tx"), engine.table("r_pay"), as_of,
        loans=engine.table("r_loans"), settlement_days={STP: 1},
    )  # fmt: skip
    matches = {
        (m["external_id"], m["payment_id"]): (m["rule"], m["match_status"])
        for m in engine.fetch(rec.matches).to_pylist()
    }
    assert matches == {
        ("058-25/08/2023/25-300CPWF924", "P1"): ("exact_reference", "matched"),
        ("20202347256237160030011294", "P2"): ("exact_reference", "matched"),
        ("230828070497534251I", "P3"): ("exact_reference", "matched"),
        ("230828070497193104I", "P4"): ("reference_mismatch", "mismatch"),
        ("HSBC438541", "P5"): ("reversal", "matched"),  # returned, and the lender knows
    }
    exc = payment_exceptions(rec)
    found = {
        (e["root_cause"], e["external_id"] or e["payment_id"]): e
        for e in engine.fetch(exc.exceptions).to_pylist()
    }
    assert set(found) == {
        ("amount_mismatch", "230828070497193104I"),
        ("unapplied_credit", "AMU0016929218440013495354"),
        ("unknown_reference", "KUESKI64e64e1376295"),
        ("reversal", "CUENCA224487850225"),
        ("reversal", "MBAN01002308280073291391"),
        ("reversal", "MBAN17002308280000779197"),
        ("reversal", "CUENCA04700787624"),
        ("unsettled_payment", "P6"),
    }
    assert found[("amount_mismatch", "230828070497193104I")]["difference"] == Decimal("-10.00")
    credit = found[("unapplied_credit", "AMU0016929218440013495354")]
    assert (credit["loan_id"], credit["status"]) == ("L8244561", "auto_resolved")
    owed = found[("unsettled_payment", "P6")]
    assert (owed["age_days"], owed["ageing_bucket"], owed["status"]) == (11, "8-15", "open")
    (applied,) = engine.fetch(exc.applied_payments).to_pylist()
    assert (applied["loan_id"], applied["amount"], applied["channel"]) == (
        "L8244561", Decimal("2900.00"), "spei")  # fmt: skip
    assert applied["paid_at"].astimezone(dt.UTC).date() == dt.date(2023, 8, 25)
    assert engine.fetch(payment_holds(exc.exceptions)).num_rows == 0
