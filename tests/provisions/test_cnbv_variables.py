"""The non-revolving CNBV variables (VECES, INDATR, %PR, %SDOIMP, product dummies) computed
from hand-made loans on both engines, the one-account function fed with them, and a parameter
file that uses every variable on a generated book.

Every installment below is 100 principal + 10 interest = 110; "paid in full by its due date"
means the settled payments made before the due date ends in Mexico City cover it and every
earlier installment (the ledger's waterfall).
"""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pytest

from builders import MX, monthly_loan, register
from cobranza.contract import discover, load
from cobranza.engine import Engine
from cobranza.ledger import account_states
from cobranza.provisions import (
    CNBV_VARIABLES,
    ProvisionInputError,
    cnbv_reserve,
    compute_provisions,
    load_params,
    provision_inputs,
)

D = Decimal
UTC = dt.UTC
AS_OF = dt.date(2026, 4, 15)
DUMMIES = ("tipo_b", "tipo_a", "tipo_n", "tipo_p", "tipo_o")
NEW_COLUMNS = ("veces", "indatr", "pct_pr", "pct_sdoimp", *DUMMIES)


def due_on(loan_id: str, *dates: dt.date, **loan: Any) -> tuple[dict, list[dict]]:
    """A loan of 110-installments (100 principal) due on ``dates``, by default opened
    2026-03-01."""
    loan.setdefault("opened_on", dt.date(2026, 3, 1))
    row, rows = monthly_loan(loan_id, n=len(dates), **loan)
    for installment, day in zip(rows, dates, strict=True):
        installment["due_date"] = day
    return row, rows


def pay(loan_id: str, at: dt.datetime, amount: str = "110.00", status: str = "settled") -> dict:
    return dict(
        payment_id=f"{loan_id}-{at.isoformat()}-{status}", loan_id=loan_id, paid_at=at,
        amount=D(amount), channel="spei", status=status,
    )  # fmt: skip


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MX)


Loans = list[tuple[dict, list[dict]]]


def book_tables(engine: Engine, loans: Loans, payments: list[dict]) -> dict[str, ibis.Table]:
    return register(
        engine,
        customers=[dict(customer_id="C1", state="CMX")],
        loans=[loan for loan, _ in loans],
        installments=[i for _, rows in loans for i in rows],
        payments=payments,
    )


def inputs(engine: Engine, loans: Loans, payments: list[dict]) -> dict[str, dict[str, Any]]:
    tables = book_tables(engine, loans, payments)
    states = account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF)
    engine.materialize("states", states)
    rows = engine.fetch(provision_inputs(tables, engine.table("states"), AS_OF)).to_pylist()
    return {r["loan_id"]: r for r in rows}


def late_and_partial_book() -> tuple[Loans, list[dict]]:
    # L1: nine monthly installments due on the 1st, October 2025 to June 2026.
    l1 = monthly_loan("L1", opened_on=dt.date(2025, 9, 1), n=9)
    # R1: a revolving line, statements due 1 Feb to 1 May 2026 with a minimum payment of 110.
    r1 = monthly_loan(
        "R1", opened_on=dt.date(2026, 1, 1), n=4, product="revolving", principal="100",
        cnbv_type=None,
    )  # fmt: skip
    r1[0]["principal"] = D("5000.00")  # the credit limit
    for statement in r1[1]:
        statement["statement_balance"] = D("1000.00")
    payments = [
        pay("L1", local(2025, 10, 1, 12)),  # P = 110 by 1 Oct: installment 1 in full
        pay("L1", local(2025, 11, 1, 12)),  # 220 by 1 Nov: in full
        pay("L1", local(2025, 12, 3, 12)),  # 220 < 330 by 1 Dec: late (before the window)
        pay("L1", local(2026, 1, 1, 12)),  # 440 by 1 Jan: in full
        pay("L1", local(2026, 2, 5, 12)),  # 440 < 550 by 1 Feb: late
        pay("L1", local(2026, 3, 1, 12)),  # 660 by 1 Mar: in full
        pay("L1", local(2026, 4, 1, 12), "50.00"),  # 710 < 770 by 1 Apr: partially paid
        pay("R1", local(2026, 2, 1, 12)),  # 110 by 1 Feb: in full
        pay("R1", local(2026, 3, 3, 12)),  # 110 < 220 by 1 Mar, 220 < 330 by 1 Apr: late
    ]
    return [l1, r1], payments


