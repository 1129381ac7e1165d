"""The case store: payment cases in SQLite (default) or PostgreSQL, migrated on open.

Every change goes through :meth:`CaseStore.editing`, one short transaction that reads the case,
applies the change and writes it with ``UPDATE ... WHERE version = <read>`` (SQLAlchemy's
``version_id_col``). When someone else committed in between, nothing is written and
:class:`StaleCase` is raised: two people working the same case never lose an update. Callers
that showed a case to a person pass the version they showed (``expected_version``), so a
decision taken on an outdated screen is refused too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from cobranza._errors import ConfigError, ContractError
from cobranza.payments.cases._errors import CaseNotFound, IllegalTransition, StaleCase
from cobranza.payments.cases._lifecycle import (
    ACTIVE_STATUSES,
    CASE_STATUSES,
    check_transition,
    sla_flags,
)
from cobranza.payments.cases._model import Case, CaseEvent, CaseNote
from cobranza.payments.cases._rules import ACLARACION_DAYS, DEFAULT_RULES, CaseRules

__all__ = ["DEFAULT_URL", "CaseStore", "CaseView", "NoteView", "OpenedCases", "store_url"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_URL = "sqlite:///cobranza-cases.db"
MEXICO_CITY = ZoneInfo("America/Mexico_City")
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: Columns of ``payment_exceptions`` (INTERFACES §F) that a case needs.
_REQUIRED = ("exception_id", "root_cause", "amount", "value_date", "status")


def store_url(target: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a SQLite file path."""
    text_ = str(target)
    return text_ if "://" in text_ else f"sqlite:///{Path(text_).expanduser()}"


def _today() -> dt.date:
    return dt.datetime.now(MEXICO_CITY).date()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class NoteView:
    note_id: int
    author: str
    body: str
    created_at: dt.datetime


@dataclass(frozen=True)
class CaseView:
    """A case as read at one moment, with its SLA flags on ``as_of``."""

    case_id: int
    exception_id: str
    root_cause: str
    partner_id: str | None
    rail: str | None
    external_id: str | None
    payment_id: str | None
    loan_id: str | None
    amount: Decimal
    difference: Decimal | None
    detail: str | None
    value_date: dt.date | None
    opened_on: dt.date
    priority: str
    due_on: dt.date
    aclaracion_on: dt.date | None
    status: str
    assignee: str | None
    resolution: str | None
    resolved_on: dt.date | None
    closed_on: dt.date | None
    version: int
    as_of: dt.date
    breached: bool
    at_risk: bool
    notes: tuple[NoteView, ...] = ()
    events: tuple[tuple[dt.datetime, str, str, str | None], ...] = ()

    @property
    def reference(self) -> str:
        """How people and the holds table name the case: ``CASE-42``."""
        return f"CASE-{self.case_id}"

    @property
    def days_left(self) -> int:
        """Calendar days from ``as_of`` to the due date (negative once overdue)."""
        return (self.due_on - self.as_of).days


@dataclass(frozen=True)
class OpenedCases:
    """What :meth:`CaseStore.open_cases` did."""

    opened: tuple[int, ...] = ()
    already_open: int = 0
    escalated: tuple[int, ...] = ()
    skipped: int = 0  # exception rows not in status open
    warnings: tuple[str, ...] = field(default=())


