"""The vectorised methods equal the scalar functions row by row, on DuckDB and on Spark.

Reserves and rates must be identical Decimals; probabilities agree within 1e-12.
"""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest

from builders import monthly_loan, register
from cobranza.engine import Engine
from cobranza.ledger import ACCOUNT_STATE_SCHEMA, PAID_OFF, WRITTEN_OFF, account_states
from cobranza.provisions import (
    PROVISIONS_SCHEMA,
    ExampleParametersWarning,
    ProvisionInputError,
    age_band_provisions,
    age_band_reserve,
    cnbv_provisions,
    cnbv_reserve,
    cumulative_pd,
    ifrs9_provisions,
    ifrs9_reserve,
    ifrs9_stage,
    ifrs9_stage2_reserve,
    load_age_bands,
    load_cnbv_params,
    load_ifrs9_staging,
    matrix_provisions,
    provision_matrix,
    transition_matrix,
    with_remaining_days,
)
from cobranza.provisions._ifrs9 import ifrs9_rate
from cobranza.provisions._money import rate_decimal

D = Decimal
AS_OF = dt.date(2026, 3, 31)
EXTRA = {
    "annual_rate": "decimal(12,6)", "frequency": "string", "remaining_days": "int32",
    "interest": "decimal(18,2)", "maxatr": "int32", "pago": "decimal(12,6)", "act": "int32",
    "hist": "int32", "ant": "int32", "uso": "decimal(12,6)", "veces": "int32", "indatr": "int32",
    "pr": "decimal(12,4)", "sdoimp": "decimal(12,4)", "tipo_b": "int32", "tipo_a": "int32",
    "tipo_n": "int32", "tipo_p": "int32", "tipo_o": "int32",
}  # fmt: skip
SCHEMA = ibis.schema({**dict(ACCOUNT_STATE_SCHEMA.items()), **EXTRA})

# loan, product, frequency, status, dpd, bucket, outstanding, interest, annual rate, remaining days
# fmt: off
ROWS = [
    ("L01", "installment", "monthly", "active", 0, "current", "1000.00", "10.00", "0.45", 730),
    ("L02", "installment", "biweekly", "active", 7, "1-29", "2500.50", "12.34", "0.60", 400),
    ("L03", "installment", "monthly", "active", 30, "30-59", "777.77", "0.00", "0.35", 30),
    ("L04", "installment", "monthly", "active", 31, "30-59", "1234.56", "5.55", "0.45", 1000),
    ("L05", "installment", "weekly", "active", 89, "60-89", "640.00", "1.00", "0.20", 1826),
    ("L06", "installment", "monthly", "active", 90, "90-119", "300.00", "0.00", "0.45", 90),
    ("L07", "installment", "monthly", WRITTEN_OFF, 200, WRITTEN_OFF, "450.00", "0", "0.45", None),
    ("L08", "installment", "monthly", PAID_OFF, 0, PAID_OFF, "0.00", "0.00", "0.45", 0),
    ("L09", "revolving", "monthly", "active", 20, "1-29", "15000.00", "250.00", "0.72", None),
    ("L10", "installment", "weekly", "active", 10, "1-29", "99.99", "0.01", "0.00", 500),
    ("L11", "installment", "monthly", "active", 0, "current", "10.50", "0.00", "0.45", 365),
    ("L12", "installment", "biweekly", "active", 181, "180+", "5000.00", "100.00", "0.45", 10),
    ("L13", "revolving", "monthly", "active", 45, "30-59", "8000.00", "0.00", "0.55", None),
    ("L14", "installment", "weekly", "active", 121, "120-179", "123456.78", "0.00", "0.45", 60),
    ("L15", "installment", "monthly", "active", 0, "current", "0.00", "0.00", "0.45", 30),
]
# The CNBV variables per loan: maxatr, %pago, act, hist, ant, %uso.
VARIABLE_VALUES = {
    "L01": (0, "100", 0, 0, 0, "0"),
    "L02": (1, "80.5", 0, 0, 0, "0"),
    "L03": (2, "50", 0, 0, 0, "0"),
    "L04": (4, "10", 0, 0, 0, "0"),
    "L05": (12, "0", 0, 0, 0, "0"),
    "L06": (3, "0", 0, 0, 0, "0"),
    "L07": (7, "0", 0, 0, 0, "0"),
    "L08": (0, "100", 0, 0, 0, "0"),
    "L09": (1, "20", 1, 2, 50, "80"),
    "L10": (2, "50", 0, 0, 0, "0"),
    "L11": (0, "100", 0, 0, 0, "0"),
    "L12": (9, "0", 0, 0, 0, "0"),
    "L13": (2, "5", 2, 5, 12, "99.5"),
    "L14": (17, "0", 0, 0, 0, "0"),
    "L15": (0, "100", 0, 0, 0, "0"),
}
# The non-revolving variables per loan: veces, indatr, %pr, %sdoimp, CNBV type (one dummy each).
NON_REVOLVING_VALUES = {
    "L01": (0, 0, "100", "100", "P"),
    "L02": (1, 1, "92.3077", "80.0200", "N"),
    "L03": (2, 1, "50", "77.7770", "A"),
    "L04": (3, 1, "12.5", "61.7280", "B"),
    "L05": (4, 1, "0", "64", "O"),
    "L06": (4, 1, "25", "30", "P"),
    "L07": (4, 1, "0", "45", "P"),
    "L08": (0, 0, "100", "0", "P"),
    "L09": (2, 1, "40", "0", "R"),
    "L10": (2, 1, "66.6667", "9.9990", "N"),
    "L11": (0, 0, "100", "1.05", "P"),
    "L12": (8, 1, "0", "100", "P"),
    "L13": (3, 1, "10", "0", "R"),
    "L14": (4, 1, "0", "99.9999", "A"),
    "L15": (0, 0, "100", "0", "P"),
}
NAMES = (
    "loan_id", "product", "frequency", "status", "dpd", "bucket", "outstanding_principal",
    "interest", "annual_rate", "remaining_days",
)
# fmt: on
VARIABLE_NAMES = ("maxatr", "pago", "act", "hist", "ant", "uso")
NON_REVOLVING_NAMES = ("veces", "indatr", "pr", "sdoimp")
TYPES = ("B", "A", "N", "P", "O")
MONEY_COLUMNS = ("outstanding_principal", "interest", "annual_rate", "pago", "uso", "pr", "sdoimp")