def test_a_late_and_a_partially_paid_installment(engine: Engine) -> None:
    got = inputs(engine, *late_and_partial_book())
    l1, r1 = got["L1"], got["R1"]
    # The last 4 periods are 122 days: due dates in (14 Dec 2025, 15 Apr 2026] are 1 Jan,
    # 1 Feb, 1 Mar and 1 Apr; Feb (late) and Apr (partial) were not paid in full. 1 Dec was
    # late too but is outside the window.
    assert l1["veces"] == 2
    # Due before as-of over the loan's life: Oct … Apr = 7; in full by the due date: Oct,
    # Nov, Jan, Mar = 4 → 100 × 4 / 7 = 57.142857… → 57.1429
    assert l1["pct_pr"] == D("57.1429")
    # dpd = 15 Apr − 1 Apr = 14 → ATR 1 → INDATR 1
    assert (l1["dpd"], l1["act"], l1["indatr"]) == (14, 1, 1)
    # Paid 710: six installments in full (600 principal) + 50 (10 interest, 40 principal);
    # outstanding 900 − 640 = 260 → 100 × 260 / 900 = 28.888… → 28.8889
    assert l1["outstanding_principal"] == D("260.00")
    assert l1["pct_sdoimp"] == D("28.8889")
    assert [l1[c] for c in DUMMIES] == [0, 0, 0, 1, 0]  # no cnbv_type: an installment loan is P
    # R1: statements 1 Feb (in full), 1 Mar and 1 Apr (late) are in the window → VECES 2;
    # due before as-of 3, in full 1 → 100 × 1 / 3 = 33.3333
    assert (r1["veces"], r1["pct_pr"], r1["indatr"]) == (2, D("33.3333"), 1)
    # revolving lines: no amount financed to pay down and no product dummy
    assert r1["pct_sdoimp"] == D("0.0000")
    assert r1["segment"] == "R" and [r1[c] for c in DUMMIES] == [0, 0, 0, 0, 0]


def test_paid_in_full_by_the_end_of_the_due_date_in_mexico_city(engine: Engine) -> None:
    end_of_march = (dt.date(2026, 3, 31), dt.date(2026, 4, 30), dt.date(2026, 5, 31))
    on_as_of = (AS_OF, dt.date(2026, 5, 15), dt.date(2026, 6, 15))
    loans = [
        due_on("DAY", *end_of_march), due_on("UTC", *end_of_march),
        due_on("NEXT", *end_of_march), due_on("VOID", *end_of_march),
        due_on("IN", *on_as_of), due_on("OUT", *on_as_of),
        monthly_loan("NEW", opened_on=dt.date(2026, 4, 1), n=3),  # first due 1 May
    ]  # fmt: skip
    payments = [
        pay("DAY", local(2026, 3, 31, 18)),  # on the due date: on time
        # 05:30 UTC on 1 April is 23:30 on 31 March in Mexico City: on time
        pay("UTC", dt.datetime(2026, 4, 1, 5, 30, tzinfo=UTC)),
        # 06:00 UTC is 00:00 on 1 April there: a day late
        pay("NEXT", dt.datetime(2026, 4, 1, 6, 0, tzinfo=UTC)),
        # reversed and pending payments never count
        pay("VOID", local(2026, 3, 30, 12), status="reversed"),
        pay("VOID", local(2026, 3, 30, 12), status="pending"),
        # due on as-of and paid at 23:59:59 of that day there: on time
        pay("IN", dt.datetime(2026, 4, 16, 5, 59, 59, tzinfo=UTC)),
        # paid at 00:00 on 16 April there, after as-of: not seen
        pay("OUT", dt.datetime(2026, 4, 16, 6, 0, tzinfo=UTC)),
    ]
    got = inputs(engine, loans, payments)
    veces_and_pr = {k: (r["veces"], r["pct_pr"]) for k, r in got.items()}
    assert veces_and_pr == {
        "DAY": (0, D("100.0000")),  # 1 of 1 due before as-of paid in full in time
        "UTC": (0, D("100.0000")),
        "NEXT": (1, D("0.0000")),  # 0 of 1
        "VOID": (1, D("0.0000")),
        # due on as-of: counted by VECES (the window ends on as-of) but not by %PR (due before
        # as-of), which is 100 when nothing was due before as-of
        "IN": (0, D("100.0000")),
        "OUT": (1, D("100.0000")),
        "NEW": (0, D("100.0000")),  # nothing due yet
    }
    # The same payments seen by the ledger: NEXT paid on 1 April, VOID and OUT not at all.
    assert got["NEXT"]["dpd"] == 0 and got["VOID"]["dpd"] == 15
    assert got["OUT"]["last_payment_date"] is None


