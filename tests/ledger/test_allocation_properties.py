"""Property tests of the account state on random books (DuckDB only, for speed).

The engine's closed-form SQL is checked against the naive payment-by-payment reference
(``ledger_reference``) on every column, dpd against the allocation, and point-in-time: nothing
dated after the as-of date changes the state at it.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import ibis
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger_reference as reference
from builders import register
from cobranza.contract import TABLES, contract_schema
from cobranza.engine import DuckDBEngine
from cobranza.ledger import account_states

Row = dict[str, Any]
MEXICO_CITY = ZoneInfo("America/Mexico_City")
UTC = dt.UTC

SETTINGS = settings(max_examples=80, deadline=None, database=None)

#: Times of day (UTC) that straddle the Mexico City midnight: 05:00Z/06:00Z are midnight in
#: summer time (until 2022-10-30) and standard time.
UTC_TIMES = [dt.time(0, 0), dt.time(4, 59, 59), dt.time(5, 0), dt.time(5, 30), dt.time(5, 59, 59),
             dt.time(6, 0), dt.time(6, 30), dt.time(12, 0), dt.time(23, 59, 59)]  # fmt: skip
#: As-of dates, drawn from small pools so that the compiled SQL (which embeds the dates and
#: costs far more to build than to run) can be cached; schedules are placed at random around
#: them. One pool straddles the end of Mexico City summer time, the other month ends in 2026.
AS_OF_POOLS = [
    [dt.date(2022, 10, 29), dt.date(2022, 10, 30), dt.date(2022, 10, 31), dt.date(2022, 11, 20)],
    [dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 15)],
]
STATUSES = ["settled", "settled", "settled", "pending", "reversed"]
TABLES_BY_NAME = {name: ibis.table(contract_schema(table), name=name)
                  for name, table in TABLES.items()}  # fmt: skip


def cents(draw: st.DrawFn, high: int) -> Decimal:
    """An amount of 0 to ``high`` cents, exactly zero about half the time."""
    return Decimal(draw(st.just(0) | st.integers(0, high))) / 100


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def due_dates(opened_on: dt.date, frequency: str, n: int) -> list[dt.date]:
    if frequency == "monthly":
        return [add_months(opened_on, k) for k in range(1, n + 1)]
    step = 7 if frequency == "weekly" else 14
    return [opened_on + dt.timedelta(days=step * k) for k in range(1, n + 1)]


def periods_before(day: dt.date, frequency: str, n: int) -> dt.date:
    """The opening date whose n-th installment falls due on ``day`` (for monthly schedules,
    when ``day`` is at most the 28th)."""
    if frequency == "monthly":
        return add_months(day, -n)
    return day - days(n * (7 if frequency == "weekly" else 14))


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@dataclass
class Book:
    loans: list[Row] = field(default_factory=list)
    installments: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)
    dates: list[dt.date] = field(default_factory=list)


@st.composite
def books(draw: st.DrawFn, max_dates: int = 3) -> Book:
    """1–3 loans with 1–12 installments and payments around the due dates and the as-of dates;
    1–``max_dates`` as-of dates."""
    pool = draw(st.sampled_from(AS_OF_POOLS))
    book = Book(dates=sorted(draw(st.lists(st.sampled_from(pool), min_size=1,
                                           max_size=max_dates, unique=True))))  # fmt: skip
    first = book.dates[0]
    for k in range(1, draw(st.integers(1, 3)) + 1):
        loan_id = f"L{k}"
        product = draw(st.sampled_from(["installment", "installment", "revolving"]))
        frequency = draw(st.sampled_from(["weekly", "biweekly", "monthly"]))
        if draw(st.booleans()):
            # Mostly opened before the first as-of date, sometimes after it (then absent).
            opened_on = first + days(draw(st.integers(-150, 5)))
        else:
            # Whole periods before an as-of date, so that an installment falls due on it.
            opened_on = periods_before(draw(st.sampled_from(book.dates)), frequency,
                                       draw(st.integers(1, 6)))  # fmt: skip
        dues = due_dates(opened_on, frequency, draw(st.integers(1, 12)))
        later = st.none() | st.integers(0, 200).map(lambda n, o=opened_on: o + days(n))
        book.loans.append(dict(
            loan_id=loan_id, customer_id=f"C{k}", product=product, opened_on=opened_on,
            principal=Decimal(1000), annual_rate=Decimal("0.45"), frequency=frequency,
            term=len(dues) if product == "installment" else None,
            written_off_on=draw(later), closed_on=draw(later),
        ))  # fmt: skip
        totals = []
        for seq, due_date in enumerate(dues, 1):
            row = dict(loan_id=loan_id, seq=seq, due_date=due_date,
                       principal_due=cents(draw, 30000), interest_due=cents(draw, 5000),
                       fees_due=cents(draw, 2000), statement_balance=(
                           cents(draw, 10**6) if product == "revolving" else None))  # fmt: skip
            book.installments.append(row)
            totals.append(row["principal_due"] + row["interest_due"] + row["fees_due"])
        # Exact installment amounts and exact sums of the first installments hit the
        # allocated == due edges; other amounts fall anywhere.
        exact = [a for a in (*totals, *itertools.accumulate(totals)) if a > 0]
        amounts = st.sampled_from(exact or [Decimal("0.01")]) | st.integers(1, 80000).map(
            lambda c: Decimal(c) / 100
        )
        near_due = st.sampled_from(dues).flatmap(
            lambda d: st.integers(-3, 3).map(lambda n: d + days(n))
        )
        near_as_of = st.sampled_from(book.dates).flatmap(
            lambda d: st.integers(-1, 1).map(lambda n: d + days(n))
        )
        for j in range(draw(st.integers(0, 8))):
            day = draw(near_due | near_as_of)
            book.payments.append(dict(
                payment_id=f"{loan_id}-P{j}", loan_id=loan_id,
                paid_at=dt.datetime.combine(day, draw(st.sampled_from(UTC_TIMES)), tzinfo=UTC),
                amount=draw(amounts), channel="spei", status=draw(st.sampled_from(STATUSES)),
            ))  # fmt: skip
    return book


@functools.cache
def state_sql(dates: tuple[dt.date, ...]) -> str:
    t = TABLES_BY_NAME
    expr = account_states(t["loans"], t["installments"], t["payments"], list(dates))
    return ibis.to_sql(expr, dialect="duckdb")


def engine_states(engine: DuckDBEngine, book: Book) -> list[Row]:
    register(engine, loans=book.loans, installments=book.installments, payments=book.payments)
    rows = engine.con.sql(state_sql(tuple(book.dates))).to_arrow_table().to_pylist()
    return sorted(rows, key=lambda r: (r["as_of"], r["loan_id"]))


def test_engine_matches_reference() -> None:
    with DuckDBEngine(threads=1) as engine:

        @SETTINGS
        @given(books())
        def check(book: Book) -> None:
            expected = reference.account_states(
                book.loans, book.installments, book.payments, book.dates
            )
            assert engine_states(engine, book) == expected

        check()


def test_dpd_agrees_with_allocation() -> None:
    with DuckDBEngine(threads=1) as engine:

        @SETTINGS
        @given(books())
        def check(book: Book) -> None:
            for row in engine_states(engine, book):
                as_of, loan_id = row["as_of"], row["loan_id"]
                schedule = [i for i in book.installments if i["loan_id"] == loan_id]
                counted = [p for p in book.payments
                           if p["loan_id"] == loan_id and reference.counts(p, as_of)]  # fmt: skip
                late = [s.due_date for s in reference.allocate(schedule, counted)
                        if s.due_date < as_of and s.allocated < s.total_due]  # fmt: skip
                assert (row["dpd"] > 0) == bool(late), row
                assert row["dpd"] == ((as_of - min(late)).days if late else 0), row

        check()


@st.composite
def books_with_later_data(draw: st.DrawFn) -> tuple[Book, Book]:
    """A book at one as-of date D, and the same book with payments made after D (Mexico City
    time, from the first instant of D + 1) and write-off or closing dates after D."""
    book = draw(books(max_dates=1))
    day = book.dates[0]
    later = replace(book, loans=[dict(r) for r in book.loans], payments=list(book.payments))
    for k in range(draw(st.integers(1, 3))):
        when = dt.datetime.combine(day + dt.timedelta(days=draw(st.integers(1, 60))),
                                   draw(st.sampled_from([dt.time(0), dt.time(0, 0, 1),
                                                         dt.time(12), dt.time(23, 59)])),
                                   tzinfo=MEXICO_CITY)  # fmt: skip
        later.payments.append(dict(
            payment_id=f"LATE{k}", loan_id=draw(st.sampled_from(book.loans))["loan_id"],
            paid_at=when.astimezone(UTC), amount=Decimal(draw(st.integers(1, 10**6))) / 100,
            channel="spei", status=draw(st.sampled_from(["settled", "pending", "reversed"])),
        ))  # fmt: skip
    for loan in later.loans:
        for column in ("written_off_on", "closed_on"):
            if loan[column] is None and draw(st.booleans()):
                loan[column] = day + dt.timedelta(days=draw(st.integers(1, 90)))
    return book, later


def test_data_after_as_of_changes_nothing() -> None:
    with DuckDBEngine(threads=1) as engine:

        @SETTINGS
        @given(books_with_later_data())
        def check(pair: tuple[Book, Book]) -> None:
            book, later = pair
            assert engine_states(engine, later) == engine_states(engine, book)

        check()