def records() -> list[dict[str, Any]]:
    out = []
    for values in ROWS:
        row = dict(zip(NAMES, values, strict=True))
        row.update(zip(VARIABLE_NAMES, VARIABLE_VALUES[row["loan_id"]], strict=True))
        *values, cnbv_type = NON_REVOLVING_VALUES[row["loan_id"]]
        row.update(zip(NON_REVOLVING_NAMES, values, strict=True))
        row.update({f"tipo_{t.lower()}": int(cnbv_type == t) for t in TYPES})
        row.update({c: D(row[c]) for c in MONEY_COLUMNS}, as_of=AS_OF, customer_id="C1")
        out.append(row)
    return out


@pytest.fixture
def state(engine: Engine) -> ibis.Table:
    rows = records()
    schema = SCHEMA.to_pyarrow()
    engine.register_arrow(
        "state", pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)
    )
    return ibis.table(SCHEMA, name="state")


def fetch(engine: Engine, expr: ibis.Table) -> dict[str, dict[str, Any]]:
    assert expr.schema() == PROVISIONS_SCHEMA
    table = engine.fetch(expr)
    assert [(f.name, f.type) for f in table.schema] == [
        (f.name, f.type) for f in PROVISIONS_SCHEMA.to_pyarrow()
    ]
    result = {r["loan_id"]: r for r in table.to_pylist()}
    open_loans = {r["loan_id"] for r in records() if r["status"] != PAID_OFF}
    assert set(result) == open_loans  # paid-off accounts are left out
    return result


def test_age_bands_equal_the_scalar_function(engine: Engine, state: ibis.Table) -> None:
    table = load_age_bands()
    got = fetch(engine, age_band_provisions(state, table, interest="interest"))
    for row in records():
        if row["status"] == PAID_OFF:
            continue
        out = got[row["loan_id"]]
        balance, interest = row["outstanding_principal"], row["interest"]
        assert out["reserve"] == age_band_reserve(row["dpd"], balance, interest, table)
        assert out["ei"] == balance + interest
        assert out["rate"] == table.band(row["dpd"]).rate
        assert (out["method"], out["stage"], out["pi"], out["grade"]) == (
            "age_bands:socap_nivel_basico", None, None, None,
        )  # fmt: skip
    # 1 % × 10.50 = 0.105 → half-even 0.10 (the engines' own rounding would say 0.11)
    assert got["L11"]["reserve"] == D("0.10")
    assert got["L01"]["reserve"] == D("10.10")  # 1 % × (1000.00 + 10.00)


