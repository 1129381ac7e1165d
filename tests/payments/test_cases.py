"""The case store on SQLite and PostgreSQL: opening, priority, SLA, lifecycle, locking, holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from case_fixtures import DATABASES, exceptions, make_store
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState

from cobranza import ConfigError
from cobranza.payments.cases import (
    DEFAULT_RULES,
    PAYMENT_HOLDS,
    CaseRules,
    CaseStore,
    IllegalTransition,
    PriorityRule,
    StaleCase,
    load_case_rules,
    open_case_holds,
)
from cobranza.payments.cases._model import Case, CaseNote

D = dt.date
AS_OF = D(2026, 10, 31)

RULES = CaseRules(
    priorities=(
        PriorityRule(name="P1", sla_days=3, min_amount=Decimal(10_000)),
        PriorityRule(name="P1", sla_days=3, min_age_days=30),
        PriorityRule(name="P2", sla_days=10, min_amount=Decimal(1_000), min_age_days=5),
        PriorityRule(name="P3", sla_days=20),
    ),
    at_risk_share=0.5,
)


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    yield from make_store(request.param, tmp_path, RULES)


def _open_one(store: CaseStore, **row: object) -> int:
    result = store.open_cases(exceptions([{"exception_id": "E1", "amount": "100", **row}]), AS_OF)
    (case_id,) = result.opened
    return case_id


def test_migrations_create_the_tables_and_reopening_changes_nothing(store: CaseStore) -> None:
    names = set(inspect(store.engine).get_table_names(schema=store.schema))
    assert {"payment_cases", "payment_case_notes", "payment_case_events",
            "alembic_version_payment_cases"} <= names  # fmt: skip
    case_id = _open_one(store)
    store.upgrade()  # already at head: a no-op, data kept
    again = CaseStore(store.url, schema=store.schema, rules=RULES)
    try:
        assert again.get(case_id).exception_id == "E1"
        with again.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "version_table": "alembic_version_payment_cases",
                "version_table_schema": store.schema})  # fmt: skip
            assert context.get_current_heads() == ("0001_payment_cases",)
    finally:
        again.close()


def test_an_exception_opens_one_case_however_often_it_is_seen(store: CaseStore) -> None:
    table = exceptions([
        {"exception_id": "E1", "amount": "100"},
        {"exception_id": "E1", "amount": "100"},  # the same row twice in one input
        {"exception_id": "E2", "amount": "50", "status": "auto_resolved",
         "resolution": "applied to L9"},
        {"exception_id": "E3", "amount": "70", "root_cause": "duplicate"},
    ])  # fmt: skip
    first = store.open_cases(table, AS_OF)
    assert len(first.opened) == 2 and first.skipped == 1 and first.already_open == 1
    second = store.open_cases(table, AS_OF + dt.timedelta(days=1))
    assert second.opened == () and second.already_open == 3
    assert sorted(v.exception_id for v in store.list(as_of=AS_OF)) == ["E1", "E3"]
    # The database refuses a second case for an exception even past the store's own check.
    with store.session() as session, pytest.raises(IntegrityError):
        existing = session.scalars(select(Case)).first()
        assert existing is not None
        session.add(Case(**{c.key: getattr(existing, c.key) for c in Case.__table__.columns
                            if c.key not in ("case_id", "version")}))  # fmt: skip
        session.commit()


def test_priority_from_amount_and_age_and_due_dates(store: CaseStore) -> None:
    table = exceptions([
        # |amount| ≥ 10,000: P1 whatever the age (a negative reversal counts by its size).
        {"exception_id": "big", "amount": "-10000.00", "value_date": D(2026, 10, 30),
         "root_cause": "reversal"},
        # 31 days old (Sep 30 → Oct 31): P1 by age.
        {"exception_id": "old", "amount": "20", "value_date": D(2026, 9, 30)},
        # 1,000 and 5 days old: P2 (both conditions of the rule hold).
        {"exception_id": "mid", "amount": "1000", "value_date": D(2026, 10, 26)},
        # 1,000 but 4 days old: not P2, the default P3; 999.99 at 29 days: P3 too.
        {"exception_id": "young", "amount": "1000", "value_date": D(2026, 10, 27)},
        {"exception_id": "small", "amount": "999.99", "value_date": D(2026, 10, 2)},
    ])  # fmt: skip
    store.open_cases(table, AS_OF)
    got = {v.exception_id: (v.priority, v.due_on) for v in store.list(as_of=AS_OF)}
    assert got == {
        "big": ("P1", D(2026, 11, 3)),
        "old": ("P1", D(2026, 11, 3)),
        "mid": ("P2", D(2026, 11, 10)),
        "young": ("P3", D(2026, 11, 20)),
        "small": ("P3", D(2026, 11, 20)),
    }
    # Most urgent first: priority, then due date, then id.
    assert [v.priority for v in store.list(as_of=AS_OF)] == ["P1", "P1", "P2", "P3", "P3"]
    assert [v.exception_id for v in store.list(priority="P2", as_of=AS_OF)] == ["mid"]


def test_an_ageing_case_is_escalated_and_keeps_the_earlier_due_date(store: CaseStore) -> None:
    case_id = _open_one(store, amount="20", value_date=D(2026, 10, 20))  # 11 days: P3, Nov 20
    assert store.get(case_id).priority == "P3"
    result = store.open_cases(exceptions([]), D(2026, 11, 18))  # 29 days: still P3
    assert result.escalated == ()
    result = store.open_cases(exceptions([]), D(2026, 11, 19))  # 30 days: P1, 3-day SLA
    assert result.escalated == (case_id,)
    view = store.get(case_id, as_of=D(2026, 11, 19))
    # Oct 31 + 3 days is already past: breached at once; the clock never moves later.
    assert (view.priority, view.due_on, view.breached) == ("P1", D(2026, 11, 3), True)
    assert [e[2] for e in view.events] == ["opened", "escalated"]


def test_lifecycle_allows_the_documented_path(store: CaseStore) -> None:
    case_id = _open_one(store)
    steps = ["in_progress", "waiting_customer", "in_progress", "waiting_partner"]
    for status in steps:
        assert store.transition(case_id, status, actor="ana", on=D(2026, 11, 2)).status == status
    view = store.transition(case_id, "resolved", actor="ana", on=D(2026, 11, 4),
                            resolution="credit applied to L1 on Nov 4")  # fmt: skip
    assert (view.status, view.resolved_on) == ("resolved", D(2026, 11, 4))
    reopened = store.transition(case_id, "in_progress", actor="beto", on=D(2026, 11, 5))
    assert (reopened.resolution, reopened.resolved_on) == (None, None)
    store.resolve(case_id, "reapplied", actor="beto", on=D(2026, 11, 6))
    closed = store.transition(case_id, "closed", actor="beto", on=D(2026, 11, 7))
    assert (closed.status, closed.closed_on, closed.resolution) == (
        "closed",
        D(2026, 11, 7),
        "reapplied",
    )
    assert [e[2] for e in store.get(case_id).events] == [
        "opened", *(f"status:{s}" for s in steps), "status:resolved", "status:in_progress",
        "status:resolved", "status:closed",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], "resolved"),  # open cases are worked before they are resolved
        ([], "waiting_customer"),
        (["in_progress", "waiting_customer"], "waiting_partner"),
        (["in_progress"], "open"),
        (["in_progress", "resolved", "closed"], "in_progress"),  # closed is final
        ([], "escalated"),  # not a status
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(
    store: CaseStore, path: list[str], illegal: str
) -> None:
    case_id = _open_one(store)
    for status in path:
        store.transition(case_id, status, actor="ana", resolution="done")
    before = store.get(case_id)
    with pytest.raises(IllegalTransition, match=f"case {case_id}|not a case status"):
        store.transition(case_id, illegal, actor="ana", resolution="done")
    after = store.get(case_id)
    assert (after.status, after.version, len(after.events)) == (
        before.status,
        before.version,
        len(before.events),
    )


def test_resolving_needs_a_resolution(store: CaseStore) -> None:
    case_id = _open_one(store)
    store.start(case_id, actor="ana")
    with pytest.raises(IllegalTransition, match="resolution"):
        store.transition(case_id, "resolved", actor="ana", resolution="  ")


def test_sla_flags_at_risk_then_breached_and_late_answers_stay_breached(
    store: CaseStore,
) -> None:
    # P2: opened Oct 31, due Nov 10; at risk from half the SLA: Nov 5.
    table = exceptions([
        {"exception_id": "late", "amount": "2000", "value_date": D(2026, 10, 20)},
        {"exception_id": "on_time", "amount": "2000", "value_date": D(2026, 10, 20)},
    ])  # fmt: skip
    store.open_cases(table, AS_OF)
    late, on_time = (v.case_id for v in store.list(as_of=AS_OF))
    flags = {
        day: (
            store.get(late, as_of=D(2026, 11, day)).breached,
            store.get(late, as_of=D(2026, 11, day)).at_risk,
        )
        for day in (4, 5, 10, 11)
    }
    assert flags == {4: (False, False), 5: (False, True), 10: (False, True), 11: (True, False)}
    store.resolve(late, "applied", actor="ana", on=D(2026, 11, 12))
    store.resolve(on_time, "applied", actor="ana", on=D(2026, 11, 10))
    assert store.get(late, as_of=D(2026, 12, 1)).breached
    assert not store.get(on_time, as_of=D(2026, 12, 1)).breached
    # Seen before the resolution was dated, the late case was breached and unanswered.
    assert store.get(late, as_of=D(2026, 11, 11)).breached
    assert [v.case_id for v in store.list(breach="breached", as_of=D(2026, 12, 1))] == [late]
    assert [v.case_id for v in store.list(breach="ok", as_of=D(2026, 12, 1))] == [on_time]
    assert [v.case_id for v in store.list(breach="at_risk", as_of=D(2026, 11, 6))] == [
        late, on_time]  # fmt: skip


def test_an_aclaracion_caps_the_clock_at_45_calendar_days(store: CaseStore) -> None:
    case_id = _open_one(store, amount="1")  # P3: due Nov 20
    # Filed Sep 1: 45 days later is Oct 16, before the priority's due date.
    view = store.mark_aclaracion(case_id, D(2026, 9, 1), actor="ana")
    assert (view.aclaracion_on, view.due_on) == (D(2026, 9, 1), D(2026, 10, 16))
    other = store.open_cases(exceptions([{"exception_id": "E2", "amount": "1"}]), AS_OF).opened[0]
    # Filed on the day the case opened: the 20-day SLA is earlier than the 45-day limit.
    assert store.mark_aclaracion(other, AS_OF, actor="ana").due_on == D(2026, 11, 20)


def test_notes_are_append_only(store: CaseStore) -> None:
    case_id = _open_one(store)
    store.add_note(case_id, "called STP: credit confirmed", author="ana")
    store.add_note(case_id, "customer sent the receipt", author="beto")
    view = store.get(case_id)
    assert [(n.author, n.body) for n in view.notes] == [
        ("ana", "called STP: credit confirmed"),
        ("beto", "customer sent the receipt"),
    ]
    assert view.version == 1  # a note is a new row: it never conflicts with a case change
    with store.session() as session:
        note = session.scalars(select(CaseNote)).first()
        assert note is not None
        note.body = "rewritten"
        with pytest.raises(IllegalTransition, match="append-only"):
            session.commit()
    with store.session() as session:
        note = session.scalars(select(CaseNote)).first()
        session.delete(note)
        with pytest.raises(IllegalTransition, match="append-only"):
            session.commit()
    assert next(n.body for n in store.get(case_id).notes) == "called STP: credit confirmed"


def test_two_people_on_one_case_never_lose_an_update(store: CaseStore) -> None:
    case_id = _open_one(store)
    # Ana and Beto both read version 1 in their own session (transaction) ...
    with (
        pytest.raises(StaleCase) as caught,
        store.editing(case_id, actor="ana", action="assigned") as ana_view,
    ):
        with store.editing(case_id, actor="beto", action="assigned") as beto_view:
            assert ana_view.version == beto_view.version == 1
            beto_view.assignee = "beto"
        # ... Beto writes first; Ana's write, based on version 1, must not overwrite it.
        ana_view.assignee = "ana"
    assert (caught.value.case_id, caught.value.expected, caught.value.actual) == (case_id, 1, 2)
    view = store.get(case_id)
    assert (view.assignee, view.version) == ("beto", 2)
    assert [e[1] for e in view.events if e[2] == "assigned"] == ["beto"]  # Ana's left no trace
    # Re-read, redo: now it works.
    assert store.assign(case_id, "ana", actor="ana", expected_version=2).assignee == "ana"


def test_a_decision_on_an_outdated_screen_is_refused(store: CaseStore) -> None:
    case_id = _open_one(store)
    shown = store.get(case_id)  # what Ana's screen shows
    store.start(case_id, actor="beto")
    with pytest.raises(StaleCase, match="changed by someone else"):
        store.resolve(case_id, "nothing to do", actor="ana", expected_version=shown.version)
    assert store.get(case_id).status == "in_progress"


def test_money_is_exact(store: CaseStore) -> None:
    case_id = _open_one(store, amount="1234567890.12345", difference="-0.00001")
    view = store.get(case_id)
    assert view.amount == Decimal("1234567890.12345")
    assert view.difference == Decimal("-0.00001")


def test_open_case_holds(store: CaseStore) -> None:
    table = exceptions([
        {"exception_id": "E1", "amount": "10", "loan_id": "L1"},
        {"exception_id": "E2", "amount": "10", "loan_id": "L2"},
        {"exception_id": "E3", "amount": "10", "loan_id": None,
         "root_cause": "unknown_reference"},
        {"exception_id": "E4", "amount": "10", "loan_id": "L1"},
    ])  # fmt: skip
    store.open_cases(table, AS_OF)
    ids = {v.exception_id: v.case_id for v in store.list(as_of=AS_OF)}
    store.resolve(ids["E2"], "applied", actor="ana", on=D(2026, 11, 3))
    store.open_cases(exceptions([{"exception_id": "E5", "amount": "1", "loan_id": "L5"}]),
                     D(2026, 11, 10))  # fmt: skip
    before = open_case_holds(store, D(2026, 10, 30))
    assert before.num_rows == 0 and before.schema == PAYMENT_HOLDS
    holds = open_case_holds(store, D(2026, 11, 2)).to_pylist()
    assert holds == [
        {"loan_id": "L1", "reason": "open_case", "source_id": f"CASE-{ids['E1']}",
         "since": AS_OF, "until": None},
        {"loan_id": "L1", "reason": "open_case", "source_id": f"CASE-{ids['E4']}",
         "since": AS_OF, "until": None},
        # Resolved on Nov 3: seen on Nov 2 the hold runs through Nov 2.
        {"loan_id": "L2", "reason": "open_case", "source_id": f"CASE-{ids['E2']}",
         "since": AS_OF, "until": D(2026, 11, 2)},
    ]  # fmt: skip
    later = open_case_holds(store, D(2026, 11, 10)).to_pylist()
    assert [(h["loan_id"], h["since"]) for h in later] == [
        ("L1", AS_OF), ("L1", AS_OF), ("L5", D(2026, 11, 10))]  # fmt: skip


def test_case_rules_yaml_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "case_rules.yaml"
    path.write_text(
        "version: 1\n"
        "priorities:\n"
        "  - {name: P1, sla_days: 5, min_amount: 50000}\n"
        "  - name: P2\n"
        "    sla_days: 60\n"
        "  - {name: P3, sla_days: 20}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"case_rules\.yaml, line 5: priorities\.1\.sla_days"):
        load_case_rules(path)
    path.write_text("priorities:\n  - {name: P1, sla_days: 5, min_amount: 10}\n")
    with pytest.raises(ConfigError, match=r"line 1: .*last priority rule must have no condition"):
        load_case_rules(path)
    path.write_text("priorities:\n  - {name: P1, sla_days: 5, min_amount: 10.50}\n"
                    "  - {name: P4, sla_days: 45}\nat_risk_share: 0.5\n")  # fmt: skip
    rules = load_case_rules(path)
    assert rules.priorities[0].min_amount == Decimal("10.50") and rules.order == ("P1", "P4")


def test_two_processes_opening_the_same_exception_open_one_case(
    store: CaseStore, tmp_path: Path
) -> None:
    # A second store on the same database plays the other process. It opens E1 just after
    # this store has looked for existing cases and before it inserts: the unique constraint
    # stops the second insert, and the retry sees the other process's case.
    other = CaseStore(store.url, schema=store.schema, rules=RULES)
    table = exceptions([{"exception_id": "E1", "amount": "10"}])
    raced: list[int] = []

    @event.listens_for(store._sessions, "do_orm_execute")
    def _race(state: ORMExecuteState) -> object:
        if raced or not state.is_select:
            return None
        result = state.invoke_statement()
        raced.extend(other.open_cases(table, AS_OF).opened)
        return result

    try:
        result = store.open_cases(table, AS_OF)
    finally:
        event.remove(store._sessions, "do_orm_execute", _race)
        other.close()
    assert len(raced) == 1 and result.opened == () and result.already_open == 1
    assert [v.case_id for v in store.list(as_of=AS_OF)] == raced


def test_the_documented_rules_are_the_defaults(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "payment-cases.md").read_text()
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "rules.yaml").write_text(block, encoding="utf-8")
    assert load_case_rules(tmp_path / "rules.yaml") == DEFAULT_RULES