class CaseStore:
    """Payment cases in a SQL database, brought to the latest schema on open.

    ``target`` is a SQLAlchemy URL (``postgresql+psycopg://user@host/db``) or the path of a
    SQLite file (default ``cobranza-cases.db``). ``schema`` puts the tables in that PostgreSQL
    schema (created when missing), so several stores — or test runs — share a database.
    """

    def __init__(
        self,
        target: str | Path = DEFAULT_URL,
        *,
        schema: str | None = None,
        rules: CaseRules = DEFAULT_RULES,
    ) -> None:
        self.url = store_url(target)
        self.rules = rules
        self.schema = schema
        engine = create_engine(self.url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            if schema is not None:
                raise ConfigError("a schema can only be given for a PostgreSQL case store")
        if schema is not None:
            if not _SCHEMA_NAME.fullmatch(schema):
                raise ConfigError(f"schema {schema!r}: use lower-case letters, digits and _")
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            engine = engine.execution_options(schema_translate_map={None: schema})
        self.engine: Engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.upgrade()

    # --- lifetime ------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> None:
        """Run the packaged Alembic migrations up to ``revision`` (done on open)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            config.attributes["schema"] = self.schema
            command.upgrade(config, revision)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self) -> Session:
        """A new ORM session on the store (for tools; the methods below open their own)."""
        return self._sessions()

    # --- the unit of work ----------------------------------------------------------------

    @contextlib.contextmanager
    def editing(
        self,
        case_id: int,
        *,
        actor: str,
        action: str,
        detail: str | None = None,
        expected_version: int | None = None,
    ) -> Iterator[Case]:
        """Read case ``case_id``, let the block change it, write it: all or nothing.

        Raises :class:`StaleCase` (nothing written) when the case is not at
        ``expected_version`` when read, or when someone else commits a change to it before
        this block's change is written. The change is recorded in the audit trail as
        ``action`` by ``actor``.
        """
        with self._sessions() as session:
            case = session.get(Case, case_id)
            if case is None:
                raise CaseNotFound(f"no case {case_id}")
            read = case.version
            if expected_version is not None and read != expected_version:
                raise StaleCase(case_id, expected_version, read)
            yield case
            case.updated_at = _now()
            session.add(CaseEvent(case_id=case_id, at=case.updated_at, actor=actor,
                                  action=action, detail=detail))  # fmt: skip
            try:
                session.commit()
            except StaleDataError:
                session.rollback()
                raise StaleCase(case_id, read, self._version(case_id)) from None

    def _version(self, case_id: int) -> int | None:
        with self._sessions() as session:
            return session.scalar(select(Case.version).where(Case.case_id == case_id))

    # --- opening from payment exceptions -------------------------------------------------

    def open_cases(
        self, exceptions: pa.Table, as_of: dt.date, *, actor: str = "system"
    ) -> OpenedCases:
        """Open a case for each ``payment_exceptions`` row in status ``open`` that has none.

        Idempotent: an exception never opens two cases (a unique constraint backs this even
        for two processes at once). Priority comes from ``|amount|`` and the age on ``as_of``
        (``as_of − value_date`` in days, the exception's ``age_days`` when it has no value
        date); the SLA clock starts on ``as_of``. Cases already open whose age now calls for a
        more urgent priority are escalated: the earlier due date of the two is kept.
        """
        missing = [c for c in _REQUIRED if c not in exceptions.column_names]
        if missing:
            raise ContractError(f"payment_exceptions: missing column(s) {', '.join(missing)}")
        rows = [r for r in exceptions.to_pylist() if r["status"] == "open"]
        skipped = exceptions.num_rows - len(rows)
        for attempt in range(2):
            try:
                opened, already = self._insert_new(rows, as_of, actor)
                break
            except IntegrityError:
                # Another process opened some of them between our read and our insert.
                if attempt:
                    raise
        escalated = self._escalate(as_of, actor)
        return OpenedCases(tuple(opened), already, tuple(escalated), skipped)

    def _age(self, row: Mapping[str, Any], as_of: dt.date) -> int:
        if row.get("value_date") is not None:
            return max((as_of - row["value_date"]).days, 0)
        return int(row.get("age_days") or 0)

    def _insert_new(
        self, rows: Sequence[Mapping[str, Any]], as_of: dt.date, actor: str
    ) -> tuple[list[int], int]:
        with self._sessions() as session:
            known: set[str] = set()
            ids = sorted({r["exception_id"] for r in rows})
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                known.update(session.scalars(
                    select(Case.exception_id).where(Case.exception_id.in_(chunk))
                ))  # fmt: skip
            new: list[Case] = []
            seen: set[str] = set()
            now = _now()
            for row in rows:
                exception_id = row["exception_id"]
                if exception_id in known or exception_id in seen:
                    continue
                seen.add(exception_id)
                amount = Decimal(row["amount"])
                rule = self.rules.priority(amount, self._age(row, as_of))
                case = Case(
                    exception_id=exception_id, root_cause=row["root_cause"],
                    partner_id=row.get("partner_id"), rail=row.get("rail"),
                    external_id=row.get("external_id"), payment_id=row.get("payment_id"),
                    loan_id=row.get("loan_id"), amount=amount, difference=row.get("difference"),
                    detail=row.get("detail"), value_date=row.get("value_date"),
                    detected_on=row.get("detected_on"), opened_on=as_of, priority=rule.name,
                    due_on=as_of + dt.timedelta(days=rule.sla_days), status="open",
                    created_at=now, updated_at=now,
                )  # fmt: skip
                session.add(case)
                new.append(case)
            session.flush()
            for case in new:
                session.add(CaseEvent(
                    case_id=case.case_id, at=now, actor=actor, action="opened",
                    detail=f"from exception {case.exception_id}, priority {case.priority}, "
                           f"due {case.due_on}",
                ))  # fmt: skip
            session.commit()
            return [c.case_id for c in new], len(rows) - len(new)

    def _escalate(self, as_of: dt.date, actor: str) -> list[int]:
        order = self.rules.order
        escalated = []
        with self._sessions() as session:
            active = session.execute(
                select(
                    Case.case_id, Case.amount, Case.value_date, Case.opened_on, Case.priority
                ).where(Case.status.in_(ACTIVE_STATUSES), Case.opened_on <= as_of)
            ).all()
        for case_id, amount, value_date, opened_on, priority in active:
            age = max((as_of - value_date).days, 0) if value_date else (as_of - opened_on).days
            rule = self.rules.priority(amount, age)
            if order.index(rule.name) >= order.index(priority):
                continue
            due = opened_on + dt.timedelta(days=rule.sla_days)
            with contextlib.suppress(StaleCase):  # someone is working it: escalate next run
                with self.editing(
                    case_id,
                    actor=actor,
                    action="escalated",
                    detail=f"{priority} → {rule.name} (age {age} days)",
                ) as case:
                    case.priority = rule.name
                    case.due_on = min(case.due_on, due)
                escalated.append(case_id)
        return escalated

    # --- reading -------------------------------------------------------------------------

    def get(self, case_id: int, *, as_of: dt.date | None = None) -> CaseView:
        """One case with its notes and audit trail."""
        with self._sessions() as session:
            case = session.get(Case, case_id)
            if case is None:
                raise CaseNotFound(f"no case {case_id}")
            return self._view(case, as_of or _today(), full=True)

    def list(
        self,
        *,
        status: str | Sequence[str] | None = None,
        priority: str | Sequence[str] | None = None,
        breach: str | None = None,
        assignee: str | None = None,
        loan_id: str | None = None,
        as_of: dt.date | None = None,
    ) -> list[CaseView]:
        """Cases matching every filter, most urgent first (priority, then due date, then id).

        ``breach`` is ``breached``, ``at_risk`` or ``ok`` (neither), judged on ``as_of``
        (default today in Mexico City).
        """
        as_of = as_of or _today()
        if breach not in (None, "breached", "at_risk", "ok"):
            raise ValueError(f"breach must be breached, at_risk or ok, not {breach!r}")
        query = select(Case)
        for column, wanted in ((Case.status, status), (Case.priority, priority)):
            if wanted is not None:
                values = [wanted] if isinstance(wanted, str) else list(wanted)
                if column is Case.status:
                    bad = [v for v in values if v not in CASE_STATUSES]
                    if bad:
                        raise ValueError(f"unknown status {bad[0]!r}; use one of {CASE_STATUSES}")
                query = query.where(column.in_(values))
        if assignee is not None:
            query = query.where(Case.assignee == assignee)
        if loan_id is not None:
            query = query.where(Case.loan_id == loan_id)
        with self._sessions() as session:
            views = [self._view(c, as_of) for c in session.scalars(query)]
        if breach == "breached":
            views = [v for v in views if v.breached]
        elif breach == "at_risk":
            views = [v for v in views if v.at_risk]
        elif breach == "ok":
            views = [v for v in views if not v.breached and not v.at_risk]
        order = self.rules.order
        rank = {name: i for i, name in enumerate(order)}
        return sorted(views, key=lambda v: (rank.get(v.priority, len(order)), v.due_on,
                                            v.case_id))  # fmt: skip

    def _view(self, case: Case, as_of: dt.date, *, full: bool = False) -> CaseView:
        breached, at_risk = sla_flags(
            opened_on=case.opened_on, due_on=case.due_on, resolved_on=case.resolved_on,
            at_risk_on=self.rules.at_risk_on(case.opened_on, case.due_on), as_of=as_of,
        )  # fmt: skip
        notes: tuple[NoteView, ...] = ()
        events: tuple[tuple[dt.datetime, str, str, str | None], ...] = ()
        if full:
            notes = tuple(NoteView(n.note_id, n.author, n.body, n.created_at) for n in case.notes)
            events = tuple((e.at, e.actor, e.action, e.detail) for e in case.events)
        return CaseView(
            case_id=case.case_id, exception_id=case.exception_id, root_cause=case.root_cause,
            partner_id=case.partner_id, rail=case.rail, external_id=case.external_id,
            payment_id=case.payment_id, loan_id=case.loan_id, amount=case.amount,
            difference=case.difference, detail=case.detail, value_date=case.value_date,
            opened_on=case.opened_on, priority=case.priority, due_on=case.due_on,
            aclaracion_on=case.aclaracion_on, status=case.status, assignee=case.assignee,
            resolution=case.resolution, resolved_on=case.resolved_on, closed_on=case.closed_on,
            version=case.version, as_of=as_of, breached=breached, at_risk=at_risk, notes=notes,
            events=events,
        )  # fmt: skip

    # --- changing ------------------------------------------------------------------------

    def transition(
        self,
        case_id: int,
        status: str,
        *,
        actor: str,
        on: dt.date | None = None,
        resolution: str | None = None,
        expected_version: int | None = None,
    ) -> CaseView:
        """Move a case along the lifecycle; :class:`IllegalTransition` when not allowed.

        Resolving needs a ``resolution`` (what was done); it stops the SLA clock on ``on``.
        Reopening (``resolved → in_progress``) clears the resolution, which stays in the
        audit trail.
        """
        on = on or _today()
        if status == "resolved" and not (resolution and resolution.strip()):
            raise IllegalTransition(f"case {case_id}: resolving needs a resolution text")
        with self.editing(
            case_id,
            actor=actor,
            action=f"status:{status}",
            detail=resolution,
            expected_version=expected_version,
        ) as case:
            check_transition(case_id, case.status, status)
            if status == "resolved":
                case.resolution, case.resolved_on = resolution, on
            elif status == "closed":
                case.closed_on = on
            elif case.status == "resolved":
                case.resolution = case.resolved_on = None
            case.status = status
        return self.get(case_id, as_of=on)

    def start(self, case_id: int, *, actor: str, expected_version: int | None = None,
              on: dt.date | None = None) -> CaseView:  # fmt: skip
        """``open → in_progress``."""
        return self.transition(case_id, "in_progress", actor=actor, on=on,
                               expected_version=expected_version)  # fmt: skip

    def resolve(
        self,
        case_id: int,
        resolution: str,
        *,
        actor: str,
        on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> CaseView:
        """Resolve a case; an ``open`` case is taken ``in_progress`` first by the same actor."""
        view = self.get(case_id, as_of=on)
        if view.status == "open":
            view = self.start(case_id, actor=actor, on=on,
                              expected_version=expected_version)  # fmt: skip
            expected_version = view.version
        return self.transition(case_id, "resolved", actor=actor, on=on, resolution=resolution,
                               expected_version=expected_version)  # fmt: skip

    def assign(
        self, case_id: int, assignee: str | None, *, actor: str,
        expected_version: int | None = None,
    ) -> CaseView:  # fmt: skip
        """Give the case to ``assignee`` (``None`` unassigns)."""
        with self.editing(case_id, actor=actor, action="assigned", detail=assignee,
                          expected_version=expected_version) as case:  # fmt: skip
            if case.status == "closed":
                raise IllegalTransition(f"case {case_id} is closed: it cannot be reassigned")
            case.assignee = assignee
        return self.get(case_id)

    def mark_aclaracion(
        self, case_id: int, received_on: dt.date, *, actor: str,
        expected_version: int | None = None,
    ) -> CaseView:  # fmt: skip
        """Record that the customer filed an aclaración on ``received_on``: the case must be
        answered within 45 calendar days of it (LTOSF art. 23), whatever its priority says."""
        with self.editing(case_id, actor=actor, action="aclaracion",
                          detail=f"received {received_on}",
                          expected_version=expected_version) as case:  # fmt: skip
            case.aclaracion_on = received_on
            case.due_on = min(case.due_on, received_on + dt.timedelta(days=ACLARACION_DAYS))
        return self.get(case_id)

    def add_note(self, case_id: int, body: str, *, author: str) -> NoteView:
        """Append a note. Notes never change and never conflict: they are new rows."""
        if not body.strip():
            raise ValueError("a note needs text")
        with self._sessions() as session:
            if session.get(Case, case_id) is None:
                raise CaseNotFound(f"no case {case_id}")
            note = CaseNote(case_id=case_id, author=author, body=body, created_at=_now())
            session.add(note)
            session.commit()
            return NoteView(note.note_id, note.author, note.body, note.created_at)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")  # wait for another writer, do not fail
    cursor.close()
