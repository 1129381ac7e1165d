"""Benchmark of the strategy: ``decide`` for every delinquent account on DuckDB, and the latency
of ``decide_one``.

Run from ``benchmarks/``::

    python bench_strategy.py --loans 100000            # generates _work/book-100000 once
    python bench_strategy.py --data /path/to/book      # an existing portfolio (read only)

Goals (issue #3): decisions for 1M accounts ≤ 10 s on 2 cores; ``decide_one`` ≤ 1 ms.
``decide`` is timed from the account states (materialized first, timed apart) to
``decisions.parquet`` written; ``decide_one`` is timed per account on real accounts of the
book (their contacts included), with the strategy loaded once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
AS_OF = dt.date(2026, 10, 31)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=None, help="existing portfolio folder")
    parser.add_argument("--strategy", default="mx_default")
    parser.add_argument("--sample", type=int, default=2000, help="accounts for decide_one")
    args = parser.parse_args()

    import duckdb

    import cobranza
    from cobranza.contract import discover, load
    from cobranza.engine import DuckDBEngine
    from cobranza.ledger import account_states
    from cobranza.strategy import decide, decide_one, load_strategy
    from cobranza.strategy._guardrails import AccountContext

    # The machine is shared: a fixed DuckDB workload measured in the same run says how loaded
    # it was (about 0.15 s on 2 idle cores).
    started = time.perf_counter()
    duckdb.sql("SELECT sum(i * i) FROM range(100000000) t(i)").fetchall()
    calibration_s = time.perf_counter() - started

    data = args.data
    if data is None:
        data = WORK / f"book-{args.loans}"
        if not data.exists():
            cobranza.generate(data, loans=args.loans, seed=1, as_of=AS_OF)
    strategy = load_strategy(args.strategy)
    engine = DuckDBEngine()
    tables = load(engine, discover(data))
    started = time.perf_counter()
    engine.materialize(
        "bench_states",
        account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF),
    )
    states_s = time.perf_counter() - started
    states = engine.table("bench_states")
    n_loans = engine.fetch(states.count().as_table()).column(0)[0].as_py()

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        decisions = decide(engine, tables, states, AS_OF, strategy)
        engine.write_parquet(decisions, Path(tmp) / "decisions.parquet")
        decide_s = time.perf_counter() - started
    accounts = (
        engine.fetch(
            states.filter((states.status == "active") & (states.dpd >= 1)).count().as_table()
        )
        .column(0)[0]
        .as_py()
    )

    # decide_one gets what a real-time caller would hold: the loan's rows and the customer's
    # compliance context (customer row, all its loans' contacts, payments and promises).
    delinquent = states.filter((states.status == "active") & (states.dpd >= 1))
    picked = delinquent.order_by("loan_id").limit(args.sample)
    sample = engine.fetch(picked).to_pylist()
    loans = tables["loans"].semi_join(picked.select("customer_id"), "customer_id")
    owner = {
        r["loan_id"]: r["customer_id"]
        for r in engine.fetch(loans.select("loan_id", "customer_id")).to_pylist()
    }
    customers = {
        r["customer_id"]: r
        for r in engine.fetch(
            tables["customers"].semi_join(picked.select("customer_id"), "customer_id")
        ).to_pylist()
    }
    rows: dict[str, dict[str, list]] = {}
    for name in ("contacts", "payments", "promises"):
        by_loan: dict[str, list] = defaultdict(list)
        for row in engine.fetch(
            tables[name].semi_join(loans.select("loan_id"), "loan_id")
        ).to_pylist():
            by_loan[row["loan_id"]].append(row)
        rows[name] = by_loan
    loans_of: dict[str, list[str]] = defaultdict(list)
    for loan, customer in owner.items():
        loans_of[customer].append(loan)
    contexts = []
    for account in sample:
        loan, customer = account["loan_id"], account["customer_id"]
        for name in ("contacts", "payments", "promises"):
            account[name] = rows[name][loan]
        contexts.append(AccountContext(
            customer=customers.get(customer), loan_owners=owner,
            **{name: tuple(r for lo in loans_of[customer] for r in rows[name][lo])
               for name in ("contacts", "payments", "promises")},
        ))  # fmt: skip
    latencies = []
    for account, context in zip(sample, contexts, strict=True):
        t0 = time.perf_counter()
        decide_one(account, strategy, context=context)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    result = {
        "calibration_100m_sum_s": round(calibration_s, 2),
        "loans": n_loans,
        "delinquent_accounts": accounts,
        "account_states_s": round(states_s, 2),
        "decide_s": round(decide_s, 2),
        "decide_accounts_per_s": round(accounts / decide_s),
        "decide_one_median_ms": round(statistics.median(latencies), 3),
        "decide_one_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3),
        "decide_one_sample": len(latencies),
        "strategy_version": strategy.strategy_version,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
