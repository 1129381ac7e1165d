"""vintages on a hand-made book: cohorts, months on book, ever-30/ever-90 that never un-count."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from builders import arrow_table, money
from cobranza.contract import TABLES, contract_schema
from cobranza.engine import Engine
from cobranza.ledger import ACCOUNT_STATE_SCHEMA, PAID_OFF, WRITTEN_OFF
from cobranza.portfolio import vintages

D = dt.date
MONTH_ENDS = (D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30))

#: loan -> (opened_on, (bucket, dpd) at each month-end; None = not opened yet)
BOOK: dict[str, tuple[dt.date, tuple[tuple[str, int] | None, ...]]] = {
    # Opened before the first snapshot: its early history is unseen, so its cohort is left out.
    "V1": (D(2025, 12, 15), (("30-59", 40), ("60-89", 70), ("90-119", 100), ("120-179", 130))),
    # Bad in Feb, cures in Mar, re-defaults past 90 in Apr: ever-30 stays from Feb on.
    "V2": (D(2026, 1, 10), (("current", 0), ("30-59", 35), ("current", 0), ("90-119", 95))),
    # Opened on the month-end itself (months on book 0 that day); pays off.
    "V3": (D(2026, 1, 31), (("current", 0), ("current", 0), (PAID_OFF, 0), (PAID_OFF, 0))),
    # Written off at 55 dpd: a write-off counts as ever-30 and ever-90.
    "V4": (D(2026, 1, 20), (("current", 0), ("1-29", 25), (WRITTEN_OFF, 55), (WRITTEN_OFF, 85))),
    # Exactly 30 dpd is ever-30; paying off later does not un-count it.
    "V5": (D(2026, 2, 3), (None, ("current", 0), ("30-59", 30), (PAID_OFF, 0))),
    # 89 dpd is ever-30 but not ever-90.
    "V6": (D(2026, 2, 27), (None, ("current", 0), ("current", 0), ("60-89", 89))),
    "V7": (D(2026, 4, 1), (None, None, None, ("current", 0))),
    # Opened after the last snapshot: in no snapshot, in no vintage.
    "V8": (D(2026, 5, 2), (None, None, None, None)),
}


def register_book(engine: Engine) -> tuple[ibis.Table, ibis.Table]:
    rows = []
    for loan_id, (_, states) in BOOK.items():
        for as_of, state in zip(MONTH_ENDS, states, strict=True):
            if state is not None:
                bucket, dpd = state
                status = bucket if bucket in (PAID_OFF, WRITTEN_OFF) else "active"
                rows.append(dict(as_of=as_of, loan_id=loan_id, status=status, dpd=dpd,
                                 bucket=bucket, outstanding_principal=money(100)))  # fmt: skip
    schema = ACCOUNT_STATE_SCHEMA.to_pyarrow()
    snapshots = pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)
    loans = arrow_table("loans", [
        dict(loan_id=loan_id, customer_id="C1", product="installment", opened_on=opened_on,
             principal=money(100), frequency="monthly", term=3)
        for loan_id, (opened_on, _) in BOOK.items()
    ])  # fmt: skip
    engine.register_arrow("snapshots", snapshots)
    engine.register_arrow("loans", loans)
    return (
        ibis.table(ACCOUNT_STATE_SCHEMA, name="snapshots"),
        ibis.table(contract_schema(TABLES["loans"]), name="loans"),
    )


def test_vintages_count_ever_bad_loans_per_cohort_and_month_on_book(engine: Engine) -> None:
    snapshots, loans = register_book(engine)
    expr = vintages(snapshots, loans)
    assert expr.schema() == ibis.schema(
        {"origination_month": "date", "months_on_book": "int32", "loans": "int64",
         "ever_30": "int64", "ever_90": "int64", "ever_30_rate": "float64",
         "ever_90_rate": "float64"}
    )  # fmt: skip
    table = engine.fetch(expr)
    assert [f.type for f in table.schema] == [f.type for f in expr.schema().to_pyarrow()]
    got = {
        (r["origination_month"], r["months_on_book"]): (
            r["loans"], r["ever_30"], r["ever_90"], r["ever_30_rate"], r["ever_90_rate"],
        )
        for r in table.to_pylist()
    }  # fmt: skip
    jan, feb, apr = D(2026, 1, 1), D(2026, 2, 1), D(2026, 4, 1)
    expected = {
        # January cohort: V2, V3, V4.
        (jan, 0): (3, 0, 0),
        (jan, 1): (3, 1, 0),  # V2 at 35 dpd
        (jan, 2): (3, 2, 1),  # V2 cured but still ever-30; V4 written off
        (jan, 3): (3, 2, 2),  # V2 at 95 dpd joins ever-90
        # February cohort: V5, V6.
        (feb, 0): (2, 0, 0),
        (feb, 1): (2, 1, 0),  # V5 at exactly 30 dpd
        (feb, 2): (2, 2, 0),  # V5 paid off (still counted), V6 at 89 dpd
        (apr, 0): (1, 0, 0),  # V7
    }
    assert set(got) == set(expected)
    for key, (n, ever_30, ever_90) in expected.items():
        assert got[key] == (n, ever_30, ever_90, ever_30 / n, ever_90 / n), key
