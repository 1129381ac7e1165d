"""kpis and bucket_distribution on a hand-made book, arithmetic in the test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest

from builders import arrow_table, money
from cobranza.contract import TABLES, contract_schema
from cobranza.engine import Engine
from cobranza.ledger import ACCOUNT_STATE_SCHEMA, PAID_OFF, WRITTEN_OFF
from cobranza.portfolio import bucket_distribution, kpis

D = dt.date
JAN, FEB, MAR = D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)

#: loan -> loan dates, then (bucket, dpd, balance, last payment) at JAN, FEB, MAR.
State = tuple[str, int, str, dt.date | None] | None
BOOK: dict[str, tuple[dict[str, dt.date], tuple[State, State, State]]] = {
    "K1": ({}, (("current", 0, "1000", None), ("30-59", 40, "1000", None),
                ("90-119", 100, "1000", None))),
    "K2": ({}, (("current", 0, "2000", None), ("current", 0, "1800", None),
                ("current", 0, "1600", None))),
    # Written off in Feb.
    "K3": ({"written_off_on": D(2026, 2, 10)}, (("90-119", 95, "500", None),
           (WRITTEN_OFF, 125, "500", None), (WRITTEN_OFF, 155, "500", None))),
    # Written off in the first month: the calendar month of JAN counts.
    "K4": ({"written_off_on": D(2026, 1, 5)}, ((WRITTEN_OFF, 100, "300", None),
           (WRITTEN_OFF, 128, "300", None), (WRITTEN_OFF, 159, "300", None))),
    # Written off before the first month: in no month.
    "K5": ({"written_off_on": D(2025, 12, 20)}, ((WRITTEN_OFF, 130, "200", None),
           (WRITTEN_OFF, 158, "200", None), (WRITTEN_OFF, 189, "200", None))),
    # Paid off in Feb (schedule paid in full, not closed).
    "K6": ({}, (("current", 0, "400", None), (PAID_OFF, 0, "0", D(2026, 2, 15)),
                (PAID_OFF, 0, "0", D(2026, 2, 15)))),
    # First month: paid in full in January counts, paid in full in December does not even if
    # the loan was closed in January.
    "K7": ({}, ((PAID_OFF, 0, "0", D(2026, 1, 20)),) * 3),
    "K8": ({"closed_on": D(2026, 1, 3)}, ((PAID_OFF, 0, "0", D(2025, 12, 28)),) * 3),
    # Opened and paid off within March: not in the earlier snapshots.
    "K9": ({}, (None, None, (PAID_OFF, 0, "0", D(2026, 3, 20)))),
    # Written off on a month-end: in that month, not the next.
    "K10": ({"written_off_on": MAR}, (("120-179", 150, "700", None),
            ("120-179", 178, "700", None), (WRITTEN_OFF, 209, "700", None))),
    "K11": ({"written_off_on": FEB}, (("60-89", 60, "250", None),
            (WRITTEN_OFF, 88, "250", None), (WRITTEN_OFF, 119, "250", None))),
}  # fmt: skip


@pytest.fixture
def book(engine: Engine) -> tuple[ibis.Table, ibis.Table]:
    rows = []
    for loan_id, (_, states) in BOOK.items():
        for as_of, state in zip((JAN, FEB, MAR), states, strict=True):
            if state is not None:
                bucket, dpd, balance, paid = state
                status = bucket if bucket in (PAID_OFF, WRITTEN_OFF) else "active"
                rows.append(dict(as_of=as_of, loan_id=loan_id, status=status, dpd=dpd,
                                 bucket=bucket, outstanding_principal=money(balance),
                                 last_payment_date=paid))  # fmt: skip
    schema = ACCOUNT_STATE_SCHEMA.to_pyarrow()
    snapshots = pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)
    loans = arrow_table("loans", [
        dict(loan_id=loan_id, customer_id="C1", product="installment", opened_on=D(2025, 6, 1),
             principal=money(5000), frequency="monthly", term=12, **dates)
        for loan_id, (dates, _) in BOOK.items()
    ])  # fmt: skip
    engine.register_arrow("snapshots", snapshots)
    engine.register_arrow("loans", loans)
    return (
        ibis.table(ACCOUNT_STATE_SCHEMA, name="snapshots"),
        ibis.table(contract_schema(TABLES["loans"]), name="loans"),
    )


def fetch(engine: Engine, expr: ibis.Table) -> list[dict[str, Any]]:
    table = engine.fetch(expr)
    assert [(f.name, f.type) for f in table.schema] == [
        (f.name, f.type) for f in expr.schema().to_pyarrow()
    ]
    return table.to_pylist()


def share(part: int | str, whole: int | str) -> float:
    return float(Decimal(part)) / float(Decimal(whole))


def test_kpis_per_month_end(engine: Engine, book: tuple[ibis.Table, ibis.Table]) -> None:
    expr = kpis(*book)
    assert expr.schema() == ibis.schema(
        {"month": "date", "loans": "int64", "balance": "decimal(18,2)",
         "balance_30_plus": "decimal(18,2)", "balance_90_plus": "decimal(18,2)",
         "imor": "float64", "written_off_loans": "int64",
         "written_off_balance": "decimal(18,2)", "paid_off_loans": "int64"}
    )  # fmt: skip
    got = {r.pop("month"): r for r in fetch(engine, expr)}
    expected = {
        # Active K1 1000, K2 2000, K3 500 (95 dpd), K6 400, K10 700 (150), K11 250 (60).
        # Written off: K4 (Jan 5); K5 was in December. Paid off: K7; K8 was paid in December.
        JAN: dict(loans=6, balance="4850", balance_30_plus="1450", balance_90_plus="1200",
                  written_off_loans=1, written_off_balance="300", paid_off_loans=1),
        # Active K1 1000 (40), K2 1800, K10 700 (178). Written off K3 500, K11 250 (on FEB
        # itself). Paid off K6.
        FEB: dict(loans=3, balance="3500", balance_30_plus="1700", balance_90_plus="700",
                  written_off_loans=2, written_off_balance="750", paid_off_loans=1),
        # Active K1 1000 (100), K2 1600. Written off K10 (on MAR); K11 on FEB is not in
        # (FEB, MAR]. Paid off K9, opened in March.
        MAR: dict(loans=2, balance="2600", balance_30_plus="1000", balance_90_plus="1000",
                  written_off_loans=1, written_off_balance="700", paid_off_loans=1),
    }  # fmt: skip
    assert set(got) == set(expected)
    for month, want in expected.items():
        for column in ("balance", "balance_30_plus", "balance_90_plus", "written_off_balance"):
            want[column] = money(want[column])
        want["imor"] = share(want["balance_90_plus"], want["balance"])
        assert got[month] == want, month
    assert got[FEB]["imor"] == 0.2


def test_bucket_distribution_of_the_open_book(
    engine: Engine, book: tuple[ibis.Table, ibis.Table]
) -> None:
    expr = bucket_distribution(book[0])
    assert expr.schema().names == (
        "month", "bucket", "loans", "balance", "loans_share", "balance_share",
    )  # fmt: skip
    got = {(r["month"], r["bucket"]): r for r in fetch(engine, expr)}
    # (loans, balance); month totals JAN 6 / 4850, FEB 3 / 3500, MAR 2 / 2600.
    expected = {
        (JAN, "current"): (3, "3400"),  # K1, K2, K6
        (JAN, "60-89"): (1, "250"),
        (JAN, "90-119"): (1, "500"),
        (JAN, "120-179"): (1, "700"),
        (FEB, "current"): (1, "1800"),
        (FEB, "30-59"): (1, "1000"),
        (FEB, "120-179"): (1, "700"),
        (MAR, "current"): (1, "1600"),
        (MAR, "90-119"): (1, "1000"),
    }
    totals = {JAN: (6, "4850"), FEB: (3, "3500"), MAR: (2, "2600")}
    assert set(got) == set(expected)
    for (month, bucket), (loans, balance) in expected.items():
        row = got[(month, bucket)]
        month_loans, month_balance = totals[month]
        assert (row["loans"], row["balance"]) == (loans, money(balance))
        assert row["loans_share"] == share(loans, month_loans)
        assert row["balance_share"] == share(balance, month_balance)
