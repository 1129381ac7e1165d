"""Reconcile N partner transactions against N lender payments on DuckDB (issue #6 goal:
1M vs 1M in ≤ 20 s on 2 cores).

    python bench_reconcile.py --n 1000000 --threads 2

Inputs are built with numpy (vectorised) and written to Parquet under ``_work/``; the timed
part is :func:`cobranza.payments.reconcile.reconcile` plus :func:`payment_exceptions` and
writing every output table (``write_outputs``), all in the engine. Reported: wall time, CPU
seconds of the process (DuckDB's threads included) and peak RSS.

The mix: 65 % per-payment SPEI settlements by loan reference (some numeric), 20 % OXXO
settlements with fees, 15 % card payments settled in daily batches net of fees; defects at
about 1 % each (missing settlement, amount off, unknown reference, duplicate report, late,
unapplied credit).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cobranza.engine import DuckDBEngine
from cobranza.payments import PARTNER_TRANSACTIONS
from cobranza.payments.exceptions import payment_exceptions, write_outputs
from cobranza.payments.reconcile import ReconcileConfig, reconcile
from cobranza.synthetic._arrow import decimal_from_units

AS_OF = dt.date(2026, 10, 31)
DAYS = 45
HERE = Path(__file__).resolve().parent


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return pc.binary_join_element_wise(
        prefix, pc.utf8_lpad(pa.array(numbers.astype(str)), width, "0"), ""
    )


def build(n: int, folder: Path, seed: int = 1) -> None:
    """Write ``payments.parquet``, ``loans.parquet`` and ``transactions.parquet``."""
    rng = np.random.default_rng(seed)
    loans = max(1, n // 3)
    loan = rng.integers(1, loans + 1, n)
    day = rng.integers(0, DAYS, n)  # days before as-of
    paid_on = np.datetime64(AS_OF) - day.astype("timedelta64[D]")
    seconds = rng.integers(8 * 3600, 20 * 3600, n) + 6 * 3600  # local → UTC (UTC−6)
    paid_at = paid_on.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    cents = rng.integers(10_000, 500_000, n)
    kind = rng.choice(3, n, p=[0.65, 0.20, 0.15])  # 0 spei, 1 oxxo, 2 card batch
    partner_names = np.array(["STP", "OXXO-CONEKTA", "PROSA"])
    channel_names = np.array(["spei", "oxxo", "card"])
    loan_id = _ids("L", loan, 9)
    payment_id = _ids("P", np.arange(n), 10)
    amount = decimal_from_units(cents)
    payments = pa.table({
        "payment_id": payment_id, "loan_id": loan_id,
        "paid_at": pa.array(paid_at.astype("datetime64[us]")).cast(pa.timestamp("us", "UTC")),
        "amount": amount, "channel": pa.array(channel_names[kind]),
        "partner_id": pa.array(partner_names[kind]), "reference": loan_id,
        "status": pa.array(np.full(n, "settled")),
    })  # fmt: skip
    pq.write_table(payments, folder / "payments.parquet")
    pq.write_table(pa.table({"loan_id": _ids("L", np.arange(1, loans + 1), 9)}),
                   folder / "loans.parquet")  # fmt: skip

    # Per-payment settlements (SPEI, OXXO), with defects.
    u = rng.random(n)
    single = kind < 2
    missing = single & (u < 0.01)
    off = single & (u >= 0.01) & (u < 0.02)
    unknown = single & (u >= 0.02) & (u < 0.03)
    late = single & (u >= 0.03) & (u < 0.04)
    keep = single & ~missing
    tx_cents = np.where(off, cents - 2_000, cents)
    fee = np.where(kind == 1, np.round(cents * 0.035).astype(np.int64), 0)
    lag = np.where(late, 5, 0)
    value = paid_on + lag.astype("timedelta64[D]")
    ref = pc.if_else(pa.array(unknown), _ids("9", rng.integers(0, 10**6, n), 6), loan_id)
    idx = np.flatnonzero(keep & (value <= np.datetime64(AS_OF)))
    # Duplicate reports and unapplied credits.
    dup = idx[rng.random(idx.size) < 0.01]
    extra = rng.choice(idx, max(1, n // 200), replace=False)
    rows = np.concatenate([idx, dup, extra])
    is_extra = np.concatenate([np.zeros(idx.size + dup.size, bool), np.ones(extra.size, bool)])
    m = rows.size
    # A duplicate report repeats the id of the transaction it copies.
    number = np.concatenate(
        [np.arange(idx.size), np.searchsorted(idx, dup), np.arange(idx.size + dup.size, m)]
    )
    ext = _ids("T", number, 10)
    vdate = value[rows] + np.where(is_extra, 2, 0).astype("timedelta64[D]")

    def dec(c: np.ndarray) -> pa.Array:
        return decimal_from_units(np.asarray(c, np.int64) * 1000, pa.decimal128(20, 5))

    singles = {
        "partner_id": pa.array(partner_names[kind[rows]]),
        "rail": pa.array(np.where(kind[rows] == 1, "oxxo", "spei")),
        "external_id": ext,
        "value_date": pa.array(vdate.astype("datetime64[D]")),
        "amount": dec(tx_cents[rows]),
        "fee": dec(fee[rows]),
        "reference": ref.take(pa.array(rows)),
        "source_file": pa.array(np.where(np.arange(m) >= idx.size, "b.json", "a.json")),
        "source_line": pa.array(np.arange(m, dtype=np.int32)),
    }
    # Daily card batches net of 2.9 %.
    card = kind == 2
    days_card = day[card]
    gross = np.bincount(days_card, weights=cents[card], minlength=DAYS).astype(np.int64)
    fees = np.bincount(days_card, weights=np.round(cents[card] * 0.029), minlength=DAYS)
    fees = fees.astype(np.int64)
    present = np.flatnonzero(gross > 0)
    present = present[present >= 1]  # today's batch settles tomorrow
    batches = {
        "partner_id": pa.array(np.full(present.size, "PROSA")),
        "rail": pa.array(np.full(present.size, "camt")),
        "external_id": _ids("B", present, 4),
        "value_date": pa.array((np.datetime64(AS_OF) - present + 1).astype("datetime64[D]")),
        "amount": dec(gross[present] - fees[present]),
        "fee": dec(fees[present]),
        "reference": _ids("LOTE-", present, 4),
        "source_file": pa.array(np.full(present.size, "c.xml")),
        "source_line": pa.array(present.astype(np.int32)),
    }
    parts = []
    for cols in (singles, batches):
        k = len(cols["external_id"])
        full = {
            **cols, "booking_date": cols["value_date"],
            "booked_at": pa.nulls(k, pa.timestamp("us", "UTC")),
            "currency": pa.array(np.full(k, "MXN")), "description": pa.nulls(k, pa.string()),
            "account": pa.nulls(k, pa.string()), "counterparty_account": pa.nulls(k, pa.string()),
            "counterparty_account_valid": pa.nulls(k, pa.bool_()),
            "status": pa.array(np.full(k, "settled")), "statement_id": pa.nulls(k, pa.string()),
            "source_element": pa.nulls(k, pa.string()),
        }  # fmt: skip
        parts.append(pa.table({f.name: full[f.name].cast(f.type) for f in PARTNER_TRANSACTIONS}))
    pq.write_table(pa.concat_tables(parts), folder / "transactions.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    args = parser.parse_args()
    folder = HERE / "_work" / f"reconcile_{args.n}"
    if not (folder / "transactions.parquet").exists():
        folder.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        build(args.n, folder)
        print(f"inputs built in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    eng = DuckDBEngine(threads=args.threads, memory_limit=args.memory_limit)
    for name in ("payments", "loans", "transactions"):
        eng.register_file(f"b_{name}", folder / f"{name}.parquet")
    n_tx = pq.read_metadata(folder / "transactions.parquet").num_rows
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rec = reconcile(
        eng, eng.table("b_transactions").drop("_row"), eng.table("b_payments").drop("_row"),
        AS_OF, loans=eng.table("b_loans").select("loan_id"),
        settlement_days={"STP": 1, "OXXO-CONEKTA": 2, "PROSA": 2},
        config=ReconcileConfig(lookback_days=DAYS),
    )  # fmt: skip
    wall_rec, cpu_rec = time.perf_counter() - wall0, time.process_time() - cpu0
    exc = payment_exceptions(rec)
    write_outputs(eng, rec, exc, folder / "out")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    counts = {r["root_cause"]: r["n"] for r in eng.fetch(_counts(eng, folder / "out")).to_pylist()}
    result = {
        "payments": args.n, "transactions": n_tx, "threads": args.threads,
        "reconcile_wall_s": round(wall_rec, 2), "reconcile_cpu_s": round(cpu_rec, 2),
        "total_wall_s": round(wall, 2), "total_cpu_s": round(cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "exceptions": counts,
    }  # fmt: skip
    print(json.dumps(result, indent=2))


def _counts(eng: DuckDBEngine, out: Path) -> ibis.Table:
    eng.register_file("b_exceptions", out / "payment_exceptions.parquet")
    e = eng.table("b_exceptions")
    return e.group_by("root_cause").aggregate(n=e.count())


if __name__ == "__main__":
    main()