LOSS_RATES = {
    "current": D("0.01"), "1-29": D("0.05"), "30-59": D("0.15"), "60-89": D("0.35"),
    "90-119": D("0.6"), "120-179": D("0.8"), "180+": D("0.95"), WRITTEN_OFF: D("1"),
}  # fmt: skip


def test_provision_matrix_equals_the_scalar_function(engine: Engine, state: ibis.Table) -> None:
    got = fetch(engine, matrix_provisions(state, LOSS_RATES))
    for row in records():
        if row["status"] == PAID_OFF:
            continue
        out = got[row["loan_id"]]
        scalar = provision_matrix({row["bucket"]: row["outstanding_principal"]}, LOSS_RATES)
        assert out["reserve"] == scalar.total
        assert out["rate"] == LOSS_RATES[row["bucket"]]
    assert got["L13"]["reserve"] == D("1200.00")  # 15 % × 8000.00


def test_matrix_needs_every_bucket(state: ibis.Table) -> None:
    with pytest.raises(ProvisionInputError, match="no loss rate for bucket\\(s\\) 'written_off'"):
        matrix_provisions(state, {k: v for k, v in LOSS_RATES.items() if k != WRITTEN_OFF})


def markov_risk() -> dict[str, tuple[float, float]]:
    """12-month roll-rate PD per bucket as PI, with an SP of 45 % (75 % once written off)."""
    counts = [
        ("current", "current", 930), ("current", "1-29", 50), ("current", "paid_off", 20),
        ("1-29", "current", 400), ("1-29", "1-29", 250), ("1-29", "30-59", 350),
        ("30-59", "current", 150), ("30-59", "30-59", 300), ("30-59", "60-89", 550),
        ("60-89", "current", 50), ("60-89", "60-89", 250), ("60-89", "90-119", 700),
    ]  # fmt: skip
    rows = [{"from_bucket": a, "to_bucket": b, "loans": n} for a, b, n in counts]
    pd = cumulative_pd(transition_matrix(rows), 12)
    risk = {b: (p, 0.75 if b == WRITTEN_OFF else 0.45) for b, p in pd.items()}
    # A low PI for 60-89, so that a stage-2 account's lifetime reserve exceeds its 12 months.
    return {**risk, "60-89": (0.1, 0.45)}


def test_ifrs9_equals_the_scalar_functions(engine: Engine, state: ibis.Table) -> None:
    staging = load_ifrs9_staging()
    risk = markov_risk()
    got = fetch(engine, ifrs9_provisions(state, risk, staging))
    for row in records():
        if row["status"] == PAID_OFF:
            continue
        out = got[row["loan_id"]]
        stage = ifrs9_stage(row["dpd"], row["status"] == WRITTEN_OFF, staging)
        pi, sp = risk[row["bucket"]]
        args = (pi, sp, row["outstanding_principal"], float(row["annual_rate"]))
        used_pi, rate = ifrs9_rate(stage, pi, sp, args[3], row["remaining_days"])
        assert out["stage"] == stage, row["loan_id"]
        assert out["pi"] == pytest.approx(used_pi, abs=1e-12)
        assert out["sp"] == sp
        assert out["rate"] == rate_decimal(rate), row["loan_id"]
        assert out["reserve"] == ifrs9_reserve(stage, *args, row["remaining_days"]), row["loan_id"]
    # The staging edges: 30 dpd stage 1, 31 and 89 stage 2, 90 and written off stage 3.
    assert [got[k]["stage"] for k in ("L03", "L04", "L05", "L06", "L07")] == [1, 2, 2, 3, 3]
    assert got["L07"]["pi"] == 1.0
    # L05: stage 2, PI 0.1, SP 0.45, r 20 %, n = 1826 ÷ 365.25 = 4.9993…:
    # 0.045 × [1 − (0.9 ÷ 1.2)^n] ÷ 0.3 = 0.1143… > 0.045, the lifetime term wins
    assert got["L05"]["rate"] > D("0.045")
    assert got["L05"]["reserve"] == ifrs9_stage2_reserve(0.1, 0.45, D("640.00"), 0.2, 1826)


def test_ifrs9_needs_risk_for_every_bucket(state: ibis.Table) -> None:
    risk = markov_risk()
    del risk["60-89"]
    with pytest.raises(ProvisionInputError, match="no \\(PI, SP\\) for bucket\\(s\\) '60-89'"):
        ifrs9_provisions(state, risk, load_ifrs9_staging())


VARIABLES = {
    "MAXATR": "maxatr", "%PAGO": "pago", "ACT": "act", "HIST": "hist", "ANT": "ant",
    "%USO": "uso", "VECES": "veces", "INDATR": "indatr", "%PR": "pr", "%SDOIMP": "sdoimp",
    **{f"TIPO_{t}": f"tipo_{t.lower()}" for t in TYPES},
}  # fmt: skip


