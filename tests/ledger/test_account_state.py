"""Account state on hand-made books, on both engines, against the specification (§3).

Every expected value is worked out in the test from the schedule and the payments. Each case
is also run through the naive reference (``ledger_reference``), so the hand arithmetic checks
the reference as much as the engine.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import pytest

import ledger_reference as reference
from builders import MX, money, monthly_loan, register
from cobranza.engine import Engine
from cobranza.ledger import (
    ACCOUNT_STATE_COLUMNS,
    DATES_PER_QUERY,
    DEFAULT_BUCKETS,
    Buckets,
    account_states,
    materialize_states,
)

UTC = dt.UTC
D = dt.date
_payment_ids = itertools.count(1)

Row = dict[str, Any]


def pay(loan_id: str, when: dt.datetime | dt.date, amount: str, status: str = "settled") -> Row:
    """A payment row; a bare date means noon in Mexico City that day."""
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time(12), tzinfo=MX)
    return dict(payment_id=f"P{next(_payment_ids)}", loan_id=loan_id, paid_at=when,
                amount=money(amount), channel="spei", status=status)  # fmt: skip


def periodic_loan(
    loan_id: str,
    *,
    opened_on: dt.date,
    every: int,
    n: int,
    principal: str,
    interest: str,
    fees: str = "0",
    frequency: str = "weekly",
) -> tuple[Row, list[Row]]:
    """A loan with ``n`` equal installments every ``every`` days, the first ``every`` days
    after ``opened_on``."""
    loan, _ = monthly_loan(loan_id, opened_on=opened_on, n=n, principal=principal,
                           frequency=frequency)  # fmt: skip
    rows = [
        dict(loan_id=loan_id, seq=seq, due_date=opened_on + dt.timedelta(days=every * seq),
             principal_due=money(principal), interest_due=money(interest), fees_due=money(fees))
        for seq in range(1, n + 1)
    ]  # fmt: skip
    return loan, rows


@dataclass
class Book:
    """Loans, installments and payments of one test, as contract rows."""

    loans: list[Row] = field(default_factory=list)
    installments: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)

    def add(self, loan: tuple[Row, list[Row]], *payments: Row) -> Book:
        self.loans.append(loan[0])
        self.installments.extend(loan[1])
        self.payments.extend(payments)
        return self


def state_expr(engine: Engine, book: Book, dates: list[dt.date], buckets: Buckets) -> ir.Table:
    t = register(engine, loans=book.loans, installments=book.installments,
                 payments=book.payments)  # fmt: skip
    return account_states(t["loans"], t["installments"], t["payments"], dates, buckets)


def run(engine: Engine, book: Book, dates: list[dt.date], buckets: Buckets) -> list[Row]:
    rows = engine.fetch(state_expr(engine, book, dates, buckets)).to_pylist()
    return sorted(rows, key=lambda r: (r["as_of"], r["loan_id"]))


@dataclass
class States:
    """The engine's rows and the reference's rows for the same book and dates."""

    engine: dict[tuple[dt.date, str], Row]
    reference: dict[tuple[dt.date, str], Row]

    def check(self, as_of: dt.date, loan_id: str, **expected: Any) -> None:
        """Assert the hand-computed ``expected`` columns of one row, engine and reference."""
        for who, rows in (("engine", self.engine), ("reference", self.reference)):
            assert (as_of, loan_id) in rows, f"{who}: no row for {loan_id} at {as_of}"
            row = rows[as_of, loan_id]
            got = {k: row[k] for k in expected}
            assert got == expected, f"{who}: {loan_id} at {as_of}"

    def keys(self) -> set[tuple[dt.date, str]]:
        assert set(self.engine) == set(self.reference)
        return set(self.engine)


def states(
    engine: Engine, book: Book, dates: list[dt.date], buckets: Buckets = DEFAULT_BUCKETS
) -> States:
    rows = run(engine, book, dates, buckets)
    assert all(tuple(r) == ACCOUNT_STATE_COLUMNS for r in rows)
    ref = reference.account_states(book.loans, book.installments, book.payments, dates, buckets)
    return States(
        {(r["as_of"], r["loan_id"]): r for r in rows},
        {(r["as_of"], r["loan_id"]): r for r in ref},
    )


# monthly_loan(): 3 installments due 2026-02-01, 03-01, 04-01 of 100 principal + 10 interest.
DUE_1, DUE_2, DUE_3 = D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1)


def test_partial_payment(engine: Engine) -> None:
    book = Book().add(monthly_loan("L1"), pay("L1", DUE_1, "60"))
    got = states(engine, book, [D(2026, 2, 10)])
    # 60 of the 110 due on 02-01: fees 0, interest 10, principal 50 → 50 still owed.
    got.check(D(2026, 2, 10), "L1", status="active", dpd=(D(2026, 2, 10) - DUE_1).days,
              bucket="1-29", past_due_amount=money(110 - 60), installments_past_due=1,
              outstanding_principal=money(300 - (60 - 10)), last_payment_date=DUE_1,
              next_due_date=DUE_2, next_due_amount=money(110))  # fmt: skip
    assert got.engine[D(2026, 2, 10), "L1"]["dpd"] == 9


def test_overpayment_carried_forward(engine: Engine) -> None:
    book = (
        Book()
        .add(monthly_loan("L1"), pay("L1", D(2026, 1, 20), "150"))
        .add(monthly_loan("L2"), pay("L2", D(2026, 1, 20), "220"))
    )
    dates = [DUE_1, D(2026, 3, 2), D(2026, 3, 15)]
    got = states(engine, book, dates)
    # L1: 150 = 110 for installment 1 + 40 carried to installment 2 (interest 10, principal 30).
    got.check(DUE_1, "L1", dpd=0, bucket="current", past_due_amount=money(0),
              installments_past_due=0, outstanding_principal=money(300 - 100 - 30),
              next_due_date=DUE_2, next_due_amount=money(110 - 40))  # fmt: skip
    # After 03-01 the prepayment no longer covers installment 2: 70 owed since 03-01.
    got.check(D(2026, 3, 2), "L1", dpd=1, bucket="1-29", past_due_amount=money(70),
              installments_past_due=1, next_due_date=DUE_3, next_due_amount=money(110))  # fmt: skip
    # L2: 220 = installments 1 and 2 in full: current through March, next due 04-01.
    for day in dates:
        got.check(day, "L2", status="active", dpd=0, bucket="current",
                  past_due_amount=money(0), installments_past_due=0,
                  outstanding_principal=money(300 - 200), next_due_date=DUE_3,
                  next_due_amount=money(110))  # fmt: skip


def test_reversed_and_pending_payments_ignored(engine: Engine) -> None:
    book = Book().add(
        monthly_loan("L1"),
        pay("L1", D(2026, 1, 20), "10"),
        pay("L1", D(2026, 1, 25), "110", status="reversed"),
        pay("L1", D(2026, 1, 26), "110", status="pending"),
    )
    got = states(engine, book, [D(2026, 2, 5)])
    # Only the settled 10 counts (interest first): 100 of installment 1 still owed.
    got.check(D(2026, 2, 5), "L1", dpd=4, bucket="1-29", past_due_amount=money(110 - 10),
              outstanding_principal=money(300), installments_past_due=1,
              last_payment_date=D(2026, 1, 20))  # fmt: skip


def test_payment_on_the_due_date(engine: Engine) -> None:
    late_evening = dt.datetime.combine(DUE_1, dt.time(23, 59), tzinfo=MX)
    book = Book().add(monthly_loan("L1"), pay("L1", late_evening, "110")).add(monthly_loan("L2"))
    got = states(engine, book, [DUE_1, DUE_1 + dt.timedelta(days=1)])
    # On its due date an installment is not past due, paid or not.
    got.check(DUE_1, "L1", dpd=0, bucket="current", past_due_amount=money(0),
              installments_past_due=0, last_payment_date=DUE_1, next_due_date=DUE_2,
              next_due_amount=money(110))  # fmt: skip
    got.check(DUE_1, "L2", dpd=0, bucket="current", past_due_amount=money(0),
              installments_past_due=0, last_payment_date=None, next_due_date=DUE_1,
              next_due_amount=money(110))  # fmt: skip
    # The day after, only the unpaid one is 1 day past due.
    got.check(D(2026, 2, 2), "L1", dpd=0, past_due_amount=money(0), installments_past_due=0)
    got.check(D(2026, 2, 2), "L2", dpd=1, bucket="1-29", past_due_amount=money(110),
              installments_past_due=1, next_due_date=DUE_2)  # fmt: skip


def test_mexico_city_day_boundary(engine: Engine) -> None:
    first = pay("L1", D(2026, 1, 20), "110")
    book = (
        Book()
        # 05:30Z is 23:30 on 03-31 in Mexico City (UTC−6): paid on 03-31.
        .add(monthly_loan("L1"), first,
             pay("L1", dt.datetime(2026, 4, 1, 5, 30, tzinfo=UTC), "110"))
        # 06:30Z is 00:30 on 04-01 in Mexico City: paid on 04-01.
        .add(monthly_loan("L2"), {**first, "payment_id": "P-L2", "loan_id": "L2"},
             pay("L2", dt.datetime(2026, 4, 1, 6, 30, tzinfo=UTC), "110"))
        # 06:00:00Z is midnight starting 04-01 in Mexico City: paid on 04-01.
        .add(monthly_loan("L3"), {**first, "payment_id": "P-L3", "loan_id": "L3"},
             pay("L3", dt.datetime(2026, 4, 1, 6, 0, tzinfo=UTC), "110"))
    )  # fmt: skip
    end_of_march, april_1 = D(2026, 3, 31), D(2026, 4, 1)
    got = states(engine, book, [end_of_march, april_1])
    got.check(end_of_march, "L1", dpd=0, bucket="current", past_due_amount=money(0),
              last_payment_date=end_of_march)  # fmt: skip
    got.check(end_of_march, "L2", dpd=(end_of_march - DUE_2).days, bucket="30-59",
              past_due_amount=money(110), last_payment_date=D(2026, 1, 20))  # fmt: skip
    assert got.engine[end_of_march, "L2"]["dpd"] == 30
    got.check(end_of_march, "L3", dpd=30, last_payment_date=D(2026, 1, 20))
    for loan_id in ("L2", "L3"):
        got.check(april_1, loan_id, dpd=0, past_due_amount=money(0), last_payment_date=april_1)


def test_mexico_city_daylight_saving_before_2022(engine: Engine) -> None:
    # Mexico City kept summer time (UTC−5) until October 2022: 2022-07-01T05:30Z was 00:30 on
    # 07-01 there, so it does not count on 06-30; 04:30Z (23:30 on 06-30) does.
    opened = D(2022, 5, 1)  # installments due 06-01, 07-01, 08-01
    book = (
        Book()
        .add(monthly_loan("S1", opened_on=opened),
             pay("S1", dt.datetime(2022, 7, 1, 4, 30, tzinfo=UTC), "110"))
        .add(monthly_loan("S2", opened_on=opened),
             pay("S2", dt.datetime(2022, 7, 1, 5, 30, tzinfo=UTC), "110"))
    )  # fmt: skip
    got = states(engine, book, [D(2022, 6, 30)])
    got.check(D(2022, 6, 30), "S1", dpd=0, last_payment_date=D(2022, 6, 30))
    got.check(D(2022, 6, 30), "S2", dpd=(D(2022, 6, 30) - D(2022, 6, 1)).days,
              last_payment_date=None)  # fmt: skip


def test_weekly_and_biweekly_schedules(engine: Engine) -> None:
    opened = D(2026, 3, 1)
    # Weekly: 55 due on 03-08, 03-15, 03-22, 03-29, 04-05, 04-12; only the first is paid.
    weekly = periodic_loan("W", opened_on=opened, every=7, n=6, principal="50", interest="5")
    # Biweekly: 30 due on 03-15, 03-29, 04-12, 04-26, 05-10; nothing paid.
    biweekly = periodic_loan("B", opened_on=opened, every=14, n=5, principal="25",
                             interest="5", frequency="biweekly")  # fmt: skip
    book = Book().add(weekly, pay("W", D(2026, 3, 8), "55")).add(biweekly)
    april_1, may_1 = D(2026, 4, 1), D(2026, 5, 1)
    got = states(engine, book, [april_1, may_1])
    # W at 04-01: 03-15, 03-22 and 03-29 missed → dpd from 03-15.
    got.check(april_1, "W", dpd=(april_1 - D(2026, 3, 15)).days, bucket="1-29",
              installments_past_due=3, past_due_amount=money(3 * 55),
              outstanding_principal=money(5 * 50), next_due_date=D(2026, 4, 5),
              next_due_amount=money(55))  # fmt: skip
    assert got.engine[april_1, "W"]["dpd"] == 17
    # W at 05-01: all five unpaid installments are past due, none left to come.
    got.check(may_1, "W", dpd=(may_1 - D(2026, 3, 15)).days, bucket="30-59",
              installments_past_due=5, past_due_amount=money(5 * 55), next_due_date=None,
              next_due_amount=None)  # fmt: skip
    # B at 05-01: 03-15, 03-29, 04-12 and 04-26 missed.
    got.check(may_1, "B", dpd=(may_1 - D(2026, 3, 15)).days, bucket="30-59",
              installments_past_due=4, past_due_amount=money(4 * 30),
              outstanding_principal=money(5 * 25), next_due_date=D(2026, 5, 10),
              next_due_amount=money(30))  # fmt: skip
    assert got.engine[may_1, "B"]["dpd"] == 47


def test_fees_then_interest_then_principal(engine: Engine) -> None:
    # Installments of fees 5 + interest 10 + principal 100 = 115.
    loan = monthly_loan("L1", fees="5")
    book = Book().add(loan, pay("L1", D(2026, 1, 10), "12"), pay("L1", D(2026, 1, 20), "8"))
    got = states(engine, book, [D(2026, 1, 15), D(2026, 1, 25)])
    # 12 → fees 5, interest 7: no principal repaid yet.
    got.check(D(2026, 1, 15), "L1", outstanding_principal=money(300),
              next_due_amount=money(115 - 12))  # fmt: skip
    # +8 → interest 3 more (10), principal 5.
    got.check(D(2026, 1, 25), "L1", outstanding_principal=money(300 - (20 - 5 - 10)),
              next_due_amount=money(115 - 20))  # fmt: skip


def statement(loan_id: str, seq: int, due: dt.date, minimum: str, balance: str) -> Row:
    """A revolving statement: a minimum payment (80 % principal, 20 % interest) and a balance."""
    low = money(minimum)
    return dict(loan_id=loan_id, seq=seq, due_date=due, principal_due=low * 4 / 5,
                interest_due=low / 5, fees_due=money(0),
                statement_balance=money(balance))  # fmt: skip


def revolving(loan_id: str, **loan: Any) -> tuple[Row, list[Row]]:
    row, _ = monthly_loan(loan_id, product="revolving", principal="5000", n=1, **loan)
    schedule = [
        statement(loan_id, 1, DUE_1, "200", "3000"),
        statement(loan_id, 2, DUE_2, "250", "3500"),
        statement(loan_id, 3, DUE_3, "300", "3600"),
    ]
    return row, schedule


def test_revolving_minimum_payments(engine: Engine) -> None:
    book = (
        Book()
        .add(revolving("R1"), pay("R1", D(2026, 1, 30), "200"))
        .add(revolving("R2"), pay("R2", D(2026, 1, 30), "750"))
    )
    dates = [D(2026, 1, 15), DUE_2, D(2026, 3, 10), D(2026, 4, 5)]
    got = states(engine, book, dates)
    # Before the first statement is due: nothing owed, no balance yet.
    got.check(D(2026, 1, 15), "R1", dpd=0, outstanding_principal=money(0),
              next_due_date=DUE_1, next_due_amount=money(200))  # fmt: skip
    # On its due date the second statement's balance is the balance, its minimum not yet late.
    got.check(DUE_2, "R1", dpd=0, past_due_amount=money(0), outstanding_principal=money(3500),
              next_due_date=DUE_2, next_due_amount=money(250))  # fmt: skip
    # R1 paid the first minimum only: the 250 due 03-01 is 9 days late.
    got.check(D(2026, 3, 10), "R1", status="active", dpd=9, bucket="1-29",
              past_due_amount=money(250), installments_past_due=1,
              outstanding_principal=money(3500), next_due_date=DUE_3,
              next_due_amount=money(300))  # fmt: skip
    got.check(D(2026, 4, 5), "R1", dpd=(D(2026, 4, 5) - DUE_2).days,
              past_due_amount=money(250 + 300), outstanding_principal=money(3600))  # fmt: skip
    # R2 paid every minimum (200 + 250 + 300): current, but a credit line stays open.
    got.check(D(2026, 4, 5), "R2", status="active", dpd=0, bucket="current",
              past_due_amount=money(0), outstanding_principal=money(3600),
              next_due_date=None, next_due_amount=None)  # fmt: skip


def test_written_off_loan(engine: Engine) -> None:
    written_off = D(2026, 6, 15)
    book = Book().add(monthly_loan("L1", written_off_on=written_off))
    day_before = written_off - dt.timedelta(days=1)
    got = states(engine, book, [day_before, written_off])
    # Nothing paid: dpd counts from 02-01 (133 days on 06-14).
    got.check(day_before, "L1", status="active", dpd=(day_before - DUE_1).days,
              bucket="120-179", past_due_amount=money(330))  # fmt: skip
    assert got.engine[day_before, "L1"]["dpd"] == 133
    got.check(written_off, "L1", status="written_off", bucket="written_off",
              dpd=(written_off - DUE_1).days, past_due_amount=money(330))  # fmt: skip


def test_paid_off_loans(engine: Engine) -> None:
    closed = D(2026, 2, 10)
    book = (
        Book()
        # L1 pays all three installments (3 × 110) on 01-15.
        .add(monthly_loan("L1"), pay("L1", D(2026, 1, 15), "330"))
        # L2 pays nothing but is closed on 02-10; R is a credit line closed on 02-10.
        .add(monthly_loan("L2", closed_on=closed))
        .add(revolving("R", closed_on=closed))
    )
    got = states(engine, book, [D(2026, 1, 14), D(2026, 1, 15), closed - dt.timedelta(days=1),
                                closed])  # fmt: skip
    got.check(D(2026, 1, 14), "L1", status="active", bucket="current",
              outstanding_principal=money(300), next_due_date=DUE_1)  # fmt: skip
    got.check(D(2026, 1, 15), "L1", status="paid_off", bucket="paid_off", dpd=0,
              past_due_amount=money(0), outstanding_principal=money(0),
              installments_past_due=0, next_due_date=None, next_due_amount=None,
              last_payment_date=D(2026, 1, 15))  # fmt: skip
    got.check(closed - dt.timedelta(days=1), "L2", status="active", dpd=8, bucket="1-29")
    got.check(closed - dt.timedelta(days=1), "R", status="active", dpd=8, bucket="1-29")
    # closed_on ≤ D makes both paid off; dpd still measures the unpaid installment (spec §3:
    # dpd = D − oldest unpaid due date < D, whatever the status), as past_due_amount does.
    got.check(closed, "L2", status="paid_off", bucket="paid_off", dpd=9,
              past_due_amount=money(110), installments_past_due=1)  # fmt: skip
    got.check(closed, "R", status="paid_off", bucket="paid_off", dpd=9,
              past_due_amount=money(200), outstanding_principal=money(3000))  # fmt: skip


def test_loan_opened_after_as_of_is_absent(engine: Engine) -> None:
    book = Book().add(monthly_loan("L1")).add(monthly_loan("L2", opened_on=D(2026, 3, 1)))
    got = states(engine, book, [D(2026, 2, 28), D(2026, 3, 1)])
    # L2 is absent before its opening date and present from it.
    assert got.keys() == {(D(2026, 2, 28), "L1"), (D(2026, 3, 1), "L1"), (D(2026, 3, 1), "L2")}
    got.check(D(2026, 3, 1), "L2", status="active", dpd=0, next_due_date=D(2026, 4, 1))


def test_past_due_count_next_due_and_last_payment(engine: Engine) -> None:
    # Four installments of 110 due 02-01, 03-01, 04-01, 05-01.
    book = Book().add(
        monthly_loan("L1", n=4),
        pay("L1", D(2026, 1, 31), "110"),
        pay("L1", D(2026, 3, 5), "50"),
        pay("L1", D(2026, 4, 20), "500"),  # after the as-of date: must not count
    )
    got = states(engine, book, [D(2026, 4, 10)])
    # 160 paid: installment 1 in full, 50 of installment 2 → 2 and 3 past due.
    got.check(D(2026, 4, 10), "L1", dpd=(D(2026, 4, 10) - DUE_2).days, bucket="30-59",
              installments_past_due=2, past_due_amount=money(60 + 110),
              outstanding_principal=money(400 - 100 - 40), last_payment_date=D(2026, 3, 5),
              next_due_date=D(2026, 5, 1), next_due_amount=money(110))  # fmt: skip


def test_bucket_edges(engine: Engine) -> None:
    # One unpaid installment of 110 per loan, due n days before the as-of date: dpd = n.
    as_of = D(2026, 12, 31)
    days = [0, 1, 29, 30, 31, 59, 60, 61, 89, 90, 91, 119, 120, 179, 180, 400]
    book = Book()
    for n in days:
        due = as_of - dt.timedelta(days=n)
        book.add(periodic_loan(f"L{n:03}", opened_on=due - dt.timedelta(days=7), every=7, n=1,
                               principal="100", interest="10"))  # fmt: skip
    default = states(engine, book, [as_of])
    edged = states(engine, book, [as_of], Buckets((1, 31, 61, 91)))
    expect_default = ["current", "1-29", "1-29", "30-59", "30-59", "30-59", "60-89", "60-89",
                      "60-89", "90-119", "90-119", "90-119", "120-179", "120-179", "180+",
                      "180+"]  # fmt: skip
    expect_custom = ["current", "1-30", "1-30", "1-30", "31-60", "31-60", "31-60", "61-90",
                     "61-90", "61-90", "91+", "91+", "91+", "91+", "91+", "91+"]  # fmt: skip
    for n, label, custom_label in zip(days, expect_default, expect_custom, strict=True):
        default.check(as_of, f"L{n:03}", dpd=n, bucket=label)
        edged.check(as_of, f"L{n:03}", dpd=n, bucket=custom_label)


def multi_date_book() -> Book:
    return (
        Book()
        .add(monthly_loan("L1", fees="5"), pay("L1", D(2026, 1, 31), "80"),
             pay("L1", dt.datetime(2026, 3, 2, 5, 59, tzinfo=UTC), "200"))
        .add(monthly_loan("L2", opened_on=D(2026, 2, 15), written_off_on=D(2026, 6, 1)))
        .add(revolving("R1"), pay("R1", D(2026, 3, 1), "450"),
             pay("R1", D(2026, 2, 1), "999", status="reversed"))
        .add(periodic_loan("W", opened_on=D(2026, 1, 20), every=7, n=8, principal="20",
                           interest="2"), pay("W", D(2026, 2, 3), "66"))
    )  # fmt: skip


def test_multi_date_equals_single_dates(engine: Engine) -> None:
    book = multi_date_book()
    # Before L2 opens, around the UTC-boundary payment on 03-02 (05:59Z = 03-01 23:59 local),
    # and after L2's write-off.
    dates = [D(2026, 2, 1), D(2026, 3, 1), D(2026, 7, 1)]
    together = run(engine, book, dates, DEFAULT_BUCKETS)
    apart = [row for day in dates for row in run(engine, book, [day], DEFAULT_BUCKETS)]
    assert together == apart
    assert {r["as_of"] for r in together} == set(dates)
    ref = reference.account_states(book.loans, book.installments, book.payments, dates)
    assert together == ref


def test_statement_without_balance(engine: Engine) -> None:
    # The latest statement due by D gives the outstanding balance even when it has none (the
    # contract makes statement_balance optional): not an older statement's balance.
    loan, schedule = revolving("R1")
    schedule[1]["statement_balance"] = None
    book = Book().add((loan, schedule), pay("R1", D(2026, 1, 30), "200"))
    dates = [D(2026, 2, 15), DUE_2, D(2026, 3, 15), DUE_3]
    together = run(engine, book, dates, DEFAULT_BUCKETS)
    apart = [row for day in dates for row in run(engine, book, [day], DEFAULT_BUCKETS)]
    assert together == apart
    outstanding = {row["as_of"]: row["outstanding_principal"] for row in together}
    assert outstanding == {D(2026, 2, 15): money("3000"), DUE_2: money("0"),
                           D(2026, 3, 15): money("0"), DUE_3: money("3600")}  # fmt: skip


def test_materialized_states_in_batches_equal_one_query(duckdb_engine: Engine) -> None:
    # More dates than one query takes: the batches together are the states of every date.
    book = multi_date_book()
    t = register(duckdb_engine, loans=book.loans, installments=book.installments,
                 payments=book.payments)  # fmt: skip
    dates = [D(2026, 1, 1) + dt.timedelta(days=10 * i) for i in range(DATES_PER_QUERY + 3)]
    kept = materialize_states(duckdb_engine, t, [*dates, dates[0]], "kept")
    # Two queries, each kept; between them every date once.
    parts = [
        set(
            duckdb_engine.fetch(duckdb_engine.table(f"kept_{i}").select("as_of"))
            .column(0)
            .to_pylist()
        )
        for i in (0, 1)
    ]
    assert parts[0] and parts[1] and not parts[0] & parts[1]
    assert parts[0] | parts[1] == set(dates)
    got = sorted(duckdb_engine.fetch(kept).to_pylist(), key=lambda r: (r["as_of"], r["loan_id"]))
    assert got == reference.account_states(book.loans, book.installments, book.payments, dates)
    with pytest.raises(ValueError, match="at least one as-of date"):
        materialize_states(duckdb_engine, t, [], "none")