def test_the_due_date_ends_by_the_daylight_saving_rules_of_its_time(engine: Engine) -> None:
    # Until October 2022 Mexico City kept summer time (UTC−5): 31 May 2021 ended at 05:00 UTC.
    as_of = dt.date(2021, 6, 15)
    dates = (dt.date(2021, 5, 31), dt.date(2021, 6, 30))
    loans = [due_on(k, *dates, opened_on=dt.date(2021, 5, 1)) for k in ("CDT", "LATE")]
    payments = [
        pay("CDT", dt.datetime(2021, 6, 1, 4, 30, tzinfo=UTC)),  # 23:30 on 31 May there
        pay("LATE", dt.datetime(2021, 6, 1, 5, 30, tzinfo=UTC)),  # 00:30 on 1 June there
    ]
    tables = book_tables(engine, loans, payments)
    states = account_states(tables["loans"], tables["installments"], tables["payments"], as_of)
    engine.materialize("states", states)
    got = engine.fetch(provision_inputs(tables, engine.table("states"), as_of)).to_pylist()
    assert {r["loan_id"]: (r["veces"], r["pct_pr"]) for r in got} == {
        "CDT": (0, D("100.0000")), "LATE": (1, D("0.0000")),
    }  # fmt: skip


def test_indatr_sdoimp_and_product_dummies(engine: Engine) -> None:
    due_14th = (dt.date(2026, 4, 14), dt.date(2026, 5, 14), dt.date(2026, 6, 14))
    seven = tuple(dt.date(2026, 3, d) for d in range(10, 17))  # 10 … 16 March
    loans = [
        due_on("PAID", *due_14th), due_on("LATE", *due_14th), due_on("SEVEN", *seven),
        *[due_on(f"TYPE_{t}", *due_14th, cnbv_type=t) for t in "BANPO"],
        due_on("REV", *due_14th, product="revolving"),
        due_on("REV_A", *due_14th, product="revolving", cnbv_type="A"),
    ]  # fmt: skip
    payments = [
        pay("PAID", local(2026, 4, 14, 12)),
        pay("SEVEN", local(2026, 3, 10, 12), "220.00"),  # the first two installments
    ]
    got = inputs(engine, loans, payments)
    # INDATR: dpd 0 → ATR 0 → 0;  dpd 1 (due 14 April, unpaid) → ATR ceil(1 / 30.4) = 1 → 1
    assert (got["PAID"]["dpd"], got["PAID"]["indatr"]) == (0, 0)
    assert (got["LATE"]["dpd"], got["LATE"]["indatr"]) == (1, 1)
    # %SDOIMP = 100 × outstanding principal ÷ amount financed, 4 decimals:
    # PAID 100 × 200 / 300 = 66.666… → 66.6667;  LATE 100 × 300 / 300 = 100
    # SEVEN 100 × 500 / 700 = 71.428571… → 71.4286
    assert got["PAID"]["pct_sdoimp"] == D("66.6667")
    assert got["LATE"]["pct_sdoimp"] == D("100.0000")
    assert got["SEVEN"]["pct_sdoimp"] == D("71.4286")
    # The dummies follow loans.cnbv_type; without one an installment loan is P. Revolving
    # lines have none, whatever their cnbv_type (the dummies are the non-revolving model's).
    for t in "BANPO":
        assert [got[f"TYPE_{t}"][c] for c in DUMMIES] == [int(c == f"tipo_{t.lower()}")
                                                          for c in DUMMIES]  # fmt: skip
    assert [got["PAID"][c] for c in DUMMIES] == [0, 0, 0, 1, 0]
    for loan_id in ("REV", "REV_A"):
        assert [got[loan_id][c] for c in DUMMIES] == [0, 0, 0, 0, 0]
        assert got[loan_id]["pct_sdoimp"] == D("0.0000")
    assert all(got[k]["segment"] == s for k, s in (("REV", "R"), ("REV_A", "A"), ("PAID", "P")))


def test_new_variables_have_exact_types(engine: Engine) -> None:
    loans, payments = late_and_partial_book()
    tables = book_tables(engine, loans, payments)
    states = account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF)
    schema = provision_inputs(tables, states, AS_OF).schema()
    assert {c: str(schema[c]) for c in NEW_COLUMNS} == {
        "veces": "int32", "indatr": "int32", "pct_pr": "decimal(12, 4)",
        "pct_sdoimp": "decimal(12, 4)", **dict.fromkeys(DUMMIES, "int32"),
    }  # fmt: skip
    assert set(CNBV_VARIABLES.values()) <= set(schema.names)


