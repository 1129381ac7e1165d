"""decide (SQL, both engines) and decide_one (Python) give the same decision for every account."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from cobranza.contract import load
from cobranza.engine import Engine
from cobranza.ledger import account_states
from cobranza.ledger._calendar import end_of_local_day
from cobranza.strategy import (
    DECISION_COLUMNS,
    candidate_actions,
    decide,
    decide_one,
    load_strategy,
    parse_strategy,
)
from cobranza.strategy._guardrails import AccountContext
from conftest import AS_OF

DEFAULT = Path(__file__).resolve().parents[2] / "src/cobranza/strategy/strategies/mx_default.yaml"


def tight_strategy() -> Any:
    """mx_default with capacities that bind on a small book, and a propensity score."""
    text = DEFAULT.read_text()
    for old, new in (
        ("capacity: 4000", "capacity: 9"), ("capacity: 1500", "capacity: 12"),
        ("capacity: 120", "capacity: 4"), ("capacity: 900", "capacity: 6"),
        ("capacity: 600", "capacity: 2"),
    ):  # fmt: skip
        assert old in text
        text = text.replace(old, new)
    # mx_default reads the score as pay_propensity; here the scores table names it p_pay.
    assert "propensity: pay_propensity" in text
    text = text.replace("pay_propensity", "p_pay")
    text = text.replace(
        "  - id: late\n    when: dpd >= 90\n",
        "  - id: late_likely\n    when: dpd >= 90 and p_pay >= 0.5\n    path: late_field\n"
        "  - id: late\n    when: dpd >= 90\n",
    )
    return parse_strategy(text, "tight.yaml")


def p_pay(loan_id: str) -> float | None:
    h = int(hashlib.sha256(loan_id.encode()).hexdigest()[:8], 16)
    return None if h % 7 == 0 else (h % 1000) / 1000


_RUNS: dict[tuple[str, str], tuple[list, list, tuple[str, ...]]] = {}


def run(engine: Engine, book: Path, strategy: Any, with_scores: bool) -> tuple[list, list, Any]:
    """(decisions, account dicts for decide_one, decision columns), once per engine and
    strategy: the tests below read the same run."""
    key = (engine.name, strategy.content_hash)
    if key not in _RUNS:
        _RUNS[key] = _run(engine, book, strategy, with_scores)
    batch, accounts, columns = _RUNS[key]
    return batch, [dict(a) for a in accounts], columns


def _run(engine: Engine, book: Path, strategy: Any, with_scores: bool) -> tuple[list, list, Any]:
    tables = load(engine, book)
    engine.materialize(
        "strategy_states",
        account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF),
    )
    states = engine.table("strategy_states")
    scores = None
    if with_scores:
        ids = engine.fetch(states.select("loan_id")).column("loan_id").to_pylist()
        engine.register_arrow(
            "strategy_scores",
            pa.table({"loan_id": ids, "p_pay": [p_pay(i) for i in ids]},
                     schema=pa.schema([("loan_id", pa.string()), ("p_pay", pa.float64())])),
        )  # fmt: skip
        scores = engine.table("strategy_scores")
    decisions = decide(engine, tables, states, AS_OF, strategy, scores=scores)
    batch = engine.fetch(decisions.order_by("loan_id")).to_pylist()
    delinquent = states.filter((states.status == "active") & (states.dpd >= 1))
    accounts = engine.fetch(delinquent.order_by("loan_id")).to_pylist()
    # Everything decide_one needs, as plain rows: the loan's own history, and the customer's
    # (all its loans) for the guardrails, with the day's other candidate actions.
    owner = {
        r["loan_id"]: r["customer_id"]
        for r in engine.fetch(tables["loans"].select("loan_id", "customer_id")).to_pylist()
    }
    customers = {r["customer_id"]: r for r in engine.fetch(tables["customers"]).to_pylist()}
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name in ("contacts", "payments", "promises"):
        by_loan: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in engine.fetch(tables[name]).to_pylist():
            by_loan[r["loan_id"]].append(r)
        rows[name] = by_loan
    loans_of: dict[str, list[str]] = defaultdict(list)
    for loan, customer in owner.items():
        loans_of[customer].append(loan)
    today: dict[str, list[dict[str, Any]]] = defaultdict(list)
    candidates = candidate_actions(engine, tables, states, AS_OF, strategy, scores=scores)
    for r in engine.fetch(candidates).to_pylist():
        today[r["customer_id"]].append(r)
    for account in accounts:
        loan, customer = account["loan_id"], account["customer_id"]
        for name in ("contacts", "payments", "promises"):
            account[name] = rows[name][loan]
        account["context"] = AccountContext(
            customer=customers.get(customer),
            loan_owners=owner,
            **{name: tuple(r for lo in loans_of[customer] for r in rows[name][lo])
               for name in ("contacts", "payments", "promises")},
            today=tuple(today[customer]),
        )  # fmt: skip
        if with_scores:
            account["p_pay"] = p_pay(loan)
    return batch, accounts, tuple(decisions.columns)


def full_channels(reason: str) -> set[str]:
    """Channels the batch reported full for one account (``k channel: capacity``)."""
    return {
        piece.split(" ")[1].rstrip(":")
        for piece in reason.split("; ")
        if piece.endswith(": capacity")
    }


def test_decisions_columns_and_one_row_per_delinquent_account(engine: Engine, book: Path) -> None:
    strategy = load_strategy("mx_default")
    batch, accounts, columns = run(engine, book, strategy, with_scores=False)
    assert columns == DECISION_COLUMNS
    assert [d["loan_id"] for d in batch] == [a["loan_id"] for a in accounts]
    assert len(batch) > 200
    # Every stage of the path is exercised on the generated book.
    assert {"early", "early_card", "mid_high", "late_high", "late"} <= {d["segment"] for d in batch}
    assert {"whatsapp", "call", "field", "agency"} <= {d["channel"] for d in batch}
    assert all(d["strategy_version"] == strategy.strategy_version for d in batch)


def test_decide_one_matches_batch(engine: Engine, book: Path) -> None:
    strategy = load_strategy("mx_default")
    batch, accounts, _ = run(engine, book, strategy, with_scores=False)
    blocked = 0
    for row, account in zip(batch, accounts, strict=True):
        one = decide_one(account, strategy, context=account["context"])
        assert one.as_dict() == row, account["loan_id"]
        blocked += row["channel"] is not None and row["reason"].count(": cadence") > 0
    assert blocked > 10  # cadence checks against the contact history really happen


def test_capacity_overflow_and_scores_match_decide_one(engine: Engine, book: Path) -> None:
    strategy = tight_strategy()
    batch, accounts, _ = run(engine, book, strategy, with_scores=True)
    overflowed = [d for d in batch if d["overflow_from"] is not None]
    assert overflowed
    assert any(d["suppressed_by"] == "capacity" for d in batch)
    for channel, cap in (("call", 12), ("field", 4), ("agency", 6), ("ivr", 9), ("letter", 2)):
        sent = [d for d in batch if d["channel"] == channel and d["suppressed_by"] is None]
        assert len(sent) <= cap, channel
    assert any(d["segment"] == "late_likely" for d in batch)
    for row, account in zip(batch, accounts, strict=True):
        one = decide_one(
            account, strategy, full_channels=full_channels(row["reason"]),
            context=account["context"],
        )  # fmt: skip
        assert one.as_dict() == row, account["loan_id"]


def test_capacity_serves_highest_expected_value_first(engine: Engine, book: Path) -> None:
    strategy = tight_strategy()
    batch, _, _ = run(engine, book, strategy, with_scores=True)
    # Among accounts whose first permitted option was a call, those served by a call have
    # an expected value at least that of every one turned away.
    first_call = [
        d for d in batch
        if d["reason"].split("; ")[-1].startswith(("1 call", "2 call", "3 call"))
        or d["overflow_from"] == "call"
    ]  # fmt: skip
    served = [d["expected_value"] for d in first_call if d["channel"] == "call"
              and d["suppressed_by"] is None and d["overflow_from"] is None]  # fmt: skip
    turned = [d["expected_value"] for d in first_call if d["overflow_from"] == "call"]
    assert served and turned
    assert min(served) >= max(turned)


def test_no_decision_for_current_paid_off_or_written_off(engine: Engine, book: Path) -> None:
    strategy = load_strategy("mx_default")
    tables = load(engine, book)
    states = account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF)
    decisions = decide(engine, tables, states, AS_OF, strategy)
    joined = decisions.join(states, "loan_id")
    bad = joined.filter((joined.status != "active") | (joined.dpd < 1)).count()
    assert engine.fetch(bad.as_table()).column(0)[0].as_py() == 0
    written_off = engine.fetch(states.filter(states.status == "written_off").count().as_table())
    assert written_off.column(0)[0].as_py() > 0
    base = dict(as_of=AS_OF, loan_id="L", customer_id="C", product="installment",
                past_due_amount=0, contacts=[])  # fmt: skip
    for status, dpd in (("active", 0), ("paid_off", 40), ("written_off", 200)):
        one = decide_one({**base, "status": status, "dpd": dpd}, strategy)
        assert one.channel is None and one.reason.startswith("not delinquent")


def test_data_after_as_of_does_not_change_decisions(duckdb_engine: Engine, book: Path) -> None:
    """A contact, payment or promise made after as-of (the next morning) is invisible."""
    strategy = load_strategy("mx_default")
    batch, accounts, _ = run(duckdb_engine, book, strategy, with_scores=False)
    later = dt.datetime(2026, 11, 1, 15, 0, tzinfo=dt.UTC)  # 09:00 on Nov 1 in Mexico City
    for row, account in zip(batch[:60], accounts[:60], strict=True):
        loan = account["loan_id"]
        extra = {
            "contacts": {"contact_id": "X", "loan_id": loan, "channel": "whatsapp",
                         "attempted_at": later, "outcome": "promise"},
            "payments": {"payment_id": "X", "loan_id": loan, "paid_at": later,
                         "amount": Decimal("500.00"), "channel": "spei", "status": "settled"},
            "promises": {"promise_id": "X", "loan_id": loan, "made_at": later,
                         "due_on": dt.date(2026, 11, 5), "amount": Decimal("500.00")},
        }  # fmt: skip
        context = account["context"]
        changes = {name: (*getattr(context, name), r) for name, r in extra.items()}
        for name, r in extra.items():
            account[name] = [*account[name], r]
        context = dataclasses.replace(context, **changes)
        assert decide_one(account, strategy, context=context).as_dict() == row


def test_batch_for_a_past_date_ignores_later_data(duckdb_engine: Engine, book: Path) -> None:
    """Decisions as of a past date are the same on the whole book and on the book cut at that
    date: no later payment, contact or promise changes them."""
    day = dt.date(2026, 10, 20)
    strategy = load_strategy("mx_default")
    tables = load(duckdb_engine, book)
    end = ibis.literal(end_of_local_day(day))
    cut = dict(tables)
    cut["payments"] = tables["payments"].filter(tables["payments"].paid_at < end)
    cut["contacts"] = tables["contacts"].filter(tables["contacts"].attempted_at < end)
    cut["promises"] = tables["promises"].filter(tables["promises"].made_at < end)

    def decisions(t: dict) -> list[dict[str, Any]]:
        states = account_states(t["loans"], t["installments"], t["payments"], day)
        out = decide(duckdb_engine, t, states, day, strategy).order_by("loan_id")
        return duckdb_engine.fetch(out).to_pylist()

    whole = decisions(tables)
    assert len(whole) > 100
    assert decisions(cut) == whole
