"""Payment exceptions: root causes, ageing, auto-resolution with its audit log, holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
from test_reconcile import AS_OF, pay, run, tx

from cobranza.contract import MONEY
from cobranza.engine import Engine
from cobranza.payments.exceptions import (
    ACTION_COLUMNS,
    APPLIED_PAYMENT_COLUMNS,
    EXCEPTION_COLUMNS,
    payment_exceptions,
    payment_holds,
)

D = dt.date(2026, 10, 20)
TERMS = {"STP": 1, "OXXO": 2, "PROSA": 2}


def _by_cause(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["root_cause"], []).append(r)
    return out


def test_root_causes_resolution_and_audit(engine: Engine) -> None:
    day3 = D + dt.timedelta(days=3)
    txs = [
        # unapplied SPEI credit for loan 8 (numeric reference): applied automatically
        tx("STP", "S-UNAPPLIED", D, "350.00", "8"),
        # unapplied OXXO credit for a known cash reference: open, the loan is held
        tx("OXXO", "ch_unapplied", D, "410.00", "93000000000009", rail="oxxo"),
        # a payment reported twice (second file), and a customer who paid twice
        tx("STP", "S-1", D, "100.00", "L0000001", source_file="a.json"),
        tx("STP", "S-1", D, "100.00", "L0000001", source_file="b.json"),
        tx("STP", "S-2", D, "200.00", "L0000002"),
        tx("STP", "S-3", D, "200.00", "L0000002"),
        # settled five days after the payment; the contract allows one
        tx("STP", "S-LATE", D, "300.00", "L0000003"),
        # a chargeback of a payment the lender still counts, and one it already reversed
        tx("PROSA", "CB-1", day3, "-150.00", "L0000004", rail="camt", status="reversed"),
        tx("PROSA", "CB-2", day3, "-160.00", "L0000005", rail="camt", status="reversed"),
        tx("PROSA", "LOTE", D + dt.timedelta(days=1), "310.00", "LOTE-1", rail="camt"),
        # a reference nobody knows
        tx("STP", "S-UNKNOWN", D, "999.00", "9999999"),
        # short by 80 pesos
        tx("STP", "S-SHORT", D, "420.00", "L0000006"),
    ]
    pays = [
        pay("P9", "L0000009", D - dt.timedelta(days=90), "410.00", "OXXO", "93000000000009",
            channel="oxxo"),
        pay("P1", "L0000001", D, "100.00", "STP", "L0000001"),
        pay("P2", "L0000002", D, "200.00", "STP", "L0000002"),
        pay("P3", "L0000003", D - dt.timedelta(days=5), "300.00", "STP", "L0000003"),
        pay("P4", "L0000004", D, "150.00", "PROSA", "L0000004", channel="card"),
        pay("P5", "L0000005", D, "160.00", "PROSA", "L0000005", channel="card",
            status="reversed"),
        pay("P6", "L0000006", D, "500.00", "STP", "L0000006"),
        pay("P7", "L0000007", D - dt.timedelta(days=10), "700.00", "STP", "L0000007"),
        pay("P8", "L0000007", AS_OF, "50.00", "STP", "L0000007"),
    ]  # fmt: skip
    rec = run(engine, txs, pays, settlement_days=TERMS)
    exc = payment_exceptions(rec)
    table = engine.fetch(exc.exceptions)
    assert table.column_names == list(EXCEPTION_COLUMNS)
    rows = table.to_pylist()
    by = _by_cause(rows)
    assert sorted(by) == [
        "amount_mismatch",
        "duplicate",
        "late_settlement",
        "reversal",
        "unapplied_credit",
        "unknown_reference",
        "unsettled_payment",
    ]

    unapplied = {r["external_id"]: r for r in by["unapplied_credit"]}
    spei, oxxo = unapplied["S-UNAPPLIED"], unapplied["ch_unapplied"]
    assert (spei["loan_id"], spei["status"]) == ("L0000008", "auto_resolved")
    assert spei["resolution"].startswith("apply_to_loan: reference 8 identifies loan L0000008")
    assert (oxxo["loan_id"], oxxo["status"], oxxo["resolution"]) == ("L0000009", "open", None)

    dups = {r["external_id"]: r for r in by["duplicate"]}
    assert set(dups) == {"S-1", "S-3"}
    assert "first in a.json" in dups["S-1"]["detail"]
    assert dups["S-1"]["resolution"].startswith("ignore_copy")
    assert dups["S-3"]["resolution"].startswith("flag_refund")
    assert "S-2" in dups["S-3"]["resolution"] and "P2" in dups["S-3"]["resolution"]

    (late,) = by["late_settlement"]
    assert (late["external_id"], late["payment_id"], late["status"]) == (
        "S-LATE",
        "P3",
        "auto_resolved",
    )
    assert late["detail"].startswith("value_date: settled 5 days after payment on 2026-10-15; "
                                     "contract allows 1 (4 days late)")  # fmt: skip
    (rev,) = by["reversal"]  # CB-2 reverses a payment the lender already reversed
    assert (rev["external_id"], rev["payment_id"], rev["status"]) == ("CB-1", "P4", "open")
    assert rev["detail"].startswith("status: partner reversed the payment")

    (unknown,) = by["unknown_reference"]
    assert (unknown["external_id"], unknown["loan_id"], unknown["status"]) == (
        "S-UNKNOWN",
        None,
        "open",
    )
    (short,) = by["amount_mismatch"]
    assert (short["payment_id"], short["difference"]) == ("P6", Decimal("-80.00"))
    assert short["detail"] == "amount: partner amount differs from the payment by -80.00"
    (owed,) = by["unsettled_payment"]  # P8 was paid today: still within its terms
    assert (owed["payment_id"], owed["external_id"], owed["age_days"]) == ("P7", None, 21)
    assert owed["ageing_bucket"] == "16-30"
    assert {r["detected_on"] for r in rows} == {AS_OF}

    actions = engine.fetch(exc.actions)
    assert actions.column_names == list(ACTION_COLUMNS)
    audit = {a["exception_id"]: a for a in actions.to_pylist()}
    assert set(audit) == {r["exception_id"] for r in rows}
    assert {a["actor"] for a in audit.values()} == {"auto"}
    spei_action = audit[spei["exception_id"]]
    assert spei_action["action"] == "apply_to_loan"
    assert spei_action["rule"] == "apply_known_reference"

    applied = engine.fetch(exc.applied_payments)
    assert applied.column_names == list(APPLIED_PAYMENT_COLUMNS)
    assert applied.schema.field("amount").type == pa.decimal128(MONEY.precision, MONEY.scale)
    (row,) = applied.to_pylist()
    assert row["payment_id"] == spei_action["applied_payment_id"]
    assert (row["loan_id"], row["amount"], row["channel"], row["status"]) == (
        "L0000008",
        Decimal("350.00"),
        "spei",
        "settled",
    )
    assert row["paid_at"].astimezone(dt.UTC) == dt.datetime(2026, 10, 20, 6, tzinfo=dt.UTC)

    holds = engine.fetch(payment_holds(exc.exceptions)).to_pylist()
    assert holds == [{"loan_id": "L0000009", "reason": "unapplied_credit",
                      "source_id": oxxo["exception_id"], "since": D, "until": None}]  # fmt: skip


def test_ageing_buckets(engine: Engine) -> None:
    ages = [0, 2, 3, 7, 8, 15, 16, 30, 31, 59]
    txs = [tx("STP", f"U{a}", AS_OF - dt.timedelta(days=a), "1.00", "9999999") for a in ages]
    rec = run(engine, txs, [pay("P1", "L0000001", D, "5.00", "STP", "L0000001")])
    rows = engine.fetch(payment_exceptions(rec).exceptions).to_pylist()
    got = {r["external_id"]: (r["age_days"], r["ageing_bucket"]) for r in rows
           if r["root_cause"] == "unknown_reference"}  # fmt: skip
    assert got == {
        "U0": (0, "0-2"), "U2": (2, "0-2"), "U3": (3, "3-7"), "U7": (7, "3-7"),
        "U8": (8, "8-15"), "U15": (15, "8-15"), "U16": (16, "16-30"), "U30": (30, "16-30"),
        "U31": (31, "31+"), "U59": (59, "31+"),
    }  # fmt: skip