def test_the_one_account_function_gives_the_book_reserve(engine: Engine) -> None:
    loans, payments = late_and_partial_book()
    loans.append(due_on("B1", dt.date(2026, 3, 20), dt.date(2026, 4, 20), cnbv_type="B"))
    tables = book_tables(engine, loans, payments)
    states = account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF)
    engine.materialize("states", states)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = load_params("cnbv_consumer_example")
        book = compute_provisions(engine, tables, engine.table("states"), AS_OF, "cnbv", params)
        reserves = {r["loan_id"]: r for r in engine.fetch(book).to_pylist()}
        rows = engine.fetch(provision_inputs(tables, engine.table("states"), AS_OF)).to_pylist()
    assert set(reserves) == {"L1", "R1", "B1"}
    for row in rows:
        # The variables of this one loan, by the regulation's names, as cnbv_reserve takes them
        variables = {name: float(row[column]) for name, column in CNBV_VARIABLES.items()}
        one = cnbv_reserve(
            params, product=row["product"], frequency=row["frequency"], days_past_due=row["dpd"],
            ei=row["outstanding_principal"] + row["interest"], variables=variables,
        )  # fmt: skip
        vectorised = reserves[row["loan_id"]]
        assert vectorised["pi"] == pytest.approx(one.pi, abs=1e-12), row["loan_id"]
        assert (vectorised["ei"], vectorised["rate"], vectorised["reserve"]) == (
            one.ei, one.rate, one.reserve,
        ), row["loan_id"]  # fmt: skip
        assert vectorised["grade"] == one.grade
    # L1: EI = outstanding 260 + unpaid interest of the installments due before as-of (the
    # 1 April one got 50, its interest first) = 260.00; ATR 1 < 4, so the logistic PI.
    assert reserves["L1"]["ei"] == D("260.00") and 0 < reserves["L1"]["pi"] < 1


GEN_AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cobranza.synthetic import generate

    return generate(tmp_path_factory.mktemp("cnbv") / "book", 300, 11, as_of=GEN_AS_OF)


def every_variable_params(tmp_path: Path, extra: str = "TIPO_P: 0.01") -> Path:
    """The bundled example with TIPO_P added to each non-revolving model: every CNBV variable
    is then used by a model."""
    bundled = Path(__file__).parents[2] / "src/cobranza/provisions/params"
    text = (bundled / "cnbv_consumer_example.yaml").read_text(encoding="utf-8")
    assert text.count("TIPO_O: 0.05}") == 3
    path = tmp_path / "every_variable.yaml"
    path.write_text(text.replace("TIPO_O: 0.05}", f"TIPO_O: 0.05, {extra}}}"), encoding="utf-8")
    return path


def test_a_parameter_file_with_every_variable_runs_on_a_generated_book(
    duckdb_engine: Engine, portfolio: Path, tmp_path: Path
) -> None:
    engine = duckdb_engine
    tables = load(engine, discover(portfolio))
    states = account_states(tables["loans"], tables["installments"], tables["payments"], GEN_AS_OF)
    engine.materialize("states", states)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = load_params(every_variable_params(tmp_path))
        models = [params.revolving.model, *params.non_revolving.models.values()]
        used = {name for m in models for name in m.coefficients}
        assert used == {"ATR", *CNBV_VARIABLES}
        out = compute_provisions(engine, tables, engine.table("states"), GEN_AS_OF, "cnbv", params)
        rows = engine.fetch(out).to_pylist()
        unknown = load_params(every_variable_params(tmp_path, "TIPO_X: 0.01"))
        with pytest.raises(ProvisionInputError, match="use variable\\(s\\) TIPO_X"):
            compute_provisions(engine, tables, engine.table("states"), GEN_AS_OF, "cnbv", unknown)
    assert rows and all(r["grade"] and D(0) <= r["reserve"] <= r["ei"] for r in rows)
    variables = engine.fetch(provision_inputs(tables, engine.table("states"), GEN_AS_OF))
    found = variables.to_pylist()
    assert len(found) == len(rows)
    for r in found:
        assert r["veces"] >= 0 and D(0) <= r["pct_pr"] <= D(100) and r["indatr"] in (0, 1)
        dummies = sum(r[c] for c in DUMMIES)
        assert dummies == (0 if r["product"] == "revolving" else 1), r
    # the generated book has late payers and punctual ones
    assert {r["veces"] > 0 for r in found} == {True, False}


@pytest.mark.spark
def test_duckdb_and_spark_compute_the_same_variables(
    portfolio: Path, duckdb_engine: Engine, spark_session: object
) -> None:
    from cobranza.engine._spark import SparkEngine

    got = []
    for engine in (duckdb_engine, SparkEngine(session=spark_session)):
        tables = load(engine, discover(portfolio))
        dates = [dt.date(2026, 8, 31), dt.date(2026, 9, 30), GEN_AS_OF]
        engine.materialize(
            "states",
            account_states(tables["loans"], tables["installments"], tables["payments"], dates),
        )
        states = engine.table("states")
        history = states.filter(states.as_of < ibis.date(GEN_AS_OF))
        expr = provision_inputs(tables, states, GEN_AS_OF, history)
        table = engine.fetch(expr.order_by("loan_id"))
        # Nullability differs between the engines; names and types must not.
        types = [(f.name, f.type) for f in table.schema]
        got.append((types, table.to_pylist()))
    (duck_types, duck), (spark_types, spark) = got
    assert duck_types == spark_types
    assert duck and duck == spark
