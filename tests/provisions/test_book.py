"""Provisions of a whole book: the inputs computed from the data, by hand, on both engines."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal

import pytest

from builders import MX, monthly_loan, register
from cobranza.engine import Engine
from cobranza.ledger import account_states
from cobranza.provisions import (
    BOOK_PROVISIONS_SCHEMA,
    ProvisionInputError,
    compute_provisions,
    provision_inputs,
    provision_summary,
    resolve_params,
)

D = Decimal
AS_OF = dt.date(2026, 4, 15)
HISTORY = [dt.date(2026, 2, 28), dt.date(2026, 3, 31)]


def book(engine: Engine) -> dict:
    # Six installments of 100 principal + 10 interest due on the 1st, February to July.
    loan, installments = monthly_loan("L1", opened_on=dt.date(2026, 1, 1), n=6)
    paid_off, paid_installments = monthly_loan("L2", opened_on=dt.date(2026, 1, 1), n=1)
    payments = [
        dict(payment_id="P1", loan_id="L1", paid_at=dt.datetime(2026, 2, 1, 12, tzinfo=MX),
             amount=D("110.00"), channel="spei", status="settled"),
        dict(payment_id="P2", loan_id="L1", paid_at=dt.datetime(2026, 3, 5, 12, tzinfo=MX),
             amount=D("50.00"), channel="oxxo", status="settled"),
        dict(payment_id="P3", loan_id="L2", paid_at=dt.datetime(2026, 2, 1, 9, tzinfo=MX),
             amount=D("110.00"), channel="spei", status="settled"),
    ]  # fmt: skip
    return register(
        engine,
        customers=[dict(customer_id="C1", state="CMX")],
        loans=[loan, paid_off],
        installments=installments + paid_installments,
        payments=payments,
    )


def test_inputs_by_hand(engine: Engine) -> None:
    tables = book(engine)
    states = account_states(
        tables["loans"], tables["installments"], tables["payments"], [*HISTORY, AS_OF]
    )
    engine.materialize("states", states)
    inputs = provision_inputs(tables, engine.table("states"), AS_OF, engine.table("states"))
    rows = engine.fetch(inputs).to_pylist()
    # L2 is paid off: out of the book
    assert [r["loan_id"] for r in rows] == ["L1"]
    row = rows[0]
    # Paid 160 by as-of; due before it: Feb, Mar, Apr = 330. Installment 1 is paid in full,
    # installment 2 gets 50 (interest 10 first, then 40 of principal), installment 3 nothing.
    assert row["dpd"] == 45  # oldest unpaid due 1 March
    assert row["outstanding_principal"] == D("460.00")  # 600 − 100 − 40
    assert row["interest"] == D("10.00")  # installment 3's interest; installment 2's is paid
    assert row["act"] == 2  # ATR = ceil(45 / 30.4)
    assert row["maxatr"] == 2  # max(dpd 45 now, 30 on 31 Mar, 0 on 28 Feb) → ceil(45/30.4)
    assert row["hist"] == 1  # month-ends with dpd > 0 in the 6 months before: 31 Mar
    assert row["ant"] == 3  # January → April
    # last 4 periods = 122 days: due 330 in (14 Dec, 15 Apr], paid 160: 100 × 160/330
    assert row["pct_pago"] == D("48.4848")
    assert row["pct_uso"] == D("76.6667")  # 100 × 460 / 600
    # Paid by the end of each due date: 110 by 1 Feb (in full), 110 < 220 by 1 Mar and
    # 160 < 330 by 1 Apr (not): VECES 2 of the 3 due in the window, %PR 100 × 1 / 3
    assert (row["veces"], row["pct_pr"]) == (2, D("33.3333"))
    assert row["indatr"] == 1  # ATR 2 > 0
    assert row["pct_sdoimp"] == D("76.6667")  # 100 × 460 / 600 financed
    assert [row[f"tipo_{t}"] for t in "banpo"] == [0, 0, 0, 1, 0]
    assert row["remaining_days"] == (dt.date(2026, 7, 1) - AS_OF).days
    assert row["segment"] == "P"


def test_lean_inputs_are_the_full_ones_without_the_cnbv_variables(engine: Engine) -> None:
    # IFRS 9, the matrix and the age bands read only the state, the loan and the interest:
    # they skip the pass over every payment and due date, and agree on what they read.
    tables = book(engine)
    states = account_states(
        tables["loans"], tables["installments"], tables["payments"], [*HISTORY, AS_OF]
    )
    engine.materialize("states", states)
    full = provision_inputs(tables, engine.table("states"), AS_OF, engine.table("states"))
    lean = provision_inputs(
        tables, engine.table("states"), AS_OF, engine.table("states"), cnbv_variables=False
    )
    assert "veces" in full.columns and "veces" not in lean.columns
    assert "maxatr" not in lean.columns
    lean_rows = engine.fetch(lean).to_pylist()
    full_rows = engine.fetch(full.select(*lean.columns)).to_pylist()
    assert lean_rows == full_rows
    assert lean_rows[0]["interest"] == D("10.00")


def test_age_band_provisions_of_the_book(engine: Engine) -> None:
    tables = book(engine)
    engine.materialize(
        "states",
        account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF),
    )
    out = compute_provisions(engine, tables, engine.table("states"), AS_OF, "ageband")
    assert out.schema() == BOOK_PROVISIONS_SCHEMA
    [row] = engine.fetch(out).to_pylist()
    # EI = 460 + 10 = 470; 45 dpd is the 31–60 band of SOCAP Nivel Básico: 20 % → 94.00
    assert (row["ei"], row["reserve"], row["rate"]) == (D("470.00"), D("94.00"), D("0.2"))
    assert row["stage"] == 2  # the default IFRS 9 staging: 45 > 30 dpd
    assert row["method"] == "age_bands:socap_nivel_basico"
    summary = engine.fetch(provision_summary(out)).to_pylist()
    assert {(r["dimension"], r["value"]) for r in summary} == {
        ("total", "all"), ("product", "installment"), ("segment", "P"), ("stage", "2"),
        ("bucket", "30-59"),
    }  # fmt: skip
    assert all(r["reserve"] == D("94.00") and r["loans"] == 1 for r in summary)
    assert all(r["coverage"] == pytest.approx(0.2) for r in summary)


def test_parameter_files_must_fit_the_method() -> None:
    with pytest.raises(ProvisionInputError, match="kind 'cnbv_consumer'"):
        resolve_params("cnbv", "socap_nivel_basico")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ProvisionInputError, match="use method 'ifrs9'"):
            resolve_params("rollrate", "ifrs9_ecl_example")
        with pytest.raises(ProvisionInputError, match="use method 'rollrate'"):
            resolve_params("ifrs9", "rollrate_example")
    with pytest.raises(ProvisionInputError, match="unknown provisions method 'fico'"):
        resolve_params("fico", None)


@pytest.mark.parametrize(
    ("paid", "interest"),
    [
        # Each installment: fees 5, interest 10, principal 100 (due 115), due 1 Feb, Mar, Apr.
        # 115 pays February; 3 more go to March's fees (5 owed): March's interest is untouched.
        ("118.00", D("20.00")),  # March 10 + April 10
        # 115 + 5 fees + 4 of March's interest: 6 of it and April's 10 are unpaid.
        ("124.00", D("16.00")),
        # 115 + 5 + 10 + 50 of principal: March's interest is paid, April's 10 is not.
        ("180.00", D("10.00")),
        # Nothing paid: all three installments' interest is unpaid.
        (None, D("30.00")),
    ],
)
def test_unpaid_interest_follows_the_waterfall(
    engine: Engine, paid: str | None, interest: Decimal
) -> None:
    loan, installments = monthly_loan("L1", opened_on=dt.date(2026, 1, 1), n=6, fees="5")
    payments = [
        dict(payment_id="P1", loan_id="L1", paid_at=dt.datetime(2026, 3, 20, 12, tzinfo=MX),
             amount=D(paid), channel="spei", status="settled"),
    ] if paid else []  # fmt: skip
    tables = register(
        engine,
        customers=[dict(customer_id="C1", state="CMX")],
        loans=[loan],
        installments=installments,
        payments=payments,
    )
    states = account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF)
    engine.materialize("states", states)
    for cnbv in (True, False):
        inputs = provision_inputs(tables, engine.table("states"), AS_OF, cnbv_variables=cnbv)
        [row] = engine.fetch(inputs).to_pylist()
        assert row["interest"] == interest
