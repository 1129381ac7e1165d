"""The allowance walk: a hand-computed walk, random books against a Python reference, and the
walk of a synthetic book by several methods adding up exactly, on DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobranza.contract import discover, load
from cobranza.engine import Engine
from cobranza.ledger import account_states
from cobranza.portfolio import month_ends
from cobranza.provisions import (
    WALK_LINES,
    allowance_movements,
    allowance_walk,
    compute_provisions,
    stage_transfers,
)

D = Decimal
OPENING, CLOSING = dt.date(2026, 9, 30), dt.date(2026, 10, 31)
BOOK = pa.schema(
    [
        ("loan_id", pa.string()),
        ("product", pa.string()),
        ("stage", pa.int32()),
        ("ei", pa.decimal128(18, 2)),
        ("rate", pa.decimal128(18, 9)),
        ("reserve", pa.decimal128(18, 2)),
    ]
)
LOANS = pa.schema([("loan_id", pa.string()), ("written_off_on", pa.date32())])


def cents(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_EVEN)


def book(rows: list[tuple[str, int, str, str]]) -> pa.Table:
    """(loan, stage, ei, rate) → a provisions table with reserve = round(ei × rate)."""
    return pa.table(
        {
            "loan_id": [r[0] for r in rows],
            "product": ["installment"] * len(rows),
            "stage": [r[1] for r in rows],
            "ei": [D(r[2]) for r in rows],
            "rate": [D(r[3]).quantize(D("1e-9")) for r in rows],
            "reserve": [cents(D(r[2]) * D(r[3])) for r in rows],
        },
        schema=BOOK,
    )


def walk_of(engine: Engine, opening: pa.Table, closing: pa.Table, loans: pa.Table) -> tuple:
    engine.register_arrow("opening", opening)
    engine.register_arrow("closing", closing)
    engine.register_arrow("loans", loans)
    movements = allowance_movements(
        engine.table("opening"), engine.table("closing"), engine.table("loans"), CLOSING
    )
    engine.materialize("movements", movements)
    moved = engine.table("movements")
    walk = {r["stage"]: r for r in engine.fetch(allowance_walk(moved)).to_pylist()}
    per_loan = {r["loan_id"]: r for r in engine.fetch(moved).to_pylist()}
    transfers = engine.fetch(stage_transfers(moved).order_by("from_stage")).to_pylist()
    return walk, per_loan, transfers


def test_hand_computed_walk(engine: Engine) -> None:
    opening = book(
        [
            ("A", 1, "1000.00", "0.02"),  # r0 = 20.00
            ("B", 1, "500.00", "0.02"),  # r0 = 10.00
            ("D", 2, "200.00", "0.25"),  # r0 = 50.00, paid off
            ("E", 3, "300.00", "1"),  # r0 = 300.00, written off
            ("F", 3, "100.00", "0.01"),  # r0 = 1.00
            ("G", 1, "250.00", "0.02"),  # r0 = 5.00, paid off; written off only later
        ]
    )
    closing = book(
        [
            ("A", 1, "900.00", "0.03"),  # r1 = 27.00; m = 900 × 0.02 = 18.00
            ("B", 2, "480.00", "0.25"),  # r1 = 120.00; m = 480 × 0.02 = 9.60
            ("C", 1, "500.00", "0.03"),  # new: r1 = 15.00
            ("F", 3, "0.50", "1"),  # r1 = 0.50; m = 0.50 × 0.01 = 0.005 → 0.00 (half-even)
        ]
    )
    loans = pa.table(
        {
            "loan_id": ["A", "B", "C", "D", "E", "F", "G"],
            "written_off_on": [None, None, None, None, dt.date(2026, 10, 15), None,
                               dt.date(2026, 11, 20)],
        },
        schema=LOANS,
    )  # fmt: skip
    walk, per_loan, transfers = walk_of(engine, opening, closing, loans)

    # A: repayments 18.00 − 20.00 = −2.00; remeasurement 27.00 − 18.00 = 9.00
    assert per_loan["A"]["repayments"] == D("-2.00")
    assert per_loan["A"]["remeasurement"] == D("9.00")
    # B moves 1 → 2: repayments 9.60 − 10.00 = −0.40, transfer 9.60, remeasurement 110.40
    assert (per_loan["B"]["repayments"], per_loan["B"]["transfers_out"]) == (D("-0.40"),
                                                                            D("-9.60"))  # fmt: skip
    assert per_loan["B"]["transfers_in"] == D("9.60")
    assert per_loan["B"]["remeasurement"] == D("110.40")
    assert per_loan["C"]["new_loans"] == D("15.00")
    assert per_loan["D"]["repayments"] == D("-50.00")
    assert per_loan["E"]["write_offs"] == D("-300.00")
    # F: the tie 0.005 rounds to the even 0.00, so repayments −1.00, remeasurement +0.50
    assert (per_loan["F"]["repayments"], per_loan["F"]["remeasurement"]) == (D("-1.00"),
                                                                            D("0.50"))  # fmt: skip
    # G is written off after the closing date: at closing it was repaid
    assert (per_loan["G"]["repayments"], per_loan["G"]["write_offs"]) == (D("-5.00"), D("0.00"))

    def line(stage: str) -> list[Decimal]:
        return [walk[stage][name] for name in WALK_LINES]

    # opening, new, repayments, transfers out, transfers in, write-offs, remeasurement, closing
    # stage 1: 20 + 10 + 5 = 35; −2 − 0.40 − 5 = −7.40; 35 + 15 − 7.40 − 9.60 + 9 = 42
    assert line("1") == [D(x) for x in ("35.00", "15.00", "-7.40", "-9.60", "0.00", "0.00",
                                        "9.00", "42.00")]  # fmt: skip
    # stage 2: 50 − 50 + 9.60 + 110.40 = 120
    assert line("2") == [D(x) for x in ("50.00", "0.00", "-50.00", "0.00", "9.60", "0.00",
                                        "110.40", "120.00")]  # fmt: skip
    # stage 3: 301 − 1 − 300 + 0.50 = 0.50
    assert line("3") == [D(x) for x in ("301.00", "0.00", "-1.00", "0.00", "0.00", "-300.00",
                                        "0.50", "0.50")]  # fmt: skip
    # total: 386 + 15 − 58.40 − 9.60 + 9.60 − 300 + 119.90 = 162.50
    assert line("total") == [D(x) for x in ("386.00", "15.00", "-58.40", "-9.60", "9.60",
                                            "-300.00", "119.90", "162.50")]  # fmt: skip
    assert transfers == [{"from_stage": 1, "to_stage": 2, "loans": 1, "amount": D("9.60")}]


def reference(opening: pa.Table, closing: pa.Table, written: set[str]) -> dict[str, dict]:
    """The attribution of the module docstring, loan by loan in plain Python."""
    o = {r["loan_id"]: r for r in opening.to_pylist()}
    c = {r["loan_id"]: r for r in closing.to_pylist()}
    zero = D("0.00")
    out: dict[str, dict] = {}

    def add(stage: int, line: str, amount: Decimal) -> None:
        out.setdefault(str(stage), {n: zero for n in WALK_LINES})[line] += amount

    for loan in o.keys() | c.keys():
        r0, r1 = o.get(loan), c.get(loan)
        if r0:
            add(r0["stage"], "opening", r0["reserve"])
        if r1:
            add(r1["stage"], "closing", r1["reserve"])
        if r1 and not r0:
            add(r1["stage"], "new_loans", r1["reserve"])
        elif r0 and not r1:
            add(r0["stage"], "write_offs" if loan in written else "repayments", -r0["reserve"])
        else:
            m = cents(r1["ei"] * r0["rate"])
            add(r0["stage"], "repayments", m - r0["reserve"])
            if r0["stage"] != r1["stage"]:
                add(r0["stage"], "transfers_out", -m)
                add(r1["stage"], "transfers_in", m)
            add(r1["stage"], "remeasurement", r1["reserve"] - m)
    return out


loan_row = st.tuples(
    st.integers(1, 3),
    st.decimals(D("0.00"), D("99999.99"), places=2),
    st.decimals(D("0"), D("1"), places=9),
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    opening=st.dictionaries(st.sampled_from([f"L{i}" for i in range(12)]), loan_row, max_size=10),
    closing=st.dictionaries(st.sampled_from([f"L{i}" for i in range(12)]), loan_row, max_size=10),
    written=st.sets(st.sampled_from([f"L{i}" for i in range(12)])),
)
def test_random_walks_add_up_and_match_the_reference(
    duckdb_engine: Engine, opening: dict, closing: dict, written: set[str]
) -> None:
    """Hypothesis on DuckDB (Spark runs the hand-computed and the synthetic walks)."""
    engine = duckdb_engine
    o = book([(k, s, str(ei), str(rate)) for k, (s, ei, rate) in sorted(opening.items())])
    c = book([(k, s, str(ei), str(rate)) for k, (s, ei, rate) in sorted(closing.items())])
    ids = [f"L{i}" for i in range(12)]
    loans = pa.table(
        {"loan_id": ids, "written_off_on": [CLOSING if i in written else None for i in ids]},
        schema=LOANS,
    )
    walk, per_loan, _ = walk_of(engine, o, c, loans)
    expected = reference(o, c, written)
    for stage, lines in expected.items():
        assert {n: walk[stage][n] for n in WALK_LINES} == lines, stage
    for row in [*walk.values(), *per_loan.values()]:
        moves = sum(row[n] for n in WALK_LINES[1:-1])
        assert row["opening"] + moves == row["closing"]


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cobranza.synthetic import generate

    return generate(tmp_path_factory.mktemp("walk") / "book", 300, 11, as_of=CLOSING)


def test_synthetic_book_walk_adds_up_for_every_stage(engine: Engine, portfolio: Path) -> None:
    tables = load(engine, discover(portfolio))
    dates = sorted({CLOSING, OPENING, *month_ends(CLOSING, 3)})
    engine.materialize(
        "st", account_states(tables["loans"], tables["installments"], tables["payments"], dates)
    )
    states = engine.table("st")
    # Spark is slow to start each query: one method there, two on DuckDB.
    for method in ("rollrate", "cnbv") if engine.name == "duckdb" else ("rollrate",):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, day in (("p0", OPENING), ("p1", CLOSING)):
                known = states.filter(states.as_of <= ibis.date(day))
                engine.materialize(name, compute_provisions(engine, tables, known, day, method))
        check_walk(engine, engine.table("p0"), engine.table("p1"), tables["loans"])


def check_walk(engine: Engine, p0: ibis.Table, p1: ibis.Table, loans: ibis.Table) -> None:
    engine.materialize("mv", allowance_movements(p0, p1, loans, CLOSING))
    moved = engine.table("mv")
    walk = {r["stage"]: r for r in engine.fetch(allowance_walk(moved)).to_pylist()}
    assert set(walk) == {"1", "2", "3", "total"}
    for row in walk.values():
        assert row["opening"] + sum(row[n] for n in WALK_LINES[1:-1]) == row["closing"]
    per_stage = {
        (side, str(r["stage"])): r["r"]
        for side, book in (("opening", p0), ("closing", p1))
        for r in engine.fetch(book.group_by("stage").aggregate(r=book.reserve.sum())).to_pylist()
    }
    # opening and closing per stage are the reserves of the loans in that stage at each date
    for (side, stage), reserve in per_stage.items():
        assert walk[stage][side] == reserve
    assert walk["total"]["opening"] == sum(v for (s, _), v in per_stage.items() if s == "opening")
    assert walk["total"]["closing"] == sum(v for (s, _), v in per_stage.items() if s == "closing")
    # a month of a 300-loan book has new loans, repayments and stage changes
    assert walk["total"]["new_loans"] > 0 and walk["total"]["repayments"] < 0
    assert walk["total"]["transfers_in"] == -walk["total"]["transfers_out"] > 0
