"""The variable catalog on a hand-made book, on both engines; point-in-time correctness.

Every expected value is worked out in the comments from the schedule and the payments.
All loans are monthly, 100 principal + 10 interest = 110 due on the 1st of each month.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis.expr.datatypes as dt_
import pytest

from builders import MX, money, monthly_loan, register
from cobranza.engine import Engine
from cobranza.features import CATALOG, compute_features

D = dt.date
AS_OF = D(2026, 6, 30)
_ids = itertools.count(1)
Row = dict[str, Any]


def pay(loan_id: str, day: dt.date | dt.datetime, amount: str, status: str = "settled") -> Row:
    """A payment; a bare date means noon in Mexico City that day."""
    when = day if isinstance(day, dt.datetime) else dt.datetime.combine(day, dt.time(12), MX)
    return dict(payment_id=f"P{next(_ids)}", loan_id=loan_id, paid_at=when,
                amount=money(amount), channel="spei", status=status)  # fmt: skip


def revolving(loan_id: str, customer_id: str, statements: list[tuple[dt.date, str, str]]):
    """A revolving line with a 1,000 limit; statements are (due date, minimum, balance)."""
    loan = dict(loan_id=loan_id, customer_id=customer_id, product="revolving",
                opened_on=D(2026, 3, 1), principal=money(1000), annual_rate=Decimal("0.6"),
                frequency="monthly")  # fmt: skip
    rows = [
        dict(loan_id=loan_id, seq=i, due_date=due, principal_due=money(minimum),
             interest_due=money(0), fees_due=money(0), statement_balance=money(balance))
        for i, (due, minimum, balance) in enumerate(statements, start=1)
    ]  # fmt: skip
    return loan, rows


def book(later: bool = False) -> dict[str, list[Row]]:
    """The test book at AS_OF; ``later`` adds rows dated after AS_OF that must not matter."""
    # L1: opened 2026-01-01, 6 installments due 02-01 … 07-01 (cumulative due 110, 220, …).
    # Paid 110 on 02-01, 120 on 03-10, 220 on 05-20 → running totals 110, 230, 450, so
    # installment 1 is covered on 02-01, 2 on 03-10, 3 and 4 (cum 330, 440) on 05-20, and 5
    # (cum 550) not yet: 10 of it is paid (the interest).
    l1 = monthly_loan("L1", opened_on=D(2026, 1, 1), n=6)
    # L2: revolving, statements due 04-01, 05-01, 06-01 (minimum 50; balance 400, 500, 600);
    # paid 50 on 04-01 and 05-01, the June minimum not paid.
    l2 = revolving("L2", "C2", [(D(2026, 4, 1), "50", "400"), (D(2026, 5, 1), "50", "500"),
                                (D(2026, 6, 1), "50", "600")])  # fmt: skip
    # L3: opened 2025-06-15, 13 installments due 2025-07-01 … 2026-07-01. Late twice: the
    # 2025-08-01 one paid on 09-15 (with 09-01's), the 2026-02-01 one paid on 04-10 (with
    # March and April's); everything due before AS_OF paid by 06-01.
    l3 = monthly_loan("L3", opened_on=D(2025, 6, 15), n=13)
    # L4 opens after AS_OF; L5 was paid off before it: neither has a row.
    l4 = monthly_loan("L4", opened_on=D(2026, 7, 10), n=3)
    l5 = monthly_loan("L5", opened_on=D(2026, 1, 1), n=3)
    loans = [l1[0], l2[0], l3[0], l4[0], l5[0]]
    installments = l1[1] + l2[1] + l3[1] + l4[1] + l5[1]
    payments = [
        pay("L1", D(2026, 2, 1), "110"), pay("L1", D(2026, 3, 10), "120"),
        pay("L1", D(2026, 5, 20), "220"),
        pay("L2", D(2026, 4, 1), "50"), pay("L2", D(2026, 5, 1), "50"),
        pay("L3", D(2025, 7, 1), "110"), pay("L3", D(2025, 9, 15), "220"),
        *[pay("L3", D(y, m, 1), "110") for y, m in [(2025, 10), (2025, 11), (2025, 12),
                                                     (2026, 1)]],
        pay("L3", D(2026, 4, 10), "330"), pay("L3", D(2026, 5, 1), "110"),
        # 23:30 on AS_OF in Mexico City (05:30Z the next day) still counts for AS_OF.
        pay("L3", dt.datetime(2026, 7, 1, 5, 30, tzinfo=dt.UTC), "110"),
        pay("L5", D(2026, 1, 15), "330"),
        # Not settled: never counted.
        pay("L1", D(2026, 6, 10), "500", status="reversed"),
        pay("L1", D(2026, 6, 11), "500", status="pending"),
    ]  # fmt: skip
    customers = [
        dict(customer_id="C1", state="CMX", monthly_income=money(11000)),
        dict(customer_id="C2", state="JAL", monthly_income=None),
    ]

    def contact(cid: str, loan_id: str, when: dt.datetime, outcome: str) -> Row:
        return dict(contact_id=cid, loan_id=loan_id, channel="call", attempted_at=when,
                    outcome=outcome)  # fmt: skip

    def promise(pid: str, loan_id: str, made: dt.date, due: dt.date, amount: str) -> Row:
        return dict(promise_id=pid, loan_id=loan_id, due_on=due, amount=money(amount),
                    made_at=dt.datetime.combine(made, dt.time(10), MX))  # fmt: skip

    contacts = [
        contact("K10", "L1", dt.datetime(2026, 6, 15, 12, tzinfo=MX), "right_party"),
        contact("K11", "L1", dt.datetime(2026, 6, 1, 0, 30, tzinfo=MX), "delivered"),
        contact("K12", "L1", dt.datetime(2026, 5, 31, 23, 0, tzinfo=MX), "no_answer"),
        contact("K13", "L3", dt.datetime(2026, 6, 30, 23, 50, tzinfo=MX), "promise"),
    ]
    promises = [
        # L1: broken, deadline 03-07 (due + 2 days of grace), resolved 03-08: too old.
        promise("R10", "L1", D(2026, 3, 1), D(2026, 3, 5), "110"),
        # L1: nothing settled 06-02 … 06-07 → broken, resolved 06-08: counts.
        promise("R11", "L1", D(2026, 6, 2), D(2026, 6, 5), "100"),
        # L1: deadline 07-01 is after AS_OF → open; 220 on 05-20 keeps R13.
        promise("R12", "L1", D(2026, 6, 25), D(2026, 6, 29), "100"),
        promise("R13", "L1", D(2026, 4, 25), D(2026, 5, 19), "200"),
        # L3: broken, resolved 02-04 (too old) and 04-04 (counts; the 330 came on 04-10).
        promise("R14", "L3", D(2026, 1, 20), D(2026, 2, 1), "110"),
        promise("R15", "L3", D(2026, 3, 25), D(2026, 4, 1), "330"),
        # L2: broken (the 50 paid on 04-01 falls short of 60), resolved 04-02 = AS_OF − 89
        # (counts); broken, resolved 04-01 (does not).
        promise("R16", "L2", D(2026, 3, 20), D(2026, 3, 30), "60"),
        promise("R17", "L2", D(2026, 3, 19), D(2026, 3, 29), "50"),
    ]
    if later:
        # 00:05 on the day after AS_OF in Mexico City: the first instant that must not count.
        payments += [
            pay("L1", dt.datetime(2026, 7, 1, 6, 5, tzinfo=dt.UTC), "110"),
            pay("L2", D(2026, 7, 2), "600"),
            pay("L3", D(2026, 8, 1), "110"),
        ]
        # A statement issued after AS_OF (revolving lines learn their schedule as they go).
        installments += [dict(loan_id="L2", seq=4, due_date=D(2026, 7, 1),
                              principal_due=money(60), interest_due=money(0),
                              fees_due=money(0), statement_balance=money(700))]  # fmt: skip
        contacts += [
            dict(contact_id="K1", loan_id="L1", channel="call", outcome="right_party",
                 attempted_at=dt.datetime(2026, 7, 1, 6, 1, tzinfo=dt.UTC)),
            dict(contact_id="K2", loan_id="L2", channel="sms", outcome="delivered",
                 attempted_at=dt.datetime(2026, 7, 3, 12, tzinfo=dt.UTC)),
        ]  # fmt: skip
        promises += [
            dict(promise_id="R1", loan_id="L1", made_at=dt.datetime(2026, 7, 1, 7, tzinfo=dt.UTC),
                 due_on=D(2026, 7, 2), amount=money(100)),
        ]  # fmt: skip
    return dict(loans=loans, installments=installments, payments=payments,
                customers=customers, contacts=contacts, promises=promises)  # fmt: skip


def features(engine: Engine, rows: dict[str, list[Row]], as_of: dt.date = AS_OF) -> dict:
    tables = register(engine, **rows)
    table = engine.fetch(compute_features(tables, as_of))
    # The engine's own types are the catalog's (not only Ibis's idea of them).
    for name, var in CATALOG.items():
        assert table.schema.field(name).type == var.dtype.to_pyarrow(), name
    return {r["loan_id"]: r for r in table.to_pylist()}


def test_catalog_documents_every_variable() -> None:
    required = {"dpd", "max_dpd_3m", "max_dpd_6m", "max_dpd_12m", "times_30dpd_12m",
                "payments_30d", "payments_90d", "paid_amount_30d", "paid_amount_90d",
                "paid_to_due_3p", "days_since_last_payment", "months_on_book", "balance",
                "past_due", "installment_to_income", "utilisation", "broken_promises_90d",
                "contacts_30d", "rpc_30d"}  # fmt: skip
    assert required <= set(CATALOG)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "features.md").read_text()
    for name, var in CATALOG.items():
        assert var.name == name and var.unit and var.description and var.formula, name
        assert f"| `{name}` | {var.dtype} | {var.unit} |" in doc, name


def test_variables_by_hand(engine: Engine) -> None:
    got = features(engine, book())
    assert set(got) == {"L1", "L2", "L3"}
    first = next(iter(got.values()))
    assert list(first) == ["loan_id", "as_of", "customer_id", *CATALOG]
    l1, l2, l3 = got["L1"], got["L2"], got["L3"]
    assert {r["as_of"] for r in got.values()} == {AS_OF}

    # L1 — oldest unpaid: installment 5 due 06-01 → dpd 29; of its 110, 10 paid → 100.
    # Principal: 1-4 repaid, 5's 10 went to interest → 2 × 100 still owed.
    assert (l1["dpd"], l1["past_due"], l1["balance"]) == (29, money(100), money(200))
    # Installment 3 (due 04-01) was late 04-02 … 05-19: 48 days on 05-19, inside (03-30, 06-30].
    # Installment 2 (due 03-01, paid 03-10) was 8 days late on 03-09, before that window.
    assert (l1["max_dpd_3m"], l1["max_dpd_6m"], l1["max_dpd_12m"]) == (48, 48, 48)
    # 30+ days: installment 3 from 05-01 (04-01 + 30) to 05-19 — one run.
    assert l1["times_30dpd_12m"] == 1
    # Last 30 days [06-01, 06-30]: nothing settled; last 90 days [04-02, 06-30]: 220 on 05-20.
    assert (l1["payments_30d"], l1["paid_amount_30d"]) == (0, money(0))
    assert (l1["payments_90d"], l1["paid_amount_90d"]) == (1, money(220))
    assert l1["days_since_last_payment"] == (AS_OF - D(2026, 5, 20)).days == 41
    assert l1["months_on_book"] == 5  # 01-01 → 06-01 is 5 whole months, 07-01 not reached
    # Last 3 periods: installments 3, 4, 5 (due 04-01, 05-01, 06-01) after 2's 03-01:
    # paid in (03-01, 06-01] = 120 + 220 = 340 over 330 due.
    assert math.isclose(l1["paid_to_due_3p"], 340 / 330, rel_tol=1e-15)
    # Current installment (06-01) 110 a month over 11,000 income.
    assert l1["installment_amount"] == money(110)
    assert math.isclose(l1["installment_to_income"], 110 / 11000, rel_tol=1e-15)
    assert (l1["credit_limit"], l1["utilisation"]) == (None, None)

    # L2 — June minimum unpaid: dpd 29, 50 past due; balance of the June statement 600.
    assert (l2["dpd"], l2["past_due"], l2["balance"]) == (29, money(50), money(600))
    assert (l2["credit_limit"], l2["utilisation"]) == (money(1000), 0.6)
    assert (l2["max_dpd_3m"], l2["times_30dpd_12m"]) == (29, 0)
    assert (l2["installment_amount"], l2["installment_to_income"]) == (money(50), None)
    assert l2["monthly_income"] is None
    # Periods: 3 statements due, opened 03-01 → payments in [03-01, 06-01]: 100 of 150.
    assert math.isclose(l2["paid_to_due_3p"], 100 / 150, rel_tol=1e-15)

    # L3 — current at AS_OF; paid 110 at 23:30 local on AS_OF (counts for AS_OF).
    assert (l3["dpd"], l3["past_due"], l3["balance"]) == (0, money(0), money(100))
    # 2026-02-01 installment late 02-02 … 04-09: 67 days on 04-09 (28 + 31 + 8), inside the
    # 3-month window (03-30, 06-30]; the 2025-08-01 one peaked at 44 days (09-14).
    assert (l3["max_dpd_3m"], l3["max_dpd_6m"], l3["max_dpd_12m"]) == (67, 67, 67)
    # 30+ runs: 2025-08-31 … 09-14 and 2026-03-03 … 04-09 (03-01's 30+ from 03-31 joins it).
    assert l3["times_30dpd_12m"] == 2
    # [06-01, 06-30]: June's 110 was paid on AS_OF itself, at 23:30 local.
    assert (l3["payments_30d"], l3["paid_amount_30d"]) == (1, money(110))
    # [04-02, 06-30]: 330 (04-10) + 110 (05-01) + 110 (AS_OF).
    assert (l3["payments_90d"], l3["paid_amount_90d"]) == (3, money(550))
    assert l3["days_since_last_payment"] == 0
    assert l3["months_on_book"] == 12  # 2025-06-15 → 2026-06-15
    # Installments 10-12 (04-01, 05-01, 06-01) after 9's 03-01: paid in (03-01, 06-01] =
    # 330 + 110 = 440 over 330 due (June's was paid on 06-30, after its period).
    assert math.isclose(l3["paid_to_due_3p"], 440 / 330, rel_tol=1e-15)

    # Contacts in [06-01, 06-30] local: L1 K10 (right party) and K11 (00:30 on 06-01), not
    # K12 (05-31); L3 K13 at 23:50 on AS_OF (a promise: right party).
    assert (l1["contacts_30d"], l1["rpc_30d"], l1["days_since_last_contact"]) == (2, 1, 15)
    assert (l3["contacts_30d"], l3["rpc_30d"], l3["days_since_last_contact"]) == (1, 1, 0)
    assert (l2["contacts_30d"], l2["rpc_30d"], l2["days_since_last_contact"]) == (0, 0, None)
    # Broken promises resolved in [04-02, 06-30]: L1 R11, L3 R15, L2 R16.
    assert (l1["broken_promises_90d"], l2["broken_promises_90d"]) == (1, 1)
    assert l3["broken_promises_90d"] == 1


def test_no_data_after_as_of_leaks_in(engine: Engine) -> None:
    before = features(engine, book())
    with_later = features(engine, book(later=True))
    assert with_later == before
    # The same later rows are seen one day on: the test would catch a leak.
    next_day = features(engine, book(later=True), AS_OF + dt.timedelta(days=1))
    assert next_day["L1"]["payments_30d"] == 1 and next_day["L1"]["dpd"] == 0


def test_catalog_types_are_the_declared_ones(duckdb_engine: Engine) -> None:
    tables = register(duckdb_engine, **book())
    schema = compute_features(tables, AS_OF).schema()
    for name, var in CATALOG.items():
        assert schema[name] == var.dtype.copy(nullable=True), name
    assert schema["loan_id"] == dt_.string


@pytest.mark.parametrize("wanted", [["utilisation"], ["max_dpd_12m", "paid_amount_30d"]])
def test_subset_of_variables(duckdb_engine: Engine, wanted: list[str]) -> None:
    tables = register(duckdb_engine, **book())
    table = duckdb_engine.fetch(compute_features(tables, AS_OF, variables=wanted))
    assert table.column_names == ["loan_id", "as_of", "customer_id", *wanted]
    everything = features(duckdb_engine, book())
    for row in table.to_pylist():
        assert all(row[w] == everything[row["loan_id"]][w] for w in wanted)
