"""Arrow tables for data contract v1 and deterministic, atomic Parquet output."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import _geo
from ._arrow import (
    MONEY,
    RATE,
    SECONDS_PER_DAY,
    UTC_US,
    dates,
    decimal_from_units,
    int32s,
    labels,
    local_to_utc_us,
    padded,
    timestamps,
)
from ._behaviour import STATUSES, Outcome
from ._contacts import COST_CENTS, HUMAN_CHANNELS, OUTCOMES, PROMISE
from ._customers import CHANNELS, EMAIL_DOMAINS, Customers, opt_out_strings
from ._loans import CNBV_TYPES, FREQUENCIES, OXXO, PAY_CHANNELS, SPEI, Loans
from ._schedule import Schedule

CONTRACT_VERSION = "1"
#: Rows per Parquet row group and per in-memory conversion chunk. Fixed, so that the file
#: layout (and therefore its bytes) depends on the data only.
CHUNK_ROWS = 1 << 20
_PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 1,
    "write_statistics": True,
    "version": "2.6",
}
# Dictionary-encode only repetitive strings; unique keys and decimals would only pay for a
# dictionary that overflows and falls back to plain encoding.
_DICTIONARY_COLUMNS = [
    "state", "opt_out_channels", "customer_id", "loan_id", "product", "frequency",
    "cnbv_type", "channel", "partner_id", "status", "outcome", "agent_id",
]  # fmt: skip
_UNIQUE_KEYS = {"customers": "customer_id", "loans": "loan_id"}

SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema([
        ("customer_id", pa.string()), ("state", pa.string()), ("postal_code", pa.string()),
        ("birth_date", pa.date32()), ("monthly_income", MONEY), ("phone", pa.string()),
        ("email", pa.string()), ("opt_out_channels", pa.string()),
        ("do_not_contact", pa.bool_()),
    ]),
    "loans": pa.schema([
        ("loan_id", pa.string()), ("customer_id", pa.string()), ("product", pa.string()),
        ("opened_on", pa.date32()), ("principal", MONEY), ("annual_rate", RATE),
        ("frequency", pa.string()), ("term", pa.int32()), ("cnbv_type", pa.string()),
        ("written_off_on", pa.date32()), ("closed_on", pa.date32()),
    ]),
    "installments": pa.schema([
        ("loan_id", pa.string()), ("seq", pa.int32()), ("due_date", pa.date32()),
        ("principal_due", MONEY), ("interest_due", MONEY), ("fees_due", MONEY),
        ("statement_balance", MONEY),
    ]),
    "payments": pa.schema([
        ("payment_id", pa.string()), ("loan_id", pa.string()), ("paid_at", UTC_US),
        ("amount", MONEY), ("channel", pa.string()), ("partner_id", pa.string()),
        ("reference", pa.string()), ("status", pa.string()),
    ]),
    "contacts": pa.schema([
        ("contact_id", pa.string()), ("loan_id", pa.string()), ("channel", pa.string()),
        ("attempted_at", UTC_US), ("outcome", pa.string()), ("agent_id", pa.string()),
        ("cost", MONEY),
    ]),
    "promises": pa.schema([
        ("promise_id", pa.string()), ("loan_id", pa.string()), ("made_at", UTC_US),
        ("due_on", pa.date32()), ("amount", MONEY),
    ]),
}  # fmt: skip

# Payment partners (acquirer / clearing participant) per channel, with their shares.
_PARTNERS: dict[int, tuple[list[str], list[float]]] = {
    0: (["STP", "ARCUS"], [0.75, 0.25]),
    1: (["OXXO-CONEKTA", "OXXO-OPENPAY"], [0.6, 0.4]),
    2: (["PROSA", "OPENPAY"], [0.8, 0.2]),
    3: (["BBVA-DOMI", "BANORTE-DOMI"], [0.55, 0.45]),
    4: (["BANXICO-CODI"], [1.0]),
    5: (["BBVA-VENTANILLA", "BANAMEX-VENTANILLA"], [0.6, 0.4]),
    6: (["NOMINA", "OTHER"], [0.5, 0.5]),
}
# Local time-of-day window (seconds) of payments per channel: debits run in the early batch,
# OXXO stores and bank branches have opening hours, transfers and cards happen at any time.
_PAY_HOURS = (
    np.array([[6, 24], [7, 22], [6, 24], [5, 9], [8, 22], [9, 18], [9, 18]], dtype=np.int64) * 3600
)
_CONTACT_HOURS = (7 * 3600, 22 * 3600)  # CONDUSEF: collection contacts only 07:00-22:00


def write_table(path: Path, name: str, chunks: Iterable[pa.Table]) -> None:
    """Write one Parquet file chunk by chunk, one row group per chunk.

    Options and chunk boundaries are fixed, so the bytes depend on the data only.
    """
    dictionary = [c for c in _DICTIONARY_COLUMNS if c != _UNIQUE_KEYS.get(name)]
    writer: pq.ParquetWriter | None = None
    try:
        for chunk in chunks:
            if writer is None:
                writer = pq.ParquetWriter(
                    path, chunk.schema, use_dictionary=dictionary, **_PARQUET_OPTIONS
                )
            writer.write_table(chunk, row_group_size=CHUNK_ROWS)
    finally:
        if writer is not None:
            writer.close()


def _metadata(seed: int, as_of: int, loans: int) -> dict[bytes, bytes]:
    return {
        b"cobranza.contract": CONTRACT_VERSION.encode(),
        b"cobranza.generator": b"cobranza.synthetic",
        b"cobranza.seed": str(seed).encode(),
        b"cobranza.loans": str(loans).encode(),
        b"cobranza.as_of": str(np.datetime64(as_of, "D")).encode(),
    }


def _chunked(
    name: str, n: int, meta: dict[bytes, bytes], build: Callable[[slice], list[pa.Array]]
) -> Iterator[pa.Table]:
    """Tables of at most CHUNK_ROWS rows, built lazily so only one chunk is in memory."""
    schema = SCHEMAS[name].with_metadata(meta)
    for lo in range(0, max(n, 1), CHUNK_ROWS):
        yield pa.Table.from_arrays(build(slice(lo, min(lo + CHUNK_ROWS, n))), schema=schema)


def _null_where(arr: pa.Array, missing: np.ndarray) -> pa.Array:
    if not missing.any():
        return arr
    return pc.if_else(pa.array(~missing), arr, pa.scalar(None, arr.type))


def customers_chunks(c: Customers, meta: dict[bytes, bytes]) -> Iterator[pa.Table]:
    opt_out_names = opt_out_strings()

    def build(s: slice) -> list[pa.Array]:
        no_email = c.email_user[s] < 0
        email = pc.binary_join_element_wise(
            "cliente.", padded(np.maximum(c.email_user[s], 0), 6), "@",
            labels(c.email_domain[s], EMAIL_DOMAINS), "",
        )  # fmt: skip
        opt_out = labels(c.opt_out[s].astype(np.int32), opt_out_names)
        return [
            padded(np.arange(s.start + 1, s.stop + 1), 7, "C"),
            labels(c.state[s], _geo.STATES),
            padded(c.postal_code[s], 5),
            dates(c.birth_date[s]),
            decimal_from_units(c.income[s]),
            padded(c.phone[s], 10),
            _null_where(email, no_email),
            _null_where(opt_out, c.opt_out_null[s]),
            pa.array(c.do_not_contact[s], pa.bool_()),
        ]

    return _chunked("customers", c.n, meta, build)


def loans_chunks(
    loans: Loans, loan_ids: pa.Array, outcome: Outcome, meta: dict[bytes, bytes]
) -> Iterator[pa.Table]:
    rev = loans.revolving
    wo, closed = outcome.written_off_on, outcome.closed_on

    def build(s: slice) -> list[pa.Array]:
        return [
            loan_ids[s],
            padded(loans.customer[s].astype(np.int64) + 1, 7, "C"),
            labels(rev[s].astype(np.int8), ["installment", "revolving"]),
            dates(loans.opened[s]),
            decimal_from_units(loans.principal[s]),
            decimal_from_units(loans.rate[s], RATE),
            labels(loans.freq[s], FREQUENCIES),
            int32s(loans.term[s], valid=~rev[s]),
            labels(loans.cnbv[s], CNBV_TYPES),
            dates(wo[s], valid=wo[s] >= 0),
            dates(closed[s], valid=closed[s] >= 0),
        ]

    return _chunked("loans", loans.n, meta, build)


def installments_chunks(
    loans: Loans, loan_ids: pa.Array, sched: Schedule, meta: dict[bytes, bytes]
) -> Iterator[pa.Table]:
    slots = np.diff(sched.offsets)
    loan = np.repeat(np.arange(loans.n, dtype=np.int32), slots)
    seq = (np.arange(sched.offsets[-1], dtype=np.int64) - sched.offsets[:-1][loan]).astype(np.int32)
    rows = np.flatnonzero(seq < sched.n_rows[loan])
    loan, seq = loan[rows], seq[rows]

    def build(s: slice) -> list[pa.Array]:
        r, ln = rows[s], loan[s]
        return [
            loan_ids.take(pa.array(ln)),
            int32s(seq[s] + 1),
            dates(sched.due[r]),
            decimal_from_units(sched.principal[r]),
            decimal_from_units(sched.interest[r]),
            decimal_from_units(sched.fees[r]),
            decimal_from_units(sched.balance[r], valid=loans.revolving[ln]),
        ]

    return _chunked("installments", rows.size, meta, build)


def _local_seconds(
    rng: np.random.Generator, day: np.ndarray, lo: np.ndarray | int, hi: np.ndarray | int
) -> np.ndarray:
    tod = lo + np.floor(rng.random(day.size) * (hi - lo)).astype(np.int64)
    return day.astype(np.int64) * SECONDS_PER_DAY + tod


def payments_chunks(
    rng: np.random.Generator, loans: Loans, loan_ids: pa.Array, p: dict[str, np.ndarray],
    meta: dict[bytes, bytes],
) -> Iterator[pa.Table]:  # fmt: skip
    hours = _PAY_HOURS[p["channel"]]
    local = _local_seconds(rng, p["day"], hours[:, 0], hours[:, 1])
    order = np.lexsort((p["loan"], local))
    p = {k: v[order] for k, v in p.items()}
    utc = local_to_utc_us(local[order])
    del local, hours, order
    n = utc.size

    partner = np.zeros(n, np.int8)
    partner_names: list[str] = []
    for ch, (names, shares) in _PARTNERS.items():
        idx = np.flatnonzero(p["channel"] == ch)
        partner[idx] = len(partner_names) + rng.choice(len(names), idx.size, p=shares)
        partner_names += names
    # Customers reuse the OXXO barcode reference of their loan and mostly type their loan
    # number as the 7-digit SPEI numeric reference (sometimes something else).
    oxxo_ref = rng.integers(10**13, 10**14, loans.n)
    spei_ref = np.where(
        rng.random(n) < 0.9, (p["loan"].astype(np.int64) + 1) % 10**7, rng.integers(1, 10**7, n)
    )
    kind = np.select([p["channel"] == SPEI, p["channel"] == OXXO], [1, 2], 0).astype(np.int8)

    def build(s: slice) -> list[pa.Array]:
        loan = pa.array(p["loan"][s])
        ids = loan_ids.take(loan)
        reference = pc.choose(
            pa.array(kind[s]), ids, padded(spei_ref[s], 7), padded(oxxo_ref[p["loan"][s]], 14)
        )
        return [
            padded(np.arange(s.start + 1, s.stop + 1), 10, "P"),
            ids,
            timestamps(utc[s]),
            decimal_from_units(p["amount"][s]),
            labels(p["channel"][s], PAY_CHANNELS),
            labels(partner[s], partner_names),
            reference,
            labels(p["status"][s], STATUSES),
        ]

    return _chunked("payments", n, meta, build)


def contacts_and_promises(
    rng: np.random.Generator, loan_ids: pa.Array, contacts: dict[str, np.ndarray],
    promises: dict[str, np.ndarray], meta: dict[bytes, bytes],
) -> tuple[Iterator[pa.Table], Iterator[pa.Table]]:  # fmt: skip
    """Contacts (including the ones where a promise was made) and the promises themselves."""
    n_c, n_p = contacts["loan"].size, promises["loan"].size
    loan = np.concatenate([contacts["loan"], promises["loan"]])
    day = np.concatenate([contacts["day"], promises["day"]])
    local = _local_seconds(rng, day, *_CONTACT_HOURS)
    del day
    order = np.lexsort((loan, local))
    utc = local_to_utc_us(local[order])
    del local
    loan = loan[order]
    channel = np.concatenate([contacts["channel"], promises["channel"]]).astype(np.int8)[order]
    outcome = np.concatenate([contacts["outcome"], np.full(n_p, PROMISE, np.int8)])[order]
    # Where each promise's contact landed after sorting; promises are numbered in that order.
    promise_pos = np.sort(np.flatnonzero(order >= n_c))
    promise_src = order[promise_pos] - n_c
    del order

    # Agents: in-house call centre, field collectors and a handful of external agencies.
    pool = (
        [f"AGT{i:04d}" for i in range(1, 301)]
        + [f"FLD{i:03d}" for i in range(1, 81)]
        + [f"EXT{a}-{i:03d}" for a in range(1, 7) for i in range(1, 41)]
    )
    agent = np.select(
        [channel == HUMAN_CHANNELS[0], channel == HUMAN_CHANNELS[1]],
        [rng.integers(0, 300, loan.size), 300 + rng.integers(0, 80, loan.size)],
        380 + rng.integers(0, 240, loan.size),
    ).astype(np.int16)
    human = np.isin(channel, HUMAN_CHANNELS)

    def contact_columns(s: slice) -> list[pa.Array]:
        return [
            padded(np.arange(s.start + 1, s.stop + 1), 10, "K"),
            loan_ids.take(pa.array(loan[s])),
            labels(channel[s], CHANNELS),
            timestamps(utc[s]),
            labels(outcome[s], OUTCOMES),
            _null_where(labels(agent[s], pool), ~human[s]),
            decimal_from_units(COST_CENTS[channel[s]]),
        ]

    def promise_columns(s: slice) -> list[pa.Array]:
        src = promise_src[s]
        return [
            padded(np.arange(s.start + 1, s.stop + 1), 9, "PR"),
            loan_ids.take(pa.array(promises["loan"][src])),
            timestamps(utc[promise_pos[s]]),
            dates(promises["due_on"][src]),
            decimal_from_units(promises["amount"][src]),
        ]

    return (
        _chunked("contacts", loan.size, meta, contact_columns),
        _chunked("promises", n_p, meta, promise_columns),
    )


def write_portfolio(
    folder: Path,
    rng: np.random.Generator,
    customers: Customers,
    loans: Loans,
    sched: Schedule,
    outcome: Outcome,
    seed: int,
    as_of: int,
    progress: Callable[[str, float], None],
) -> None:
    """Build and write the six tables, one chunk at a time to bound memory."""
    meta = _metadata(seed, as_of, loans.n)
    loan_ids = padded(np.arange(1, loans.n + 1), 7, "L")
    write_table(folder / "customers.parquet", "customers", customers_chunks(customers, meta))
    progress("customers.parquet", 1 / 6)
    write_table(folder / "loans.parquet", "loans", loans_chunks(loans, loan_ids, outcome, meta))
    progress("loans.parquet", 2 / 6)
    write_table(
        folder / "installments.parquet", "installments",
        installments_chunks(loans, loan_ids, sched, meta),
    )  # fmt: skip
    progress("installments.parquet", 3 / 6)
    write_table(
        folder / "payments.parquet", "payments",
        payments_chunks(rng, loans, loan_ids, outcome.payments, meta),
    )  # fmt: skip
    progress("payments.parquet", 4 / 6)
    contacts, promises = contacts_and_promises(
        rng, loan_ids, outcome.contacts, outcome.promises, meta
    )
    write_table(folder / "contacts.parquet", "contacts", contacts)
    progress("contacts.parquet", 5 / 6)
    write_table(folder / "promises.parquet", "promises", promises)
    progress("promises.parquet", 1.0)
