"""Roll rates on real accounts (UCI credit card, Taiwan 2005) against an independent pandas count.

The engines run ``uci_snapshots`` → ``roll_rates``; the reference reads the CSV with pandas,
maps repayment status to buckets with its own table and cross-tabulates consecutive months.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from cobranza.engine import Engine
from cobranza.portfolio import roll_rate_matrix, roll_rates, uci_snapshots

CSV = Path(__file__).resolve().parents[3] / "shared/data/uci_credit_card/UCI_Credit_Card.csv"

#: Oldest first: (month-end, repayment status column, bill column).
MONTHS = [
    (dt.date(2005, 4, 30), "PAY_6", "BILL_AMT6"),
    (dt.date(2005, 5, 31), "PAY_5", "BILL_AMT5"),
    (dt.date(2005, 6, 30), "PAY_4", "BILL_AMT4"),
    (dt.date(2005, 7, 31), "PAY_3", "BILL_AMT3"),
    (dt.date(2005, 8, 31), "PAY_2", "BILL_AMT2"),
    (dt.date(2005, 9, 30), "PAY_0", "BILL_AMT1"),
]
BUCKET_OF_STATUS = {-2: "current", -1: "current", 0: "current", 1: "1-29", 2: "30-59",
                    3: "60-89", 4: "90-119", 5: "120-179", 6: "120-179"}  # fmt: skip
FORWARD = {  # buckets worse than each open bucket
    "1-29": {"30-59", "60-89", "90-119", "120-179", "180+", "written_off"},
    "60-89": {"90-119", "120-179", "180+", "written_off"},
}

Cell = tuple[int, Decimal]


@functools.cache
def reference() -> dict[tuple[dt.date, dt.date, str, str], Cell]:
    """(from_month, to_month, from_bucket, to_bucket) -> (loans, balance at from_month)."""
    raw = pd.read_csv(CSV, dtype=str)
    buckets = {
        as_of: raw[status].astype(int).map(lambda k: BUCKET_OF_STATUS.get(k, "180+"))
        for as_of, status, _ in MONTHS
    }
    balances = {
        as_of: raw[bill].map(lambda v: max(Decimal(v), Decimal(0)).quantize(Decimal("0.01")))
        for as_of, _, bill in MONTHS
    }
    cells: dict[tuple[dt.date, dt.date, str, str], Cell] = {}
    for (start, _, _), (end, _, _) in itertools.pairwise(MONTHS):
        frame = pd.DataFrame(
            {"from": buckets[start], "to": buckets[end], "balance": balances[start]}
        )
        counts = pd.crosstab(frame["from"], frame["to"])
        sums = frame.groupby(["from", "to"])["balance"].agg(lambda s: sum(s, Decimal(0)))
        for (from_bucket, to_bucket), balance in sums.items():
            loans = int(counts.loc[from_bucket, to_bucket])
            cells[(start, end, from_bucket, to_bucket)] = (loans, balance)
    return cells


def shares(cells: dict, group: slice) -> dict:
    """loans_share and balance_share of each cell within its key[group] (float division)."""
    loans: dict = defaultdict(int)
    balance: dict = defaultdict(Decimal)
    for key, (n, b) in cells.items():
        loans[key[group]] += n
        balance[key[group]] += b
    return {
        key: (n / loans[key[group]], float(b) / float(balance[key[group]]))
        for key, (n, b) in cells.items()
    }


@pytest.mark.slow
def test_uci_roll_rates_match_an_independent_pandas_count(engine: Engine) -> None:
    if not CSV.exists():
        pytest.skip(f"{CSV} is not available")
    # Materialized once, as the pipeline does with its snapshots, for the two queries below.
    engine.materialize("uci_snapshots", uci_snapshots(engine, CSV))
    snapshots = engine.table("uci_snapshots")
    rolls = roll_rates(snapshots)
    got = {
        (r["from_month"], r["to_month"], r["from_bucket"], r["to_bucket"]): r
        for r in engine.fetch(rolls).to_pylist()
    }
    matrix = {(r["from_bucket"], r["to_bucket"]): r
              for r in engine.fetch(roll_rate_matrix(rolls)).to_pylist()}  # fmt: skip

    want = reference()
    assert set(got) == set(want)
    # Shares are compared exactly (tighter than 1e-12): both sides turn exact totals into
    # float64 and divide once, so any engine that differs in the last bit fails here.
    want_shares = shares(want, slice(0, 3))
    for key, (loans, balance) in want.items():
        row = got[key]
        assert (row["loans"], row["balance"]) == (loans, balance), key
        assert row["loans_share"] == want_shares[key][0], key
        assert row["balance_share"] == want_shares[key][1], key

    pooled: dict[tuple[str, str], Cell] = defaultdict(lambda: (0, Decimal(0)))
    for (_, _, from_bucket, to_bucket), (loans, balance) in want.items():
        n, b = pooled[(from_bucket, to_bucket)]
        pooled[(from_bucket, to_bucket)] = (n + loans, b + balance)
    assert set(matrix) == set(pooled)
    pooled_shares = shares(pooled, slice(0, 1))
    for key, (loans, balance) in pooled.items():
        row = matrix[key]
        assert (row["loans"], row["balance"]) == (loans, balance), key
        assert row["loans_share"] == pooled_shares[key][0], key
        assert row["balance_share"] == pooled_shares[key][1], key

    # What a person checks first. Every account is open every month: 30,000 from-states.
    per_month: dict[dt.date, int] = defaultdict(int)
    for (from_month, *_), row in got.items():
        per_month[from_month] += row["loans"]
    assert per_month == {start: 30_000 for start, _, _ in MONTHS[:-1]}
    # Most accounts that are current stay current, every month.
    for (start, _, _), (end, _, _) in itertools.pairwise(MONTHS):
        assert got[(start, end, "current", "current")]["loans_share"] > 0.85
    # The deeper the delinquency, the likelier it rolls forward.
    roll_forward = {
        bucket: sum(r["loans_share"] for (f, t), r in matrix.items() if f == bucket and t in worse)
        for bucket, worse in FORWARD.items()
    }
    assert roll_forward["60-89"] > roll_forward["1-29"]
    assert roll_forward["60-89"] > 0.2
