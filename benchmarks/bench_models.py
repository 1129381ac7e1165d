"""In-engine scoring and training speed of the collection models.

Run from ``benchmarks/``:  python bench_models.py [--score-rows N] [--train-rows N]

Goals (issue 4): scoring 1M accounts in the engine ≤ 5 s (DuckDB); training on 500k rows
≤ 2 min on 2 cores. Rows are generated from the UCI accounts (resampled with noise), so the
bins and trees are those of a realistic model. Timings on a shared machine vary with what
else runs on it; the script prints the machine's load next to them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from cobranza.engine import DuckDBEngine
from cobranza.models import UCI_TARGET, TrainingSpec, score_expression, train_models, uci_features

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "uci_credit_card"


def _resample(table: pa.Table, n: int, seed: int = 0) -> pa.Table:
    """``n`` rows drawn from the UCI accounts, numeric columns jittered by ±2 %."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, table.num_rows, n)
    columns = {"loan_id": pa.array([f"L{i:08d}" for i in range(n)])}
    for name in table.column_names:
        if name == "loan_id":
            continue
        values = table[name].to_numpy(zero_copy_only=False)[idx]
        if name != UCI_TARGET and values.dtype.kind == "f":
            values = values * rng.uniform(0.98, 1.02, n)
        columns[name] = pa.array(values)
    return pa.table(columns)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--score-rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=500_000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with DuckDBEngine(threads=2) as eng:
        base = eng.fetch(uci_features(eng, DATA / "UCI_Credit_Card.csv"))

        train_table = _resample(base, args.train_rows, seed=1)
        spec = TrainingSpec(name="bench", target=UCI_TARGET)
        start, cpu = time.perf_counter(), time.process_time()
        result = train_models(spec, train_table)
        train_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        print(
            f"training on {args.train_rows:,} rows (scorecard + challenger): {train_s:.1f} s "
            f"wall, {cpu_s:.1f} s CPU"
        )

        eng.register_arrow("accounts", _resample(base, args.score_rows, seed=2))
        eng.materialize("accounts_t", eng.table("accounts"))
        for model in result.models:
            expr = score_expression(model, eng.table("accounts_t"))
            start = time.perf_counter()
            sql = eng.to_sql(expr)
            compile_s = time.perf_counter() - start
            start, cpu = time.perf_counter(), time.process_time()
            eng.materialize("scores", expr)
            run_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
            eng.drop("scores")
            print(
                f"scoring {args.score_rows:,} rows in DuckDB, {model.kind}: {run_s:.2f} s wall, "
                f"{cpu_s:.2f} s CPU (+ {compile_s:.2f} s to compile {len(sql):,} characters of SQL)"
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
