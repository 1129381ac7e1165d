"""Benchmarks of the foundation: 1M loans, account state and the whole run, against pandas.

Run from ``benchmarks/``::

    python run_benchmarks.py --loans 1000000

Each measurement runs in its own process so that its peak memory (max RSS) and its CPU time
(user + system, DuckDB's threads included) are its own; the engine and the pandas baseline run
side by side in the same invocation because these machines are noisy and only ratios measured
together mean anything. CPU time is the steadier figure when other work shares the cores.

To compare a change against an earlier version, export that version's ``src`` (e.g.
``git archive BASE src | tar -x -C /tmp/base``) and pass it with ``--compare /tmp/base/src``:
each step then runs alternately on both trees, ``--repeat`` times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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
    elif step == "month_end_states":
        # The run's year of month-ends, in as many queries as the ledger asks (versions before
        # the many-dates pass ran out of memory beyond 4 dates per query).
        import ibis

        from cobranza import ledger
        from cobranza.contract import discover, load
        from cobranza.engine import DuckDBEngine
        from cobranza.portfolio import month_ends

        engine = DuckDBEngine()
        tables = load(engine, discover(data))
        dates = month_ends(AS_OF, 12)
        batches = -(-len(dates) // getattr(ledger, "DATES_PER_QUERY", 4))
        parts = []
        for i in range(batches):
            engine.materialize(f"states_{i}", ledger.account_states(
                tables["loans"], tables["installments"], tables["payments"], dates[i::batches]
            ))  # fmt: skip
            parts.append(engine.table(f"states_{i}"))
        out.mkdir(parents=True, exist_ok=True)
        engine.write_parquet(ibis.union(*parts), out / "snapshots.parquet")
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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": round(usage.ru_maxrss / 1024),
    }
    if step == "run":
        manifest = json.loads((out / "run.json").read_text())
        result["timings"] = manifest["timings_seconds"]
    return result


def measure(step: str, data: Path, out: Path, src: Path | None = None) -> dict[str, float]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, __file__, "--child", step, str(data), str(out)],
        cwd=HERE, capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(data: Path, steps: list[str], base: Path, repeat: int) -> None:
    """Each step on the base tree and on this one, alternately, ``repeat`` times."""
    this = HERE.parent / "src"
    print("| step | tree | wall time (s) | CPU time (s) | peak memory (MB) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for step in steps:
        for _ in range(repeat):
            for label, src in (("before", base), ("after", this)):
                r = measure(step, data, WORK / f"{step}-{label}", src)
                print(f"| {step} | {label} | {r['seconds']} | {r['cpu_seconds']} | "
                      f"{r['peak_mb']} |", flush=True)  # fmt: skip
                if "timings" in r:
                    print(f"|  | {label} steps: {r['timings']} | | | |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=3, metavar=("STEP", "DATA", "OUT"))
    parser.add_argument("--compare", type=Path, metavar="SRC",
                        help="an earlier version's src folder to measure side by side")  # fmt: skip
    parser.add_argument(
        "--steps",
        default="account_state,run",
        help="steps to compare: account_state, month_end_states, run, pandas",
    )
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if args.child:
        step, data, out = args.child
        print(json.dumps(_child(step, Path(data), Path(out))))
        return

    data = WORK / f"book-{args.loans}"
    if args.compare:
        compare(data, args.steps.split(","), args.compare.resolve(), args.repeat)
        return
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
    print("| step | wall time (s) | CPU time (s) | peak memory (MB) |")
    print("| --- | ---: | ---: | ---: |")
    for step, r in results.items():
        print(f"| {step} | {r['seconds']} | {r['cpu_seconds']} | {r['peak_mb']} |")
    if "timings" in results["whole run (DuckDB)"]:
        print(f"whole-run steps: {results['whole run (DuckDB)']['timings']}")
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
