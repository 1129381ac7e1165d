"""Tables of the case store (the ORM mapping; the schema itself is made by the migrations).

Money is kept exact: ``NUMERIC(20, 5)`` on PostgreSQL, the decimal's text on SQLite (whose
NUMERIC affinity would store a binary float).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

from cobranza.payments.cases._errors import IllegalTransition

__all__ = ["Base", "Case", "CaseEvent", "CaseNote", "Money"]


class Money(TypeDecorator[Decimal]):
    """Exact decimal money on every backend."""

    impl = Numeric(20, 5)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(20, 5, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


class Base(DeclarativeBase):
    metadata = MetaData()


class Case(Base):
    """A payment exception someone has to work, with its SLA clock."""

    __tablename__ = "payment_cases"

    case_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    exception_id: Mapped[str] = mapped_column(String(200), unique=True)
    root_cause: Mapped[str] = mapped_column(String(40))
    partner_id: Mapped[str | None] = mapped_column(String(100))
    rail: Mapped[str | None] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(200))
    payment_id: Mapped[str | None] = mapped_column(String(200))
    loan_id: Mapped[str | None] = mapped_column(String(200), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    difference: Mapped[Decimal | None] = mapped_column(Money())
    detail: Mapped[str | None] = mapped_column(Text)
    value_date: Mapped[dt.date | None] = mapped_column(Date)
    detected_on: Mapped[dt.date | None] = mapped_column(Date)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[dt.date] = mapped_column(Date)
    aclaracion_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    assignee: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", order_by="CaseNote.note_id", viewonly=True
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.event_id", viewonly=True
    )

    # Optimistic locking: every UPDATE says WHERE version = <read>, so a concurrent writer's
    # change makes it touch no row and SQLAlchemy raises instead of overwriting.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseNote(Base):
    """A note on a case: written once, never edited or deleted."""

    __tablename__ = "payment_case_notes"

    note_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("payment_cases.case_id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    case: Mapped[Case] = relationship(back_populates="notes")


class CaseEvent(Base):
    """Audit trail: who changed what on a case, and when (append-only like notes)."""

    __tablename__ = "payment_case_events"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("payment_cases.case_id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="events")


def _append_only(mapper: Mapper[Any], connection: Any, target: Any) -> None:
    kind = "note" if isinstance(target, CaseNote) else "event"
    raise IllegalTransition(f"a case {kind} is append-only: it cannot be changed or deleted")


for _cls in (CaseNote, CaseEvent):
    event.listen(_cls, "before_update", _append_only)
    event.listen(_cls, "before_delete", _append_only)
