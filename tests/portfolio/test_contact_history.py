"""Contact history features on hand-made contacts, on both engines, and the Python twin."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from builders import MX, register
from cobranza.engine import Engine
from cobranza.portfolio import CONTACT_HISTORY_COLUMNS, contact_history, contact_history_row

D = dt.date
Row = dict[str, Any]
_ids = itertools.count(1)
AS_OF = D(2026, 3, 31)


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=MX)


def contact(loan: str, when: dt.datetime, outcome: str, channel: str = "call",
            cid: str | None = None) -> Row:  # fmt: skip
    return dict(contact_id=cid or f"K{next(_ids):04d}", loan_id=loan, channel=channel,
                attempted_at=when, outcome=outcome)  # fmt: skip


CONTACTS = [
    # L1: 7-day window is 03-25 … 03-31; 30-day window is 03-02 … 03-31
    contact("L1", at(D(2026, 3, 25), 7, 0), "right_party"),  # first minute of the 7d window
    contact("L1", at(D(2026, 3, 24), 21, 59), "promise"),  # the evening before: 30d only
    contact("L1", at(D(2026, 3, 2), 0, 0), "no_answer"),  # first instant of the 30d window
    contact("L1", at(D(2026, 3, 1), 23, 59), "right_party"),  # just outside 30d
    contact("L1", at(D(2026, 3, 28)), "delivered", channel="sms"),  # reached a phone, not rpc
    contact("L1", at(D(2026, 3, 29)), "wrong_party"),
    # the latest contact before as-of ends: 23:30 local on 03-31 (05:30 UTC on 04-01)
    contact("L1", at(D(2026, 3, 31), 23, 30), "refused"),
    contact("L1", at(D(2026, 4, 1), 0, 1), "dispute"),  # after as-of: ignored
    # L2: only old contacts; two at the same instant, the larger id gives the outcome
    contact("L2", at(D(2026, 1, 10)), "failed", cid="K9001"),
    contact("L2", at(D(2026, 1, 10)), "dispute", cid="K9002"),
    # L3: only after as-of: no row
    contact("L3", at(D(2026, 4, 2)), "right_party"),
]


def run(engine: Engine, contacts: list[Row], as_of: dt.date) -> dict[str, Row]:
    t = register(engine, contacts=contacts)
    expr = contact_history(t["contacts"], as_of)
    assert tuple(expr.columns) == CONTACT_HISTORY_COLUMNS
    rows = {r["loan_id"]: r for r in engine.fetch(expr).to_pylist()}
    loans = {c["loan_id"] for c in contacts}
    python = {
        loan: row
        for loan in loans
        if (row := contact_history_row([c for c in contacts if c["loan_id"] == loan], as_of))
    }
    assert rows == python
    return rows


def test_hand_cases(engine: Engine) -> None:
    got = run(engine, CONTACTS, AS_OF)
    assert set(got) == {"L1", "L2"}
    assert got["L1"] == dict(
        loan_id="L1",
        attempts_7d=4,  # 03-25, 03-28, 03-29, 03-31
        attempts_30d=6,  # plus 03-24 and 03-02
        rpc_7d=2,  # right_party 03-25, refused 03-31
        rpc_30d=3,  # plus promise 03-24
        days_since_last_contact=0,
        last_contact_outcome="refused",
    )
    assert got["L2"] == dict(
        loan_id="L2", attempts_7d=0, attempts_30d=0, rpc_7d=0, rpc_30d=0,
        days_since_last_contact=80, last_contact_outcome="dispute",
    )  # fmt: skip


def test_point_in_time(engine: Engine) -> None:
    before = run(engine, CONTACTS, D(2026, 3, 30))
    later = [
        contact("L1", at(D(2026, 3, 31), 0, 0), "promise"),
        contact("L2", at(D(2026, 4, 5)), "right_party"),
    ]
    assert run(engine, CONTACTS + later, D(2026, 3, 30)) == before
    assert before["L1"]["days_since_last_contact"] == 1
    assert before["L1"]["last_contact_outcome"] == "wrong_party"


_days = st.integers(min_value=0, max_value=45).map(lambda n: D(2026, 2, 20) + dt.timedelta(n))
_times = st.builds(at, _days, st.integers(0, 23), st.integers(0, 59))
_outcomes = st.sampled_from(["delivered", "failed", "no_answer", "right_party", "wrong_party",
                             "promise", "refused", "dispute"])  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    contacts=st.lists(
        st.builds(contact, st.sampled_from(["L1", "L2", "L3"]), _times, _outcomes),
        max_size=25,
    ),
    as_of=_days,
)
def test_engine_matches_python_twin(contacts: list[Row], as_of: dt.date) -> None:
    from cobranza.engine import DuckDBEngine

    with DuckDBEngine() as engine:
        got = run(engine, contacts, as_of)
    for row in got.values():
        assert 0 <= row["rpc_7d"] <= row["attempts_7d"] <= row["attempts_30d"]
        assert row["rpc_7d"] <= row["rpc_30d"] <= row["attempts_30d"]
        assert row["days_since_last_contact"] >= 0
