"""Guardrail verdicts for a whole book on DuckDB: seconds and rows, by step.

    python guardrails_benchmark.py --loans 1000000            # generates _work/book-N once
    python guardrails_benchmark.py --data PATH/TO/BOOK         # an existing synthetic book

Candidates are made up from the loans (every loan gets two or three options on assorted
channels, expected values from its principal) because the strategy that produces them is
another module; what is measured is ``guardrail_verdicts`` over them: compile once, then the
engine writes the verdicts to Parquet, as a run would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from cobranza.contract import load
from cobranza.engine import DuckDBEngine
from cobranza.strategy._guardrails import guardrail_verdicts

HERE = Path(__file__).resolve().parent
HOLDS = pa.schema([("loan_id", pa.string()), ("reason", pa.string()),
                   ("source_id", pa.string()), ("since", pa.date32()),
                   ("until", pa.date32())])  # fmt: skip


def book(args: argparse.Namespace) -> Path:
    if args.data is not None:
        return Path(args.data)
    path = HERE / "_work" / f"book-{args.loans}"
    if not path.exists():
        from cobranza.synthetic import generate

        generate(path, args.loans, seed=1)
    return path


def candidates(loans: ibis.Table, as_of: dt.date) -> ibis.Table:
    """Two or three options per loan, channels spread by a hash of the loan id."""
    channels = ["sms", "whatsapp", "call", "email", "field", "ivr", "agency", "letter", "legal"]
    h = loans.loan_id.hash().abs()
    options = []
    for rank in (1, 2, 3):
        pick = ibis.cases(*[((h + rank * 7) % len(channels) == i, c)
                            for i, c in enumerate(channels)])  # fmt: skip
        rows = loans.filter((h % 3 >= rank - 1) | (rank < 3)).select(
            as_of=ibis.date(as_of), loan_id="loan_id", customer_id="customer_id",
            segment=ibis.literal("bench"), step=ibis.literal("early"), channel=pick,
            option_rank=ibis.literal(rank, type="int32"), template=ibis.literal("t"),
            offer=ibis.null("string"), experiment=ibis.null("string"), arm=ibis.null("string"),
            strategy_version=ibis.literal("bench"), reason=ibis.literal("bench"),
            expected_value=loans.principal.cast("float64") / (rank + (h % 5).cast("float64")),
        )  # fmt: skip
        options.append(rows)
    return ibis.union(*options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--data", default=None)
    parser.add_argument("--as-of", default="2026-10-30")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    path = book(args)
    with DuckDBEngine() as engine, tempfile.TemporaryDirectory() as tmp:
        t = load(engine, path)
        engine.register_arrow("payment_holds", HOLDS.empty_table())
        started = time.perf_counter()
        engine.materialize("candidates", candidates(t["loans"], as_of))
        made = time.perf_counter() - started
        n = engine.fetch(engine.table("candidates").count().as_table()).column(0)[0].as_py()
        started = time.perf_counter()
        expr = guardrail_verdicts(
            engine.table("candidates"), customers=t["customers"], contacts=t["contacts"],
            payments=t["payments"], promises=t["promises"],
            holds=engine.table("payment_holds"), as_of=as_of, loans=t["loans"],
        )  # fmt: skip
        sql = engine.to_sql(expr)
        compiled = time.perf_counter() - started
        out = Path(tmp) / "verdicts.parquet"
        started = time.perf_counter()
        engine._sql(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
        ran = time.perf_counter() - started
        verdicts = pq.read_table(out, columns=["suppressed_by"]).column(0).value_counts()
    print(f"book: {path} ({n:,} candidate actions, as of {as_of})")
    print(f"candidates made up: {made:.1f} s; verdicts built+compiled: {compiled:.1f} s; "
          f"verdicts computed and written: {ran:.1f} s")  # fmt: skip
    for item in sorted(verdicts.to_pylist(), key=lambda v: -v["counts"]):
        print(f"  {item['values'] or 'permitted'}: {item['counts']:,}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
