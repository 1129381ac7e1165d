"""roll_rates, roll_rate_matrix and cure_rates on a hand-made book, arithmetic in the test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest

from builders import money
from cobranza.engine import Engine
from cobranza.ledger import ACCOUNT_STATE_SCHEMA, PAID_OFF, WRITTEN_OFF
from cobranza.portfolio import cure_rates, roll_rate_matrix, roll_rates

# March is missing on purpose: February pairs with April, the next month-end present.
JAN, FEB, APR = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 4, 30)

#: loan -> (bucket, dpd, outstanding principal) at JAN, FEB, APR; None = not opened yet.
BOOK: dict[str, tuple[tuple[str, int, str] | None, ...]] = {
    "A": (("current", 0, "1000"), ("current", 0, "900"), ("current", 0, "800")),
    "B": (("current", 0, "500"), ("1-29", 10, "500"), ("30-59", 40, "500")),
    "C": (("1-29", 5, "300"), ("current", 0, "250"), (PAID_OFF, 0, "0")),
    "D": (("30-59", 35, "700"), ("60-89", 65, "700"), ("current", 0, "650")),
    "E": (("60-89", 70, "400"), ("90-119", 100, "400"), (WRITTEN_OFF, 130, "400")),
    "F": (("1-29", 20, "200"), (PAID_OFF, 0, "0"), (PAID_OFF, 0, "0")),
    "G": (None, ("current", 0, "600"), ("1-29", 15, "600")),
    "H": (("current", 0, "100"), ("current", 0, "100"), ("current", 0, "100")),
    # No balance at all: its balance shares have a zero denominator.
    "I": (("180+", 200, "0"), ("180+", 230, "0"), (WRITTEN_OFF, 290, "0")),
}


def snapshot_rows(book: dict[str, tuple[tuple[str, int, str] | None, ...]],
                  dates: tuple[dt.date, ...]) -> pa.Table:  # fmt: skip
    rows = []
    for loan_id, states in book.items():
        for as_of, state in zip(dates, states, strict=True):
            if state is None:
                continue
            bucket, dpd, balance = state
            status = bucket if bucket in (PAID_OFF, WRITTEN_OFF) else "active"
            rows.append(dict(as_of=as_of, loan_id=loan_id, status=status, dpd=dpd, bucket=bucket,
                             outstanding_principal=money(balance)))  # fmt: skip
    schema = ACCOUNT_STATE_SCHEMA.to_pyarrow()
    return pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)


@pytest.fixture
def snapshots(engine: Engine) -> ibis.Table:
    engine.register_arrow("snapshots", snapshot_rows(BOOK, (JAN, FEB, APR)))
    return ibis.table(ACCOUNT_STATE_SCHEMA, name="snapshots")


def fetch_rows(engine: Engine, expr: ibis.Table, *key: str) -> dict[tuple[Any, ...], dict]:
    table = engine.fetch(expr)
    # Types as declared (Spark also marks counts NOT NULL, which is fine).
    assert [(f.name, f.type) for f in table.schema] == [
        (f.name, f.type) for f in expr.schema().to_pyarrow()
    ]
    rows = table.to_pylist()
    by_key = {tuple(r[k] for k in key): r for r in rows}
    assert len(by_key) == len(rows), "duplicate keys"
    return by_key


def share(part: int | str, whole: int | str) -> float | None:
    """The share as the engines compute it: exact values to float, then one division."""
    return None if Decimal(whole) == 0 else float(Decimal(part)) / float(Decimal(whole))


def test_roll_rates_pair_each_open_loan_with_the_next_month_end(
    engine: Engine, snapshots: ibis.Table
) -> None:
    expr = roll_rates(snapshots)
    assert expr.schema() == ibis.schema(
        {"from_month": "date", "to_month": "date", "from_bucket": "string", "to_bucket": "string",
         "loans": "int64", "balance": "decimal(18,2)", "loans_share": "float64",
         "balance_share": "float64"}
    )  # fmt: skip
    got = fetch_rows(engine, expr, "from_month", "to_month", "from_bucket", "to_bucket")
    # (from, to, loans, balance, from-bucket loans, from-bucket balance)
    expected = {
        # JAN: current A 1000, B 500, H 100 (3 loans, 1600); 1-29 C 300, F 200 (2, 500).
        (JAN, FEB, "current", "current"): (2, "1100", 3, "1600"),  # A + H
        (JAN, FEB, "current", "1-29"): (1, "500", 3, "1600"),  # B
        (JAN, FEB, "1-29", "current"): (1, "300", 2, "500"),  # C cures
        (JAN, FEB, "1-29", PAID_OFF): (1, "200", 2, "500"),  # F pays off
        (JAN, FEB, "30-59", "60-89"): (1, "700", 1, "700"),  # D
        (JAN, FEB, "60-89", "90-119"): (1, "400", 1, "400"),  # E
        (JAN, FEB, "180+", "180+"): (1, "0", 1, "0"),  # I
        # FEB -> APR: current A 900, C 250, G 600 (opened in Feb), H 100 (4 loans, 1850);
        # F is paid off in FEB and is no from-state.
        (FEB, APR, "current", "current"): (2, "1000", 4, "1850"),  # A + H
        (FEB, APR, "current", PAID_OFF): (1, "250", 4, "1850"),  # C
        (FEB, APR, "current", "1-29"): (1, "600", 4, "1850"),  # G
        (FEB, APR, "1-29", "30-59"): (1, "500", 1, "500"),  # B
        (FEB, APR, "60-89", "current"): (1, "700", 1, "700"),  # D cures
        (FEB, APR, "90-119", WRITTEN_OFF): (1, "400", 1, "400"),  # E
        (FEB, APR, "180+", WRITTEN_OFF): (1, "0", 1, "0"),  # I
    }
    assert set(got) == set(expected)
    for key, (loans, balance, from_loans, from_balance) in expected.items():
        row = got[key]
        assert row["loans"] == loans, key
        assert row["balance"] == money(balance), key
        assert row["loans_share"] == share(loans, from_loans), key
        assert row["balance_share"] == share(balance, from_balance), key


def test_roll_rate_matrix_pools_all_month_pairs(engine: Engine, snapshots: ibis.Table) -> None:
    expr = roll_rate_matrix(roll_rates(snapshots))
    assert expr.schema().names == (
        "from_bucket", "to_bucket", "loans", "balance", "loans_share", "balance_share",
    )  # fmt: skip
    got = fetch_rows(engine, expr, "from_bucket", "to_bucket")
    # Over both months: current 3 + 4 loans, 1600 + 1850 balance; 1-29 C, F then B (3, 1000);
    # 60-89 E then D (2, 1100); 180+ I twice with no balance.
    expected = {
        ("current", "current"): (4, "2100", 7, "3450"),
        ("current", "1-29"): (2, "1100", 7, "3450"),
        ("current", PAID_OFF): (1, "250", 7, "3450"),
        ("1-29", "current"): (1, "300", 3, "1000"),
        ("1-29", PAID_OFF): (1, "200", 3, "1000"),
        ("1-29", "30-59"): (1, "500", 3, "1000"),
        ("30-59", "60-89"): (1, "700", 1, "700"),
        ("60-89", "90-119"): (1, "400", 2, "1100"),
        ("60-89", "current"): (1, "700", 2, "1100"),
        ("90-119", WRITTEN_OFF): (1, "400", 1, "400"),
        ("180+", "180+"): (1, "0", 2, "0"),
        ("180+", WRITTEN_OFF): (1, "0", 2, "0"),
    }
    assert set(got) == set(expected)
    for key, (loans, balance, from_loans, from_balance) in expected.items():
        row = got[key]
        assert (row["loans"], row["balance"]) == (loans, money(balance)), key
        assert row["loans_share"] == share(loans, from_loans), key
        assert row["balance_share"] == share(balance, from_balance), key
    assert got[("180+", "180+")]["balance_share"] is None


def test_cure_rates_count_current_and_paid_off_as_cured(
    engine: Engine, snapshots: ibis.Table
) -> None:
    expr = cure_rates(snapshots)
    assert expr.schema() == ibis.schema(
        {"from_month": "date", "to_month": "date", "from_bucket": "string", "loans": "int64",
         "cured_loans": "int64", "cure_rate": "float64", "balance": "decimal(18,2)",
         "cured_balance": "decimal(18,2)", "balance_cure_rate": "float64"}
    )  # fmt: skip
    got = fetch_rows(engine, expr, "from_month", "to_month", "from_bucket")
    # (loans, cured loans, balance, cured balance); current is no from-bucket here.
    expected = {
        (JAN, FEB, "1-29"): (2, 2, "500", "500"),  # C to current, F paid off
        (JAN, FEB, "30-59"): (1, 0, "700", "0"),  # D rolls forward
        (JAN, FEB, "60-89"): (1, 0, "400", "0"),  # E rolls forward
        (JAN, FEB, "180+"): (1, 0, "0", "0"),  # I stays; no balance
        (FEB, APR, "1-29"): (1, 0, "500", "0"),  # B
        (FEB, APR, "60-89"): (1, 1, "700", "700"),  # D cures
        (FEB, APR, "90-119"): (1, 0, "400", "0"),  # E written off: not a cure
        (FEB, APR, "180+"): (1, 0, "0", "0"),  # I written off
    }
    assert set(got) == set(expected)
    for key, (loans, cured, balance, cured_balance) in expected.items():
        row = got[key]
        assert (row["loans"], row["cured_loans"]) == (loans, cured), key
        assert (row["balance"], row["cured_balance"]) == (money(balance), money(cured_balance))
        assert row["cure_rate"] == share(cured, loans), key
        assert row["balance_cure_rate"] == share(cured_balance, balance), key
    assert got[(JAN, FEB, "180+")]["balance_cure_rate"] is None
    assert got[(JAN, FEB, "1-29")]["cure_rate"] == 1.0
