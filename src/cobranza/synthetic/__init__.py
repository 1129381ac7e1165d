"""Synthetic portfolio generator: a Mexican consumer lender's book in data contract v1.

:func:`generate` writes ``customers``, ``loans``, ``installments``, ``payments``, ``contacts``
and ``promises`` Parquet files describing a book of personal (CNBV type P), payroll (N) and
revolving card (R) loans originated over the 36 months before ``as_of``, with their full
payment, collection-contact and promise history up to ``as_of``.

Modelling choices the platform's users should know about:

* Money is computed in integer centavos and written as exact ``decimal128(18, 2)``.
* Installment loans use French amortisation with periodic rate ``annual_rate / n`` where
  n = 52 (weekly), 26 (biweekly) or 12 (monthly); rounding goes to the last installment.
  Monthly due dates keep the origination day, clipped to the 28th.
* Cards get one row per monthly statement up to the first statement due after ``as_of``;
  the row carries the minimum payment (max of 5 % of the balance, 1.5 % plus interest and
  fees, and MXN 200) and the statement balance.
* Behaviour is driven by a latent customer risk (standard normal) shifted by product,
  income, age, state and vintage; delinquency is persistent, loans are written off at 180
  days past due, and the month six months before ``as_of`` (2026-04 by default) is a macro
  shock. See :mod:`cobranza.synthetic._behaviour` for the details.
* Times are drawn as Mexico City wall-clock times and converted to UTC with the tz database.
* Everything derives from ``seed`` through numpy's PCG64 streams; the same seed and
  arguments give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cobranza._atomic import atomic_directory

from . import _write
from ._behaviour import simulate
from ._contacts import ContactLog, ContactPolicy
from ._customers import build_customers
from ._loans import build_loans, n_customers_for
from ._schedule import Calendar, build_schedule

__all__ = ["generate"]

ProgressCallback = Callable[[str, float], None]

# Share of the overall progress bar each phase takes (roughly its share of the run time).
_PHASES = {"customers": 0.02, "loans": 0.03, "schedule": 0.10, "behaviour": 0.45, "write": 0.40}


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


class _Progress:
    """Maps per-phase fractions to one monotone overall fraction."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.done = 0.0

    def phase(self, name: str) -> Callable[[str, float], None]:
        start, width = self.done, _PHASES[name]
        self.done += width

        def report(step: str, fraction: float) -> None:
            if self.callback is not None:
                self.callback(step, min(1.0, start + width * fraction))

        return report


def generate(
    out: str | os.PathLike[str],
    loans: int,
    seed: int,
    as_of: dt.date = dt.date(2026, 10, 31),
    progress: ProgressCallback | None = None,
    *,
    replace: bool = False,
) -> Path:
    """Generate a synthetic portfolio folder and return its path.

    Args:
        out: Folder to create. Unless ``replace``, it must not exist or be empty; the files
            are written into a staging sibling folder that becomes ``out`` only once
            everything has been written, so a failure leaves nothing behind.
        loans: Number of loans (customers are about ``loans / 1.12``; some hold two loans).
        seed: Non-negative integer; the same seed and arguments give byte-identical files.
        as_of: Last day of history (Mexico City time). Payments, contacts and promises are
            made on or before it; schedules extend beyond it.
        progress: Optional ``callback(step_name, fraction)`` called as steps complete, with
            ``fraction`` the overall completion in ``[0, 1]`` (non-decreasing, ends at 1).
        replace: Swap a previous portfolio at ``out`` for the new one (the demo does).

    Returns:
        The path of the portfolio folder.
    """
    if isinstance(loans, bool) or not isinstance(loans, int | np.integer) or loans < 1:
        raise ValueError(f"loans must be a positive integer, got {loans!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise TypeError("as_of must be a datetime.date")
    loans, seed = int(loans), int(seed)
    out_path = Path(out)
    track = _Progress(progress)
    day = _days(as_of)
    rng_customers, rng_loans, rng_behaviour, rng_contacts, rng_write = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )

    customers = build_customers(rng_customers, n_customers_for(loans))
    track.phase("customers")("customers", 1.0)
    book, customers = build_loans(rng_loans, customers, loans, day)
    track.phase("loans")("loans", 1.0)

    cal = Calendar(book.opened, book.freq)
    sched = build_schedule(book, cal, revolving_slots=cal.last_k(day) + 1)
    track.phase("schedule")("schedule", 1.0)

    policy = ContactPolicy(
        do_not_contact=customers.do_not_contact[book.customer],
        opt_out=customers.opt_out[book.customer],
    )
    behaviour = track.phase("behaviour")
    outcome = simulate(
        rng_behaviour, book, cal, sched, ContactLog(rng_contacts, policy), day,
        progress=lambda f: behaviour("behaviour", f),
    )  # fmt: skip

    write = track.phase("write")
    with atomic_directory(out_path, replace=replace) as tmp:
        _write.write_portfolio(tmp, rng_write, customers, book, sched, outcome, seed, day, write)
    return out_path
