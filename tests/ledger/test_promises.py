"""Promise status on hand-made cases, on both engines, and against the plain-Python twin.

Every expected status is worked out from the promise, the grace and the payments in the test;
the same cases go through ``promise_status_rows`` so the two implementations check each other.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from builders import MX, money, register
from cobranza.engine import Engine
from cobranza.ledger import PROMISE_STATUS_COLUMNS, promise_status, promise_status_rows

D = dt.date
Row = dict[str, Any]
_ids = itertools.count(1)


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    """Mexico City local time on ``day``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=MX)


def promise(pid: str, loan: str, made: dt.date | dt.datetime, due: dt.date, amount: str) -> Row:
    made_at = made if isinstance(made, dt.datetime) else at(made, 10)
    return dict(promise_id=pid, loan_id=loan, made_at=made_at, due_on=due,
                amount=money(amount))  # fmt: skip


def pay(loan: str, when: dt.datetime, amount: str, status: str = "settled") -> Row:
    return dict(payment_id=f"P{next(_ids):04d}", loan_id=loan, paid_at=when,
                amount=money(amount), channel="spei", status=status)  # fmt: skip


def run(engine: Engine, promises: list[Row], payments: list[Row], as_of: dt.date,
        grace: int = 2) -> dict[str, Row]:  # fmt: skip
    t = register(engine, promises=promises, payments=payments)
    expr = promise_status(t["promises"], t["payments"], as_of, grace_days=grace)
    assert tuple(expr.columns) == PROMISE_STATUS_COLUMNS
    rows = engine.fetch(expr).to_pylist()
    python = promise_status_rows(promises, payments, as_of, grace_days=grace)
    assert sorted(rows, key=lambda r: r["promise_id"]) == python
    return {r["promise_id"]: r for r in rows}


AS_OF = D(2026, 3, 10)

PROMISES = [
    promise("kept_edge", "L1", D(2026, 3, 1), D(2026, 3, 5), "100"),
    promise("broken_edge", "L2", D(2026, 3, 1), D(2026, 3, 5), "100"),
    promise("open", "L3", D(2026, 3, 1), D(2026, 3, 12), "100"),
    promise("partials", "L4", D(2026, 3, 1), D(2026, 3, 6), "100"),
    promise("not_counted", "L5", D(2026, 3, 1), D(2026, 3, 5), "100"),
    promise("before_made", "L6", D(2026, 3, 1), D(2026, 3, 5), "100"),
    promise("deadline_today", "L7", D(2026, 3, 1), D(2026, 3, 8), "100"),
    promise("future_pay", "L8", D(2026, 3, 1), D(2026, 3, 9), "100"),
    # made 2026-03-10 23:30 local = 2026-03-11 05:30 UTC: still made on the as-of day
    promise("made_late", "L9", at(D(2026, 3, 10), 23, 30), D(2026, 3, 15), "50"),
    # made 2026-03-11 00:05 local: after the as-of day, not reported
    promise("made_after", "L9", at(D(2026, 3, 11), 0, 5), D(2026, 3, 15), "50"),
]
PAYMENTS = [
    # 60 + 40, the last at 23:30 local on the last grace day (05:30 UTC the next day)
    pay("L1", at(D(2026, 3, 3)), "60"),
    pay("L1", at(D(2026, 3, 7), 23, 30), "40"),
    # the same, but the 40 arrives ten minutes after the grace ends
    pay("L2", at(D(2026, 3, 3)), "60"),
    pay("L2", at(D(2026, 3, 8), 0, 10), "40"),
    pay("L3", at(D(2026, 3, 4)), "30"),
    # 40 + 40 + 40: the running sum reaches 100 on the third payment's day
    pay("L4", at(D(2026, 3, 2)), "40"),
    pay("L4", at(D(2026, 3, 4)), "40"),
    pay("L4", at(D(2026, 3, 6)), "40"),
    pay("L5", at(D(2026, 3, 3)), "100", status="reversed"),
    pay("L5", at(D(2026, 3, 4)), "100", status="pending"),
    pay("L6", at(D(2026, 2, 28)), "100"),  # before the promise was made
    # L8: due 03-09, deadline 03-11, paid on 03-11: after the as-of date
    pay("L8", at(D(2026, 3, 11), 9), "100"),
    pay("OTHER", at(D(2026, 3, 3)), "500"),  # another loan's money never counts
]


