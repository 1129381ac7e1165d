"""Provisions and the allowance walk on a synthetic book, timed step by step (DuckDB).

    python bench_provisions.py --loans 100000

Generates the book once (cached in ``_work/``), computes the account states at as-of, the
previous month-end and 12 month-ends, then for each method: the provisions at as-of and at the
previous month-end (materialized), the walk between them, and the monthly credit results.
Prints one line per step; results go to the final report of the provisions branch.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import warnings
from pathlib import Path

import ibis

from cobranza.contract import discover, load
from cobranza.engine import DuckDBEngine
from cobranza.ledger import account_states
from cobranza.portfolio import month_ends
from cobranza.provisions import allowance_movements, allowance_walk, compute_provisions
from cobranza.synthetic import generate

AS_OF, OPENING = dt.date(2026, 10, 31), dt.date(2026, 9, 30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--methods", default="ageband,matrix,ifrs9,rollrate,cnbv")
    args = parser.parse_args()
    data = Path(__file__).parent / "_work" / f"book_{args.loans}"
    if not data.exists():
        started = time.perf_counter()
        generate(data, args.loans, 1, as_of=AS_OF)
        print(f"generate {args.loans:,} loans: {time.perf_counter() - started:.1f} s")
    warnings.simplefilter("ignore")
    with DuckDBEngine() as eng:
        tables = load(eng, discover(data))
        started = time.perf_counter()
        dates = sorted({AS_OF, *month_ends(AS_OF, 12)})
        for i in range(0, len(dates), 4):
            eng.materialize(
                f"s{i}",
                account_states(
                    tables["loans"], tables["installments"], tables["payments"], dates[i : i + 4]
                ),
            )
        states = ibis.union(*[eng.table(f"s{i}") for i in range(0, len(dates), 4)])
        eng.materialize("states", states)
        states = eng.table("states")
        print(f"account states, {len(dates)} dates: {time.perf_counter() - started:.1f} s")
        for method in args.methods.split(","):
            started = time.perf_counter()
            eng.materialize("p1", compute_provisions(eng, tables, states, AS_OF, method))
            closing = time.perf_counter()
            known = states.filter(states.as_of <= ibis.date(OPENING))
            eng.materialize("p0", compute_provisions(eng, tables, known, OPENING, method))
            opening = time.perf_counter()
            movements = allowance_movements(
                eng.table("p0"), eng.table("p1"), tables["loans"], AS_OF
            )
            eng.materialize("mv", movements)
            walk = eng.fetch(allowance_walk(eng.table("mv")))
            done = time.perf_counter()
            n = eng.fetch(eng.table("p1").aggregate(n=eng.table("p1").count())).column("n")[0]
            print(
                f"{method:9s} provisions at as-of {closing - started:5.2f} s, at opening "
                f"{opening - closing:5.2f} s, walk {done - opening:5.2f} s, total "
                f"{done - started:5.2f} s ({n.as_py():,} loans; {walk.num_rows} walk rows)"
            )


if __name__ == "__main__":
    main()