def test_cnbv_equals_the_scalar_function(engine: Engine, state: ibis.Table) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExampleParametersWarning)
        params = load_cnbv_params()
    got = fetch(engine, cnbv_provisions(state, params, variables=VARIABLES, interest="interest"))
    for row in records():
        if row["status"] == PAID_OFF:
            continue
        out = got[row["loan_id"]]
        variables = {name: float(row[column]) for name, column in VARIABLES.items()}
        expected = cnbv_reserve(
            params, product=row["product"], frequency=row["frequency"],
            days_past_due=row["dpd"], ei=row["outstanding_principal"] + row["interest"],
            variables=variables,
        )  # fmt: skip
        assert out["pi"] == pytest.approx(expected.pi, abs=1e-12), row["loan_id"]
        assert out["sp"] == expected.sp
        assert (out["ei"], out["rate"], out["reserve"], out["grade"]) == (
            expected.ei, expected.rate, expected.reserve, expected.grade,
        ), row["loan_id"]  # fmt: skip
    assert got["L14"]["pi"] == 1.0  # weekly, ATR = ceil(121 ÷ 7) = 18 ≥ 17


def test_cnbv_needs_every_variable(state: ibis.Table) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExampleParametersWarning)
        params = load_cnbv_params()
    with pytest.raises(ProvisionInputError, match="use variable\\(s\\) %USO, ACT"):
        cnbv_provisions(
            state, params,
            variables={k: v for k, v in VARIABLES.items() if k not in ("%USO", "ACT")},
        )  # fmt: skip
    with pytest.raises(ProvisionInputError, match="lack column\\(s\\) nope"):
        cnbv_provisions(state, params, variables={**VARIABLES, "%USO": "nope"})


def test_age_bands_need_interest_when_the_table_covers_it(state: ibis.Table) -> None:
    with pytest.raises(ProvisionInputError, match="applies to balance plus interest"):
        age_band_provisions(state, load_age_bands())


def test_from_the_ledger_to_ifrs9_reserves(engine: Engine) -> None:
    """End to end: account_states → with_remaining_days → loans' rate → ifrs9_provisions."""
    l1, l1_rows = monthly_loan("L1", opened_on=dt.date(2026, 1, 1), n=3)  # due 1 Feb, Mar, Apr
    l2, l2_rows = monthly_loan("L2", opened_on=dt.date(2026, 3, 1), n=3)  # due 1 Apr, May, Jun
    r1, r1_rows = monthly_loan("R1", opened_on=dt.date(2026, 1, 1), n=3, product="revolving")
    tables = register(engine, loans=[l1, l2, r1], installments=[*l1_rows, *l2_rows, *r1_rows])
    as_of = dt.date(2026, 3, 15)
    states = with_remaining_days(
        account_states(tables["loans"], tables["installments"], tables["payments"], as_of),
        tables["installments"],
    )
    loans = tables["loans"]
    state = states.join(loans.select("loan_id", "annual_rate"), "loan_id")
    risk = markov_risk()
    got = fetch_rows(engine, ifrs9_provisions(state, risk, load_ifrs9_staging()))
    # L1: nothing paid; oldest unpaid installment due 1 Feb → dpd 42 → 30-59, stage 2;
    # outstanding principal 3 × 100 = 300.00; maturity 1 Apr → 17 days → n = 1
    pi, sp = risk["30-59"]
    assert got["L1"]["stage"] == 2 and got["L1"]["bucket"] == "30-59"
    assert got["L1"]["reserve"] == ifrs9_reserve(2, pi, sp, D("300.00"), 0.45, 17)
    # L2: nothing due yet → current, stage 1; maturity 1 Jun → 78 days
    pi, sp = risk["current"]
    assert got["L2"]["reserve"] == ifrs9_reserve(1, pi, sp, D("300.00"), 0.45, 78)
    remaining = {
        r["loan_id"]: r["remaining_days"]
        for r in engine.fetch(states.select("loan_id", "remaining_days")).to_pylist()
    }
    assert remaining == {"L1": 17, "L2": 78, "R1": None}  # revolving: no maturity


def fetch_rows(engine: Engine, expr: ibis.Table) -> dict[str, dict[str, Any]]:
    assert expr.schema() == PROVISIONS_SCHEMA
    return {r["loan_id"]: r for r in engine.fetch(expr).to_pylist()}
