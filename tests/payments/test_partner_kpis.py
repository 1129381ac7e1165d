"""Partner KPIs, latency percentiles and the defect Pareto on a hand-made month, both engines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from case_fixtures import exceptions

from builders import MX, arrow_table
from cobranza import ConfigError
from cobranza.engine import Engine
from cobranza.payments import partner_transactions_table
from cobranza.payments.partners import (
    PartnerContract,
    PartnerContracts,
    defect_pareto,
    fee_terms_table,
    load_partner_contracts,
    partner_kpis,
    partner_scorecard,
    partner_terms_table,
    sigma_level,
)

D = dt.date
SEP, OCT, NOV = D(2026, 9, 1), D(2026, 10, 1), D(2026, 11, 1)

CONTRACTS = PartnerContracts.model_validate({
    "partners": {
        "stp": {"name": "STP", "settlement_days": 1, "min_success_rate": 0.9,
                "max_exception_rate": 0.2, "fees": {"spei": {"fixed": Decimal("3.50")}}},
        "conekta": {"settlement_days": 2, "min_success_rate": 0.75, "max_exception_rate": 0.5,
                    "fees": {"oxxo": {"fixed": Decimal("10.00"), "percent": Decimal("2.9")}}},
    }
})  # fmt: skip


def _txn(partner: str, ext: str, rail: str, status: str, amount: str, fee: str | None,
         value_date: dt.date | None, **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "partner_id": partner, "rail": rail, "external_id": ext, "value_date": value_date,
        "amount": Decimal(amount), "fee": None if fee is None else Decimal(fee),
        "currency": "MXN", "status": status, "source_file": f"{partner}.json", **extra,
    }  # fmt: skip


TRANSACTIONS = partner_transactions_table([
    _txn("stp", "S1", "spei", "settled", "1000.00", "3.50", D(2026, 10, 1)),
    _txn("stp", "S2", "spei", "settled", "500.00", "4.00", D(2026, 10, 2)),  # 0.50 over
    _txn("stp", "S3", "spei", "returned", "200.00", None, D(2026, 10, 3)),
    _txn("stp", "S4", "spei", "settled", "300.00", None, D(2026, 10, 4)),  # fee unreported
    # No value or booking date: 05:30 UTC on Nov 1 is 23:30 on Oct 31 in Mexico City.
    _txn("stp", "S5", "spei", "settled", "100.00", "3.50", None,
         booked_at=dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)),
    _txn("stp", "S6", "spei", "pending", "50.00", None, D(2026, 11, 1)),
    _txn("stp", "S7", "codi", "settled", "80.00", "1.00", D(2026, 10, 5)),  # no CoDi fee agreed
    _txn("conekta", "C1", "oxxo", "settled", "1000.00", "39.00", D(2026, 10, 10)),
    # 10 + 333.33 × 2.9 % = 19.66657 → 19.67
    _txn("conekta", "C2", "oxxo", "settled", "333.33", "19.67", D(2026, 10, 11)),
    _txn("conekta", "C3", "oxxo", "rejected", "100.00", None, D(2026, 10, 12)),
    # 10 + 5.00 × 2.9 % = 10.145 → 10.15 (half up, not to even)
    _txn("conekta", "C4", "oxxo", "settled", "5.00", "10.15", D(2026, 10, 12)),
])  # fmt: skip

EXCEPTIONS = exceptions([
    {"exception_id": "X1", "partner_id": "stp", "root_cause": "unknown_reference",
     "amount": "200", "value_date": D(2026, 10, 3)},
    {"exception_id": "X2", "partner_id": "stp", "root_cause": "duplicate", "amount": "500",
     "value_date": D(2026, 10, 2), "status": "auto_resolved"},
    {"exception_id": "X3", "partner_id": "stp", "root_cause": "unsettled_payment",
     "amount": "150", "value_date": D(2026, 10, 20)},
    {"exception_id": "X4", "partner_id": "stp", "root_cause": "unapplied_credit",
     "amount": "75", "value_date": D(2026, 10, 21), "status": "auto_resolved"},
    {"exception_id": "X5", "partner_id": "conekta", "rail": "oxxo",
     "root_cause": "amount_mismatch", "amount": "333.33", "value_date": D(2026, 10, 11)},
    {"exception_id": "X6", "partner_id": "conekta", "rail": "oxxo",
     "root_cause": "late_settlement", "amount": "1000", "value_date": D(2026, 10, 10)},
    {"exception_id": "X7", "partner_id": "bbva", "rail": "camt",
     "root_cause": "unknown_reference", "amount": "-40", "value_date": D(2026, 9, 30)},
    {"exception_id": "X8", "partner_id": "stp", "root_cause": "duplicate", "amount": "300",
     "value_date": D(2026, 10, 4)},
])  # fmt: skip


def _paid(day: int, hour: int = 12, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=MX)


#: payment -> (paid_at, partner transaction that settled it)
MATCHED = {
    "P1": (_paid(30, 18, month=9), "S1"),  # Sep 30 local → Oct 1: 1 day
    "P2": (_paid(2), "S2"),  # 0
    "P3": (_paid(1), "S3"),  # returned: no settlement, no latency
    "P4": (_paid(1), "S4"),  # 3
    "P5": (_paid(31, 20), "S5"),  # 0 (both Oct 31 local)
    "P7a": (_paid(3), "S7"),  # one transfer settling two payments: 2 ...
    "P7b": (_paid(5), "S7"),  # ... and 0
    "PC1": (_paid(7), "C1"),  # 3
    "PC2": (_paid(10), "C2"),  # 1
    "PC4": (_paid(12), "C4"),  # 0
}


def _register(engine: Engine) -> dict[str, Any]:
    payments = arrow_table("payments", [
        {"payment_id": p, "loan_id": "L1", "paid_at": at, "amount": Decimal("1.00"),
         "channel": "spei", "status": "settled"}
        for p, (at, _) in MATCHED.items()
    ])  # fmt: skip
    matches = pa.table({
        "payment_id": list(MATCHED),
        "partner_id": ["conekta" if ext.startswith("C") else "stp" for _, ext in MATCHED.values()],
        "external_id": [ext for _, ext in MATCHED.values()],
    })  # fmt: skip
    tables = {
        "partner_transactions": TRANSACTIONS, "payment_exceptions": EXCEPTIONS,
        "partner_terms": partner_terms_table(CONTRACTS),
        "fee_terms": fee_terms_table(CONTRACTS), "payments": payments, "matches": matches,
    }  # fmt: skip
    for name, table in tables.items():
        engine.register_arrow(name, table)
    return {name: engine.table(name) for name in tables}


def _rows(engine: Engine, expr: Any) -> list[dict[str, Any]]:
    return engine.fetch(expr).to_pylist()


def test_partner_kpis_by_hand(engine: Engine) -> None:
    t = _register(engine)
    got = _rows(engine, partner_kpis(
        t["partner_transactions"], t["payment_exceptions"], t["partner_terms"], t["fee_terms"],
        matches=t["matches"], payments=t["payments"],
    ))  # fmt: skip
    m = Decimal
    expected = [
        # An exception of a partner without a contract and without transactions that month.
        {"month": SEP, "partner_id": "bbva", "partner_name": None, "transactions": 0,
         "settled": 0, "failed": 0, "pending": 0, "settled_amount": m(0),
         "success_rate": None, "min_success_rate": None, "success_ok": None, "matched": 0,
         "latency_p50_days": None, "latency_p95_days": None, "settlement_days": None,
         "on_time": 0, "sla_compliance": None, "exceptions": 1, "opportunities": 0,
         "exception_rate": None, "max_exception_rate": None, "exception_ok": None,
         "dpmo": None, "unmatched_amount": m(40), "fees_charged": m(0),
         "fees_expected": None, "fee_difference": None, "fees_unreported": 0},
        # Settled C1, C2, C4 of 4 final; latencies [0, 1, 3]: p50 at rank 2, p95 at rank 3.
        {"month": OCT, "partner_id": "conekta", "partner_name": None, "transactions": 4,
         "settled": 3, "failed": 1, "pending": 0, "settled_amount": m("1338.33"),
         "success_rate": 3 / 4, "min_success_rate": 0.75, "success_ok": True, "matched": 3,
         "latency_p50_days": 1, "latency_p95_days": 3, "settlement_days": 2, "on_time": 2,
         "sla_compliance": 2 / 3, "exceptions": 2, "opportunities": 4,
         "exception_rate": 2 / 4, "max_exception_rate": 0.5, "exception_ok": True,
         "dpmo": 2_000_000 / 4, "unmatched_amount": m(0), "fees_charged": m("68.82"),
         "fees_expected": m("68.82"), "fee_difference": m(0), "fees_unreported": 0},
        # S1 S2 S4 S5 S7 settled of 6 final (S6 is November); latencies [0,0,0,1,2,3]:
        # p50 at rank 3 → 0, p95 at rank ⌈5.7⌉ = 6 → 3; on time (≤ 1 day): 4 of 6.
        # 5 exceptions over 6 transactions + 1 unsettled payment = 7 opportunities.
        {"month": OCT, "partner_id": "stp", "partner_name": "STP", "transactions": 6,
         "settled": 5, "failed": 1, "pending": 0, "settled_amount": m("1980.00"),
         "success_rate": 5 / 6, "min_success_rate": 0.9, "success_ok": False, "matched": 6,
         "latency_p50_days": 0, "latency_p95_days": 3, "settlement_days": 1, "on_time": 4,
         "sla_compliance": 4 / 6, "exceptions": 5, "opportunities": 7,
         "exception_rate": 5 / 7, "max_exception_rate": 0.2, "exception_ok": False,
         "dpmo": 5_000_000 / 7, "unmatched_amount": m(350),  # X1 200 + X3 150 (open)
         "fees_charged": m("12.00"), "fees_expected": m("10.50"), "fee_difference": m("1.50"),
         "fees_unreported": 1},
        {"month": NOV, "partner_id": "stp", "partner_name": "STP", "transactions": 1,
         "settled": 0, "failed": 0, "pending": 1, "settled_amount": m(0),
         "success_rate": None, "min_success_rate": 0.9, "success_ok": None, "matched": 0,
         "latency_p50_days": None, "latency_p95_days": None, "settlement_days": 1,
         "on_time": 0, "sla_compliance": None, "exceptions": 0, "opportunities": 1,
         "exception_rate": 0.0, "max_exception_rate": 0.2, "exception_ok": True,
         "dpmo": 0.0, "unmatched_amount": m(0), "fees_charged": m(0),
         "fees_expected": m(0), "fee_difference": m(0), "fees_unreported": 0},
    ]  # fmt: skip
    assert got == expected


def test_latency_percentiles_are_nearest_rank(engine: Engine) -> None:
    # 20 pairs with latencies 0..19 days: p50 is the 10th value (9), p95 the 19th (18).
    txns = partner_transactions_table(
        _txn("stp", f"T{i}", "spei", "settled", "1.00", None, D(2026, 10, 1) + dt.timedelta(i))
        for i in range(20)
    )
    engine.register_arrow("partner_transactions", txns)
    engine.register_arrow("payment_exceptions", exceptions([]))
    engine.register_arrow("partner_terms", partner_terms_table(CONTRACTS))
    engine.register_arrow("fee_terms", fee_terms_table(CONTRACTS))
    engine.register_arrow("payments", arrow_table("payments", [
        {"payment_id": f"P{i}", "loan_id": "L1", "paid_at": _paid(1), "amount": Decimal(1),
         "channel": "spei"} for i in range(20)]))  # fmt: skip
    engine.register_arrow("matches", pa.table({
        "payment_id": [f"P{i}" for i in range(20)], "partner_id": ["stp"] * 20,
        "external_id": [f"T{i}" for i in range(20)]}))  # fmt: skip
    t = {
        n: engine.table(n)
        for n in (
            "partner_transactions",
            "payment_exceptions",
            "partner_terms",
            "fee_terms",
            "payments",
            "matches",
        )
    }
    (row,) = _rows(engine, partner_kpis(
        t["partner_transactions"], t["payment_exceptions"], t["partner_terms"], t["fee_terms"],
        matches=t["matches"], payments=t["payments"]))  # fmt: skip
    assert (row["matched"], row["latency_p50_days"], row["latency_p95_days"]) == (20, 9, 18)
    assert (row["on_time"], row["sla_compliance"]) == (2, 2 / 20)  # 0 and 1 day


def test_without_matches_latency_is_unknown(engine: Engine) -> None:
    t = _register(engine)
    rows = _rows(engine, partner_kpis(t["partner_transactions"], t["payment_exceptions"],
                                      t["partner_terms"], t["fee_terms"]))  # fmt: skip
    stp = next(r for r in rows if r["partner_id"] == "stp" and r["month"] == OCT)
    assert (stp["matched"], stp["latency_p50_days"], stp["sla_compliance"]) == (0, None, None)
    assert stp["transactions"] == 6


def test_defect_pareto_with_dpmo(engine: Engine) -> None:
    t = _register(engine)
    got = _rows(engine, defect_pareto(t["partner_transactions"], t["payment_exceptions"]))
    # October: 7 defects; 10 transactions + 1 unsettled payment = 11 opportunities.
    october = [
        ("duplicate", 2),
        ("amount_mismatch", 1),
        ("late_settlement", 1),
        ("unapplied_credit", 1),
        ("unknown_reference", 1),
        ("unsettled_payment", 1),
    ]
    running = 0
    expected = [{"month": SEP, "root_cause": "unknown_reference", "defects": 1,
                 "opportunities": 0, "dpmo": None, "share": 1.0, "cumulative_share": 1.0,
                 "rank": 1}]  # fmt: skip
    for rank, (cause, defects) in enumerate(october, start=1):
        running += defects
        expected.append({"month": OCT, "root_cause": cause, "defects": defects,
                         "opportunities": 11, "dpmo": defects * 1_000_000 / 11,
                         "share": defects / 7, "cumulative_share": running / 7,
                         "rank": rank})  # fmt: skip
    assert got == expected
    by_partner = _rows(
        engine, defect_pareto(t["partner_transactions"], t["payment_exceptions"], by_partner=True)
    )
    stp = [(r["root_cause"], r["defects"], r["opportunities"]) for r in by_partner
           if r["partner_id"] == "stp"]  # fmt: skip
    assert stp == [("duplicate", 2, 7), ("unapplied_credit", 1, 7), ("unknown_reference", 1, 7),
                   ("unsettled_payment", 1, 7)]  # fmt: skip


def test_contract_yaml_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "partners.yaml"
    path.write_text(
        "version: 1\n"
        "partners:\n"
        "  stp:\n"
        "    settlement_days: 1\n"
        "    min_success_rate: 0.98\n"
        "    max_exception_rate: 0.01\n"
        "    fees:\n"
        "      spei: {fixed: 3.505}\n"
        "      wire: {fixed: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_partner_contracts(path)
    message = str(caught.value)
    assert "partners.yaml, line 8: partners.stp.fees.spei.fixed" in message
    assert "line 9: partners.stp.fees.wire.[key]: Input should be 'spei'" in message
    path.write_text("partners:\n  stp:\n    settlement_days: 1\n    min_success_rate: 1.5\n"
                    "    max_exception_rate: 0.01\n")  # fmt: skip
    with pytest.raises(ConfigError, match=r"line 4: partners\.stp\.min_success_rate"):
        load_partner_contracts(path)
    path.write_text(
        "partners:\n  stp: {settlement_days: 1, min_success_rate: 0.98,\n"
        "        max_exception_rate: 0.01, fees: {oxxo: {percent: 2.9}}}\n"
    )
    contracts = load_partner_contracts(path)
    assert contracts.partners["stp"] == PartnerContract(
        settlement_days=1, min_success_rate=0.98, max_exception_rate=0.01,
        fees={"oxxo": {"percent": Decimal("2.9")}})  # fmt: skip
    assert fee_terms_table(contracts).to_pylist() == [
        {"partner_id": "stp", "rail": "oxxo", "fee_fixed": Decimal("0.00000"),
         "fee_rate": Decimal("0.02900")}]  # fmt: skip


def test_sigma_level_matches_the_six_sigma_table() -> None:
    # The conventional table (1.5σ shift): 3.4 DPMO is 6σ, 66,807 is 3σ, 308,538 is 2σ.
    assert sigma_level(3.4) == pytest.approx(6.0, abs=5e-3)
    assert sigma_level(66_807) == pytest.approx(3.0, abs=1e-4)
    assert sigma_level(308_538) == pytest.approx(2.0, abs=1e-4)
    assert sigma_level(0) is None and sigma_level(None) is None


def test_scorecard_page_shows_the_month(duckdb_engine: Engine, tmp_path: Path) -> None:
    t = _register(duckdb_engine)
    path = partner_scorecard(
        duckdb_engine, tmp_path / "out" / "scorecard.html", month=D(2026, 10, 15),
        transactions=t["partner_transactions"], exceptions=t["payment_exceptions"],
        contracts=CONTRACTS, matches=t["matches"], payments=t["payments"],
    )  # fmt: skip
    html = path.read_text(encoding="utf-8")
    assert "<title>Payment partner scorecard · Oct 2026</title>" in html
    # STP: 5 of 6 settled against a 90% minimum; 5 defects in 7 opportunities.
    assert '<span class="pill bad">83.3% (min 90.0%)</span>' in html
    assert "714,286" in html  # 5 × 10⁶ ÷ 7
    assert '<span class="pill bad">$1.50 MXN</span>' in html  # fees over contract
    assert "0 d / 3 d" in html  # latency p50 / p95
    # Both months of the year-over-year line, and the Pareto's top cause first.
    assert "Oct 2025" in html and html.index("Duplicate") < html.index("Amount mismatch")
    assert html.count("<svg ") == 2 and oct(path.stat().st_mode & 0o777) == "0o644"


def test_the_documented_contract_example_is_valid(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "partner-scorecards.md").read_text()
    (tmp_path / "partners.yaml").write_text(doc.split("```yaml\n", 1)[1].split("```", 1)[0])
    contracts = load_partner_contracts(tmp_path / "partners.yaml")
    assert contracts.partners["conekta"].fees["oxxo"].percent == Decimal("2.9")
    assert fee_terms_table(contracts).num_rows == 3
