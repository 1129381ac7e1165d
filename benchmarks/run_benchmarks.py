"""Benchmarks of the foundation: 1M loans, account state and the whole run, against pandas.

Run from ``benchmarks/``::

    python run_benchmarks.py --loans 1000000

Each measurement runs in its own process so that its peak memory (max RSS) is its own; the
engine and the pandas baseline run side by side in the same invocation because these machines
are noisy and only ratios measured together mean anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
AS_OF = dt.date(2026, 10, 31)


def _child(step: str, data: Path, out: Path) -> dict[str, float]:
    started = time.perf_counter()
    if step == "generate":
        import cobranza

        cobranza.generate(data, loans=int(out.name), seed=1)
    elif step == "account_state":
        from cobranza.contract import discover, load
        from cobranza.engine import DuckDBEngine
        from cobranza.ledger import account_states

        engine = DuckDBEngine()
        tables = load(engine, discover(data))
        expr = account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF)
        out.mkdir(parents=True, exist_ok=True)
        engine.write_parquet(expr, out / "account_state.parquet")
    elif step == "run":
        import cobranza

        cobranza.run(data, AS_OF, out)
    elif step == "pandas":
        from pandas_baseline import account_state_pandas

        out.mkdir(parents=True, exist_ok=True)
        account_state_pandas(data, AS_OF).to_parquet(out / "account_state.parquet")
    else:
        raise SystemExit(f"unknown step {step}")
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 2), "peak_mb": round(peak_mb)}


def measure(step: str, data: Path, out: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", step, str(data), str(out)],
        cwd=HERE, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=3, metavar=("STEP", "DATA", "OUT"))
    args = parser.parse_args()
    if args.child:
        step, data, out = args.child
        print(json.dumps(_child(step, Path(data), Path(out))))
        return

    data = WORK / f"book-{args.loans}"
    results: dict[str, dict[str, float]] = {}
    if not (data / "loans.parquet").exists():
        results["generate"] = measure("generate", data, Path(str(args.loans)))
    import pyarrow.parquet as pq

    rows = {t: pq.ParquetFile(data / f"{t}.parquet").metadata.num_rows
            for t in ("loans", "installments", "payments")}  # fmt: skip
    results["account_state (DuckDB)"] = measure("account_state", data, WORK / "state")
    results["account_state (pandas)"] = measure("pandas", data, WORK / "pandas")
    results["whole run (DuckDB)"] = measure("run", data, WORK / "run")
    agree = baseline_agrees(WORK / "state", WORK / "pandas")
    ratio = (
        results["account_state (pandas)"]["seconds"] / results["account_state (DuckDB)"]["seconds"]
    )
    print(f"rows: {rows}")
    print("| step | wall time (s) | peak memory (MB) |")
    print("| --- | ---: | ---: |")
    for step, r in results.items():
        print(f"| {step} | {r['seconds']} | {r['peak_mb']} |")
    print(f"pandas ÷ DuckDB account-state time: {ratio:.1f}×")
    print(f"pandas baseline agrees with the engine on dpd, past due and outstanding: {agree}")


def baseline_agrees(engine_out: Path, pandas_out: Path) -> bool:
    """The comparison only means something if the baseline computes the same numbers."""
    import pandas as pd

    engine = pd.read_parquet(engine_out / "account_state.parquet")
    engine = engine[engine["product"] == "installment"].set_index("loan_id")
    base = pd.read_parquet(pandas_out / "account_state.parquet").set_index("loan_id")
    base = base.loc[engine.index]
    cents = (engine["past_due_amount"].astype(float) * 100).round().astype("int64")
    left = (engine["outstanding_principal"].astype(float) * 100).round().astype("int64")
    return bool(
        (engine["dpd"].to_numpy() == base["dpd"].to_numpy()).all()
        and (cents.to_numpy() == base["past_due"].to_numpy()).all()
        and (left.to_numpy() == base["outstanding"].to_numpy()).all()
    )


if __name__ == "__main__":
    main()
