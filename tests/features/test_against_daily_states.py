"""The dpd-history variables and the targets against the ledger's account state taken on
every single day of their windows, on a synthetic book (DuckDB; the cross-engine tests run
the same code on Spark).

The history formulas claim to be exact for every day; here each day's state comes from
:func:`cobranza.ledger.account_states` and the maxima, runs and first cure day are found by
walking the days in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from cobranza.contract import load
from cobranza.engine import Engine
from cobranza.features import compute_features, targets
from cobranza.features._variables import months_before
from cobranza.ledger import DEFAULT_BUCKETS, PAID_OFF, WRITTEN_OFF, account_states
from cobranza.synthetic import generate

END = dt.date(2026, 10, 31)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synthetic_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("book") / "book", 400, 11, as_of=END)


def daily(engine: Engine, tables: dict, first: dt.date, last: dt.date) -> dict:
    """(loan_id → [(day, dpd, bucket, status)]) for every day in [first, last]."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    out: dict[str, list] = defaultdict(list)
    for i in range(0, len(days), 64):
        states = account_states(
            tables["loans"], tables["installments"], tables["payments"], days[i : i + 64]
        )
        rows = engine.fetch(states.select("loan_id", "as_of", "dpd", "bucket", "status"))
        for r in rows.to_pylist():
            out[r["loan_id"]].append((r["as_of"], r["dpd"], r["bucket"], r["status"]))
    return {k: sorted(v) for k, v in out.items()}


def test_history_variables_equal_a_walk_over_every_day(
    duckdb_engine: Engine, synthetic_book: Path
) -> None:
    tables = load(duckdb_engine, synthetic_book)
    as_of = dt.date(2026, 9, 30)
    start = months_before(as_of, 12)
    days = daily(duckdb_engine, tables, start + dt.timedelta(days=1), as_of)
    got = duckdb_engine.fetch(
        compute_features(
            tables, as_of, variables=["max_dpd_3m", "max_dpd_6m", "max_dpd_12m", "times_30dpd_12m"]
        )
    ).to_pylist()
    assert len(got) > 100
    runs_seen = 0
    for row in got:
        walk = days[row["loan_id"]]
        for months in (3, 6, 12):
            since = months_before(as_of, months)
            expected = max([d for day, d, _, _ in walk if day > since], default=0)
            assert row[f"max_dpd_{months}m"] == expected, (row, months)
        runs, before = 0, False
        for _, d, _, _ in walk:
            runs += d >= 30 and not before
            before = d >= 30
        assert row["times_30dpd_12m"] == runs, row
        runs_seen += runs > 1
    assert runs_seen > 0  # the book has loans with several separate 30+ runs


def test_targets_equal_a_walk_over_every_day(duckdb_engine: Engine, synthetic_book: Path) -> None:
    tables = load(duckdb_engine, synthetic_book)
    as_of = dt.date(2026, 7, 31)
    days = daily(duckdb_engine, tables, as_of, as_of + dt.timedelta(days=60))
    got = duckdb_engine.fetch(targets(tables, as_of)).to_pylist()
    order = {b: i for i, b in enumerate(DEFAULT_BUCKETS.states)}
    counts: dict[str, int] = defaultdict(int)
    for row in got:
        walk = days[row["loan_id"]]
        (day0, dpd0, bucket0, _), after = walk[0], walk[1:]
        assert day0 == as_of
        cured = [day for day, d, _, status in after if d == 0 and status != WRITTEN_OFF]
        if dpd0 == 0:
            assert (row["pay"], row["cure_30"], row["cure_60"]) == (None, None, None)
        else:
            assert row["cure_30"] == any(day <= as_of + dt.timedelta(days=30) for day in cured)
            assert row["cure_60"] == bool(cured)
            counts["cure_30"] += row["cure_30"]
            counts["cure_60 only"] += row["cure_60"] and not row["cure_30"]
        worse = [
            day
            for day, _, bucket, _ in after
            if bucket != PAID_OFF and order[bucket] > order[bucket0]
        ]
        assert row["roll"] == any(day <= as_of + dt.timedelta(days=30) for day in worse), row
        counts["roll"] += row["roll"]
    assert min(counts.values()) > 0 and len(counts) == 3, counts