def test_hand_cases(engine: Engine) -> None:
    got = run(engine, PROMISES, PAYMENTS, AS_OF)
    expected = {
        # pid: (status, paid_toward, resolved_on)
        "kept_edge": ("kept", "100", D(2026, 3, 7)),
        "broken_edge": ("broken", "60", D(2026, 3, 8)),  # deadline 03-07, broken from 03-08
        "open": ("open", "30", None),
        "partials": ("kept", "120", D(2026, 3, 6)),
        "not_counted": ("broken", "0", D(2026, 3, 8)),
        "before_made": ("broken", "0", D(2026, 3, 8)),
        "deadline_today": ("open", "0", None),  # deadline 03-10 = as-of: not yet broken
        "future_pay": ("open", "0", None),
        "made_late": ("open", "0", None),
    }
    assert set(got) == set(expected)
    for pid, (status, paid, resolved) in expected.items():
        row = got[pid]
        assert (row["status"], row["paid_toward"], row["resolved_on"]) == (
            status, money(paid), resolved), pid  # fmt: skip
    assert got["made_late"]["made_on"] == D(2026, 3, 10)
    assert got["kept_edge"]["made_on"] == D(2026, 3, 1)


def test_next_day_resolves_future_payment_and_deadline(engine: Engine) -> None:
    got = run(engine, PROMISES, PAYMENTS, D(2026, 3, 11))
    assert (got["future_pay"]["status"], got["future_pay"]["resolved_on"]) == (
        "kept", D(2026, 3, 11))  # fmt: skip
    assert (got["deadline_today"]["status"], got["deadline_today"]["resolved_on"]) == (
        "broken", D(2026, 3, 11))  # fmt: skip
    assert "made_after" in got


def test_grace_is_configurable(engine: Engine) -> None:
    got = run(engine, PROMISES, PAYMENTS, AS_OF, grace=0)
    # without grace the 40 paid on 03-07 is late: only 60 counted, broken on 03-06
    assert (got["kept_edge"]["status"], got["kept_edge"]["paid_toward"]) == ("broken", money(60))
    assert got["kept_edge"]["resolved_on"] == D(2026, 3, 6)
    # a payment on the due day itself counts: 40 + 40 + 40 by 03-06
    assert (got["partials"]["status"], got["partials"]["resolved_on"]) == ("kept", D(2026, 3, 6))


def test_point_in_time(engine: Engine) -> None:
    later = [
        pay("L3", at(D(2026, 3, 11)), "70"),
        pay("L2", at(D(2026, 3, 10), 23, 59) + dt.timedelta(minutes=2), "40"),
        promise("late_promise", "L3", D(2026, 3, 12), D(2026, 3, 20), "10"),
    ]
    before = run(engine, PROMISES, PAYMENTS, AS_OF)
    after = run(
        engine,
        PROMISES + [r for r in later if "promise_id" in r],
        PAYMENTS + [r for r in later if "payment_id" in r],
        AS_OF,
    )
    assert after == before


_loans = st.sampled_from(["L1", "L2"])
_days = st.integers(min_value=0, max_value=20).map(lambda n: D(2026, 3, 1) + dt.timedelta(n))
_times = st.builds(at, _days, st.integers(0, 23), st.integers(0, 59))


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Row], list[Row], dt.date, int]:
    promises = [
        promise(f"PR{i}", draw(_loans), draw(_times), draw(_days),
                str(draw(st.integers(1, 300))))
        for i in range(draw(st.integers(1, 5)))
    ]  # fmt: skip
    payments = [
        pay(draw(_loans), draw(_times), str(draw(st.integers(1, 150))),
            draw(st.sampled_from(["settled", "settled", "pending", "reversed"])))
        for _ in range(draw(st.integers(0, 8)))
    ]  # fmt: skip
    return promises, payments, draw(_days), draw(st.integers(0, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=books())
def test_engine_matches_python_twin(book: tuple[list[Row], list[Row], dt.date, int]) -> None:
    from cobranza.engine import DuckDBEngine

    promises, payments, as_of, grace = book
    with DuckDBEngine() as engine:
        got = run(engine, promises, payments, as_of, grace)  # asserts equality with the twin
    for row in got.values():
        if row["status"] == "kept":
            assert row["paid_toward"] >= row["amount"]
            assert row["made_on"] <= row["resolved_on"] <= row["due_on"] + dt.timedelta(grace)
        elif row["status"] == "broken":
            assert row["resolved_on"] == row["due_on"] + dt.timedelta(grace + 1) <= as_of
        else:
            assert row["resolved_on"] is None
