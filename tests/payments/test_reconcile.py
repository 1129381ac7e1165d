"""Reconciliation rules on hand-made cases, on both engines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from cobranza import ConfigError
from cobranza.engine import Engine
from cobranza.payments import partner_transactions_table
from cobranza.payments.reconcile import (
    MATCH_COLUMNS,
    ReconcileConfig,
    Reconciliation,
    load_reconcile_config,
    reconcile,
)

AS_OF = dt.date(2026, 10, 31)
MX = ZoneInfo("America/Mexico_City")

PAYMENTS_SCHEMA = pa.schema(
    [
        ("payment_id", pa.string()), ("loan_id", pa.string()),
        ("paid_at", pa.timestamp("us", tz="UTC")), ("amount", pa.decimal128(18, 2)),
        ("channel", pa.string()), ("partner_id", pa.string()), ("reference", pa.string()),
        ("status", pa.string()),
    ]
)  # fmt: skip

_line = iter(range(1, 10**6))


def tx(
    partner: str,
    external_id: str,
    day: dt.date,
    amount: str,
    reference: str | None = None,
    *,
    fee: str | None = None,
    rail: str = "spei",
    status: str = "settled",
    account: str | None = None,
    source_file: str = "f.json",
) -> dict[str, Any]:
    """One partner transaction row (partner_transactions)."""
    return {
        "partner_id": partner, "rail": rail, "external_id": external_id, "value_date": day,
        "booking_date": day, "booked_at": None, "amount": Decimal(amount),
        "fee": None if fee is None else Decimal(fee), "currency": "MXN",
        "reference": reference, "account": account, "status": status,
        "source_file": source_file, "source_line": next(_line),
    }  # fmt: skip


def pay(
    payment_id: str,
    loan_id: str,
    day: dt.date,
    amount: str,
    partner: str,
    reference: str | None = None,
    *,
    channel: str = "spei",
    status: str = "settled",
) -> dict[str, Any]:
    """One lender payment (contract payments), paid at noon Mexico City time on ``day``."""
    paid_at = dt.datetime.combine(day, dt.time(12), MX).astimezone(dt.UTC)
    return {
        "payment_id": payment_id, "loan_id": loan_id, "paid_at": paid_at,
        "amount": Decimal(amount), "channel": channel, "partner_id": partner,
        "reference": reference, "status": status,
    }  # fmt: skip


def run(
    engine: Engine,
    txs: list[dict[str, Any]],
    pays: list[dict[str, Any]],
    *,
    manual: list[tuple[str, str, str]] | None = None,
    references: list[tuple[str, str]] | None = None,
    settlement_days: dict[str, int] | None = None,
    config: ReconcileConfig | None = None,
) -> Reconciliation:
    """Register the rows on ``engine`` and reconcile them as of AS_OF."""
    engine.register_arrow("t_partner", partner_transactions_table(txs))
    engine.register_arrow("t_payments", pa.Table.from_pylist(pays, schema=PAYMENTS_SCHEMA))
    loans = sorted({p["loan_id"] for p in pays} | {f"L{n:07d}" for n in range(1, 10)})
    engine.register_arrow("t_loans", pa.table({"loan_id": loans}))
    kwargs: dict[str, Any] = {}
    if manual is not None:
        engine.register_arrow(
            "t_manual",
            pa.table(dict(zip(("partner_id", "external_id", "payment_id"),
                              map(list, zip(*manual, strict=True)), strict=True))),
        )  # fmt: skip
        kwargs["manual_matches"] = engine.table("t_manual")
    if references is not None:
        ref, loan = zip(*references, strict=True)
        engine.register_arrow("t_refs", pa.table({"reference": list(ref), "loan_id": list(loan)}))
        kwargs["references"] = engine.table("t_refs")
    return reconcile(
        engine, engine.table("t_partner"), engine.table("t_payments"), AS_OF,
        loans=engine.table("t_loans"), settlement_days=settlement_days, config=config, **kwargs,
    )  # fmt: skip


def rows(engine: Engine, table: Any, *keys: str) -> list[dict[str, Any]]:
    out = engine.fetch(table).to_pylist()
    return sorted(out, key=lambda r: tuple(str(r[k]) for k in keys))


def pairs(engine: Engine, rec: Reconciliation) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["external_id"], r["payment_id"]): r for r in engine.fetch(rec.matches).to_pylist()}


D = dt.date(2026, 10, 20)


def test_exact_reference_oxxo_spei_numeric_and_clabe(engine: Engine) -> None:
    txs = [
        tx("OXXO", "ch_1", D, "500.00", "93000012345678", rail="oxxo", fee="17.50"),
        tx("STP", "R1", D, "250.00", "5"),  # numeric SPEI reference: loan L0000005
        tx("STP", "R2", D + dt.timedelta(days=1), "300.00", None, account="646180157000000012"),
    ]
    pays = [
        pay("P1", "L0000001", D, "500.00", "OXXO", "93000012345678", channel="oxxo"),
        pay("P2", "L0000005", D, "250.00", "STP", "0000005"),
        pay("P3", "L0000007", D, "300.00", "STP", None),
    ]
    rec = run(engine, txs, pays, references=[("646180157000000012", "L0000007")])
    got = pairs(engine, rec)
    assert set(got) == {("ch_1", "P1"), ("R1", "P2"), ("R2", "P3")}
    for row in got.values():
        assert row["rule"] == "exact_reference"
        assert row["confidence"] == 1.0
        assert row["match_status"] == "matched"
        assert row["difference"] == 0
        assert row["mismatch_field"] is None
    assert got[("R2", "P3")]["lag_days"] == 1
    assert list(engine.fetch(rec.matches).column_names) == list(MATCH_COLUMNS)
    assert engine.fetch(rec.unmatched_transactions).num_rows == 0
    assert engine.fetch(rec.unmatched_payments).num_rows == 0


def test_fee_tolerance_and_date_window_rules(engine: Engine) -> None:
    txs = [
        tx("CARD", "net", D, "97.10", "L0000001", fee="2.90", rail="card"),
        tx("STP", "close", D, "1000.50", "L0000002"),
        tx("STP", "late", D, "400.00", "L0000003"),
    ]
    pays = [
        pay("P1", "L0000001", D, "100.00", "CARD", "L0000001", channel="card"),
        pay("P2", "L0000002", D, "1000.00", "STP", "L0000002"),
        pay("P3", "L0000003", D - dt.timedelta(days=20), "400.00", "STP", "L0000003"),
    ]
    got = pairs(engine, run(engine, txs, pays))
    net = got[("net", "P1")]
    assert (net["rule"], net["amount_basis"], net["difference"]) == ("net_of_fee", "net_plus_fee",
                                                                      0)  # fmt: skip
    close = got[("close", "P2")]
    assert close["rule"] == "amount_tolerance"
    assert close["match_status"] == "matched"
    assert close["difference"] == Decimal("0.50")
    assert close["mismatch_field"] == "amount"
    assert "0.50" in close["mismatch_detail"]
    late = got[("late", "P3")]
    assert (late["rule"], late["lag_days"], late["confidence"]) == ("date_window", 20, 0.8)


def test_split_and_batch_settlements(engine: Engine) -> None:
    day2 = D + dt.timedelta(days=1)
    txs = [
        tx("STP", "part1", D, "60.00", "L0000001"),
        tx("STP", "part2", D, "40.00", "L0000001"),
        tx("PROSA", "LOTE1", day2, "291.30", "LOTE-PROSA-1", fee="8.70", rail="camt"),
    ]
    pays = [
        pay("P1", "L0000001", D, "100.00", "STP", "L0000001"),
        pay("P2", "L0000002", D, "100.00", "PROSA", "L0000002", channel="card"),
        pay("P3", "L0000003", D, "200.00", "PROSA", "L0000003", channel="card"),
    ]
    rec = run(engine, txs, pays)
    got = pairs(engine, rec)
    assert set(got) == {("part1", "P1"), ("part2", "P1"), ("LOTE1", "P2"), ("LOTE1", "P3")}
    assert {got[k]["rule"] for k in [("part1", "P1"), ("part2", "P1")]} == {"split"}
    assert got[("part1", "P1")]["match_group"] == got[("part2", "P1")]["match_group"]
    batch = [got[("LOTE1", "P2")], got[("LOTE1", "P3")]]
    assert {b["rule"] for b in batch} == {"batch"}
    assert batch[0]["match_group"] == batch[1]["match_group"]
    assert {b["amount_basis"] for b in batch} == {"net_plus_fee"}
    assert {b["difference"] for b in batch} == {0}


def test_mismatch_names_field_and_difference(engine: Engine) -> None:
    txs = [tx("STP", "short", D, "880.00", "L0000004")]
    pays = [pay("P1", "L0000004", D, "1000.00", "STP", "L0000004")]
    row = pairs(engine, run(engine, txs, pays))[("short", "P1")]
    assert row["rule"] == "reference_mismatch"
    assert row["match_status"] == "mismatch"
    assert row["mismatch_field"] == "amount"
    assert row["difference"] == Decimal("-120.00")
    assert row["mismatch_detail"] == "amount: partner amount differs from the payment by -120.00"


def test_manual_match_is_never_undone(engine: Engine) -> None:
    txs = [tx("STP", "T1", D, "100.00", "L0000001")]
    pays = [
        pay("P1", "L0000001", D, "100.00", "STP", "L0000001"),
        pay("P2", "L0000002", D, "100.00", "STP", "L0000002"),
    ]
    automatic = pairs(engine, run(engine, txs, pays))
    assert set(automatic) == {("T1", "P1")}
    rec = run(engine, txs, pays, manual=[("STP", "T1", "P2")])
    got = pairs(engine, rec)
    assert set(got) == {("T1", "P2")}
    assert got[("T1", "P2")]["rule"] == "manual"
    left = rows(engine, rec.unmatched_payments, "payment_id")
    assert [r["payment_id"] for r in left] == ["P1"]


def test_amount_date_only_for_unknown_reference_and_unique(engine: Engine) -> None:
    txs = [
        tx("STP", "U1", D, "777.00", "9999999"),
        tx("STP", "U2", D, "555.00", "9999998"),
    ]
    pays = [
        pay("P1", "L0000001", D, "777.00", "STP", "L0000001"),
        pay("P2", "L0000002", D, "555.00", "STP", "L0000002"),
        pay("P3", "L0000003", D + dt.timedelta(days=1), "555.00", "STP", "L0000003"),
    ]
    got = pairs(engine, run(engine, txs, pays))
    # U2 has two payments of its amount in the window: no guess.
    assert set(got) == {("U1", "P1")}
    assert (got[("U1", "P1")]["rule"], got[("U1", "P1")]["confidence"]) == ("amount_date", 0.6)


def test_unmatched_payments_overdue_by_partner_terms(engine: Engine) -> None:
    pays = [
        pay("P1", "L0000001", AS_OF - dt.timedelta(days=2), "100.00", "STP", "L0000001"),
        pay("P2", "L0000002", AS_OF - dt.timedelta(days=2), "100.00", "OXXO", "123",
            channel="oxxo"),
        pay("P3", "L0000003", AS_OF - dt.timedelta(days=2), "100.00", "NOMINA", "L0000003",
            channel="other"),
    ]  # fmt: skip
    txs = [tx("STP", "other", D, "1.00", "9999999")]
    rec = run(engine, txs, pays, settlement_days={"STP": 1, "OXXO": 3})
    left = {r["payment_id"]: r for r in rows(engine, rec.unmatched_payments, "payment_id")}
    # NOMINA sends no files and has no terms: out of scope.
    assert set(left) == {"P1", "P2"}
    assert (left["P1"]["days_outstanding"], left["P1"]["settlement_days"]) == (2, 1)
    assert left["P1"]["overdue"] is True
    assert left["P2"]["overdue"] is False


def test_disabled_rule_and_custom_window(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(
        "version: 1\n"
        "lookback_days: 30\n"
        "rules:\n"
        "  - name: exact_reference\n"
        "    kind: reference\n"
        "    confidence: 1.0\n"
        "    window_days: [0, 30]\n",
        encoding="utf-8",
    )
    config = load_reconcile_config(path)
    txs = [
        tx("STP", "late", D + dt.timedelta(days=9), "100.00", "L0000001"),
        tx("STP", "off", D, "99.00", "L0000002"),
    ]
    pays = [
        pay("P1", "L0000001", D, "100.00", "STP", "L0000001"),
        pay("P2", "L0000002", D, "100.00", "STP", "L0000002"),
    ]
    got = pairs(engine, run(engine, txs, pays, config=config))
    assert set(got) == {("late", "P1")}  # no tolerance rule, no mismatch rule
    assert got[("late", "P1")]["rule"] == "exact_reference"


def test_config_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(
        "lookback_days: 30\n"
        "rules:\n"
        "  - name: exact_reference\n"
        "    kind: reference\n"
        "    confidence: 1.0\n"
        "  - name: loose\n"
        "    kind: reference\n"
        "    confidence: 1.5\n"
        "    window_days: [5, 1]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_reconcile_config(path)
    message = str(err.value)
    assert message.startswith("rules.yml, ")
    assert "line 8: rules.1.confidence" in message
    path.write_text("lookback_days: 30\nrulez: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules.yml, line 2: rulez: Extra inputs"):
        load_reconcile_config(path)
    path.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules.yml, line \d+: not valid YAML"):
        load_reconcile_config(path)


def test_every_output_column_is_documented() -> None:
    from cobranza.payments.exceptions import ACTION_COLUMNS, EXCEPTION_COLUMNS, HOLD_COLUMNS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "reconciliation.md").read_text()
    sections = {
        "reconciliation_matches": MATCH_COLUMNS,
        "payment_exceptions": EXCEPTION_COLUMNS,
        "exception_actions": ACTION_COLUMNS,
        "payment_holds": HOLD_COLUMNS,
    }
    for table, columns in sections.items():
        section = doc.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
        for column in columns:
            assert f"`{column}`" in section, (table, column)


def test_an_empty_config_file_means_every_default(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("# nothing to change\n", encoding="utf-8")
    assert load_reconcile_config(path) == ReconcileConfig()
