"""Benchmark of the variable catalog: features (and targets) for N synthetic loans.

Run from ``benchmarks/``::

    python bench_features.py --loans 100000 [--engine duckdb] [--targets]

Generates the book once into ``_work/book-<N>`` (reused afterwards), then times, each in one
process: the account state at the as-of date alone (the ledger's share), and the whole feature
table written to Parquet by ``write_features`` (validation + state + every variable), and
prints one JSON line per step with seconds and peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
AS_OF = dt.date(2026, 10, 31)


def book(loans: int) -> Path:
    path = WORK / f"book-{loans}"
    shared = Path("/work/main/benchmarks/_work") / f"book-{loans}"
    if not path.exists() and shared.exists():
        return shared  # a cached book of another worktree, read only
    if not path.exists():
        import cobranza

        cobranza.generate(path, loans=loans, seed=1)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"])
    parser.add_argument("--targets", action="store_true", help="time targets at as-of − 60 d")
    args = parser.parse_args()
    data = book(args.loans)

    from cobranza.contract import discover, load
    from cobranza.engine import connect
    from cobranza.features import write_features
    from cobranza.ledger import account_states

    out = WORK / f"features-{args.loans}"
    out.mkdir(parents=True, exist_ok=True)
    results = []

    started = time.perf_counter()
    with connect(args.engine) as eng:
        tables = load(eng, discover(data))
        expr = account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF)
        eng.write_parquet(expr, out / "account_state.parquet")
    results.append(("account_state", time.perf_counter() - started))

    started = time.perf_counter()
    write_features(data, AS_OF, out / "features.parquet", args.engine)
    results.append(("features", time.perf_counter() - started))

    if args.targets:
        started = time.perf_counter()
        early = AS_OF - dt.timedelta(days=61)
        write_features(data, early, out / "features_targets.parquet", args.engine,
                       with_targets=True)  # fmt: skip
        results.append(("features+targets", time.perf_counter() - started))

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for step, seconds in results:
        line = dict(step=step, loans=args.loans, engine=args.engine, seconds=round(seconds, 2),
                    peak_mb_process=round(peak_mb))  # fmt: skip
        print(json.dumps(line))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
