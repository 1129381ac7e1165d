"""Targets on hand-made loans, on both engines.

Every loan: monthly, 110 due on the 1st (installment 5 on 06-01, 6 on 07-01, 7 on 08-01),
installments 1-4 paid on their due dates (running total 440). As of 06-30 the June one is
unpaid (dpd 29, 110 past due, bucket 1-29) unless said otherwise. Windows: pay and roll look
at (06-30, 07-30], cure_30 at (06-30, 07-30], cure_60 at (06-30, 08-29].
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from builders import MX, money, monthly_loan, register
from cobranza.engine import Engine
from cobranza.features import TARGET_COLUMNS, horizon, targets

D = dt.date
AS_OF = D(2026, 6, 30)
_ids = itertools.count(1)


def pay(loan_id: str, day: dt.date | dt.datetime, amount: str) -> dict[str, Any]:
    when = day if isinstance(day, dt.datetime) else dt.datetime.combine(day, dt.time(12), MX)
    return dict(payment_id=f"P{next(_ids)}", loan_id=loan_id, paid_at=when,
                amount=money(amount), channel="spei", status="settled")  # fmt: skip


def on_time(loan_id: str, months: range) -> list[dict[str, Any]]:
    return [pay(loan_id, D(2026, m, 1), "110") for m in months]


def book() -> dict[str, list[dict[str, Any]]]:
    loans, installments, payments = [], [], []
    cases = {
        # Pays 55 on 07-05 (half the 110 past due), 275 on 08-15: running total 770 covers
        # installments 5-7 (cum due 550, 660, 770) on 08-15, the first day all due before it
        # are paid → cures on day 46. dpd 30 on 07-01 → rolls to 30-59.
        "T1": [pay("T1", D(2026, 7, 5), "55"), pay("T1", D(2026, 8, 15), "275")],
        # Pays 110 on 07-01: on 07-01 only installments 1-5 are due before → dpd 0 (cured on
        # day 1), then July's is missed: dpd 29 on 07-30 — cured within 30 days though not
        # current at the end. Never reaches 30 → no roll.
        "T2": [pay("T2", D(2026, 7, 1), "110")],
        # Current at 06-30 (June paid), misses 07-01: dpd 1 on 07-02 → rolls to 1-29.
        "T3": [pay("T3", D(2026, 6, 1), "110")],
        # Current and pays July and August on time: no roll.
        "T4": [pay("T4", D(2026, m, 1), "110") for m in (6, 7, 8)],
        # Written off on 07-10, pays 220 on 07-20: would be current on 07-20 but a written-off
        # loan does not cure. Rolls (dpd 30 on 07-01, and the write-off).
        "T5": [pay("T5", D(2026, 7, 20), "220")],
        # Current, pays on time, but written off on 07-15: the write-off is the roll.
        "T6": [pay("T6", D(2026, m, 1), "110") for m in (6, 7)],
        # Pays 220 on 07-30 (day 30): installments 5, 6 covered → cured on the last day.
        "T7": [pay("T7", D(2026, 7, 30), "220")],
        # Pays 220 at 00:30 on 07-31 in Mexico City (06:30Z): day 31 → cure_60 only, and the
        # payment falls outside the 30-day pay window.
        "T8": [pay("T8", dt.datetime(2026, 7, 31, 6, 30, tzinfo=dt.UTC), "220")],
    }
    written_off = {"T5": D(2026, 7, 10), "T6": D(2026, 7, 15)}
    for loan_id, later in cases.items():
        loan, rows = monthly_loan(loan_id, opened_on=D(2026, 1, 1), n=9)
        loan["written_off_on"] = written_off.get(loan_id)
        loans.append(loan)
        installments += rows
        payments += on_time(loan_id, range(2, 6)) + later
    return dict(loans=loans, installments=installments, payments=payments,
                customers=[dict(customer_id="C1", state="CMX")])  # fmt: skip


def test_targets_by_hand(engine: Engine) -> None:
    tables = register(engine, **book())
    table = engine.fetch(targets(tables, AS_OF))
    assert tuple(table.column_names) == TARGET_COLUMNS
    got = {r["loan_id"]: (r["pay"], r["cure_30"], r["cure_60"], r["roll"])
           for r in table.to_pylist()}  # fmt: skip
    assert {r["as_of"] for r in table.to_pylist()} == {AS_OF}
    assert got == {
        # loan: (pay, cure_30, cure_60, roll)
        "T1": (True, False, True, True),
        "T2": (True, True, True, False),
        "T3": (None, None, None, True),
        "T4": (None, None, None, False),
        "T5": (True, False, False, True),
        "T6": (None, None, None, True),
        "T7": (True, True, True, True),
        "T8": (False, False, True, True),
    }
    # T7 rolls: it was 30 days late on 07-01 (dpd 30) before paying on 07-30.


@pytest.mark.parametrize(("share", "pays"), [("0.5", True), ("0.6", False)])
def test_pay_share_is_configurable(duckdb_engine: Engine, share: str, pays: bool) -> None:
    # T1 paid 55 within 30 days against 110 past due: half, not 60 %.
    tables = register(duckdb_engine, **book())
    table = duckdb_engine.fetch(targets(tables, AS_OF, pay_share=share)).to_pylist()
    assert {r["loan_id"]: r["pay"] for r in table}["T1"] is pays


def test_pay_share_out_of_range_is_refused(duckdb_engine: Engine) -> None:
    tables = register(duckdb_engine, **book())
    with pytest.raises(ValueError, match="pay_share"):
        targets(tables, AS_OF, pay_share=0)


def test_horizon_is_sixty_days() -> None:
    assert horizon(AS_OF) == D(2026, 8, 29)
