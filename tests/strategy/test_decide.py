"""decide (SQL, both engines) and decide_one (Python) give the same decision for every account."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from cobranza.contract import load
from cobranza.engine import Engine
from cobranza.ledger import account_states
from cobranza.strategy import DECISION_COLUMNS, decide, decide_one, load_strategy, parse_strategy
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
    text += "\nscores:\n  columns: [p_pay]\n  propensity: p_pay\n"
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
    contacts = tables["contacts"]
    seen = contacts.semi_join(delinquent, "loan_id")
    by_loan: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in engine.fetch(seen).to_pylist():
        by_loan[c["loan_id"]].append(c)
    for account in accounts:
        account["contacts"] = by_loan[account["loan_id"]]
        if with_scores:
            account["p_pay"] = p_pay(account["loan_id"])
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
        one = decide_one(account, strategy)
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
        one = decide_one(account, strategy, full_channels=full_channels(row["reason"]))
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


def test_contacts_after_as_of_do_not_change_decisions(duckdb_engine: Engine, book: Path) -> None:
    """A contact made after as-of (here: the next morning) is invisible to the decision."""
    strategy = load_strategy("mx_default")
    batch, accounts, _ = run(duckdb_engine, book, strategy, with_scores=False)
    later = dt.datetime(2026, 11, 1, 15, 0, tzinfo=dt.UTC)  # 09:00 on Nov 1 in Mexico City
    for account in accounts[:50]:
        account["contacts"] = [
            *account["contacts"],
            {"channel": "whatsapp", "attempted_at": later, "outcome": "delivered",
             "contact_id": "X"},
        ]  # fmt: skip
    for row, account in zip(batch[:50], accounts[:50], strict=True):
        assert decide_one(account, strategy).as_dict() == row


def test_decide_accepts_unbound_states(duckdb_engine: Engine, book: Path) -> None:
    tables = load(duckdb_engine, book)
    states = account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF)
    out = decide(duckdb_engine, tables, states, AS_OF, "mx_default")
    assert isinstance(out, ibis.Table)
