"""Due-date calendars and installment schedules (French amortisation).

Periodic rate convention: ``annual_rate / periods_per_year`` with 52 weekly, 26 biweekly and
12 monthly periods a year. Interest of each installment is the outstanding balance times the
periodic rate rounded half-up to the centavo; the level payment is the French annuity rounded
to the centavo and the last installment takes whatever principal is left, so principal_due
adds up exactly to the amount financed. Fees are zero here; late fees are added by the
behaviour simulation after a missed installment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._loans import MONTHLY, PERIOD_DAYS, PERIODS_PER_YEAR, Loans

#: Events (payments) may happen up to this many days before a due date.
EARLY_DAYS = 3


class Calendar:
    """The k-th due date of every loan: weekly/biweekly +7/+14 days, monthly same day
    (clipped to the 28th) k months after origination."""

    def __init__(self, opened: np.ndarray, freq: np.ndarray, horizon_months: int = 240) -> None:
        day = opened.astype("datetime64[D]")
        month = day.astype("datetime64[M]")
        self.opened = opened.astype(np.int64)
        self.monthly = freq == MONTHLY
        self.step = PERIOD_DAYS[freq].astype(np.int64)
        self.dom = np.minimum((day - month.astype("datetime64[D]")).astype(np.int64), 27)
        self.m0 = int(month.astype(np.int64).min())
        self.month_rel = month.astype(np.int64) - self.m0
        months = np.arange(self.m0, int(month.astype(np.int64).max()) + horizon_months)
        self.month_start = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)

    def date(self, k: int | np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """k-th due date (days since epoch, int64) of loans ``idx``; k = 0 is origination-ish."""
        step_date = self.opened[idx] + k * self.step[idx]
        month_date = self.month_start[self.month_rel[idx] + k] + self.dom[idx]
        return np.where(self.monthly[idx], month_date, step_date)

    def last_k(self, limit: int) -> np.ndarray:
        """Largest k >= 0 per loan with ``date(k) <= limit``."""
        step = np.maximum(self.step, 1)
        k_step = (limit - self.opened) // step
        limit_month = int(np.datetime64(limit, "D").astype("datetime64[M]").astype(np.int64))
        k_month = np.maximum(limit_month - self.m0 - self.month_rel + 1, 0)
        for _ in range(3):  # the first guess is at most two months too far
            too_far = self.date(k_month) > limit
            k_month = np.where(too_far & (k_month > 0), k_month - 1, k_month)
        return np.where(self.monthly, k_month, np.maximum(k_step, 0)).astype(np.int64)


@dataclass
class Schedule:
    """Installment rows of all loans, flat and grouped by loan (CSR layout).

    Installment loans get their full contractual schedule up front; revolving loans get one
    slot per possible statement, filled in by the behaviour simulation because the balance
    depends on payments. ``n_rows`` is how many slots of each loan are real rows (prepayment
    truncates a schedule, write-off or closure stops a card's statements).
    """

    offsets: np.ndarray  # int64, n + 1
    due: np.ndarray  # int32 days
    principal: np.ndarray  # int64 centavos
    interest: np.ndarray  # int64 centavos
    fees: np.ndarray  # int64 centavos
    balance: np.ndarray  # int64 centavos, statement balance (revolving only)
    remaining: np.ndarray  # int64 centavos, principal outstanding after the row
    cum_due: np.ndarray  # int64 centavos, running total of dues, filled as rows fall due
    n_rows: np.ndarray  # int32 real rows per loan

    @property
    def starts(self) -> np.ndarray:
        return self.offsets[:-1]


def build_schedule(loans: Loans, cal: Calendar, revolving_slots: np.ndarray) -> Schedule:
    """Allocate all rows and amortise the installment loans."""
    rev = loans.revolving
    slots = np.where(rev, revolving_slots, loans.term).astype(np.int64)
    offsets = np.zeros(loans.n + 1, dtype=np.int64)
    np.cumsum(slots, out=offsets[1:])
    total = int(offsets[-1])
    starts = offsets[:-1]

    # Due dates of every slot at once: slot s of a loan falls on its (s + 1)-th period date.
    loan_of_row = np.repeat(np.arange(loans.n), slots)
    seq = np.arange(total, dtype=np.int64) - starts[loan_of_row] + 1
    due = np.where(
        cal.monthly[loan_of_row],
        cal.month_start[cal.month_rel[loan_of_row] + seq] + cal.dom[loan_of_row],
        cal.opened[loan_of_row] + seq * cal.step[loan_of_row],
    ).astype(np.int32)
    del loan_of_row, seq

    principal = np.zeros(total, dtype=np.int64)
    interest = np.zeros(total, dtype=np.int64)
    remaining = np.zeros(total, dtype=np.int64)
    r = loans.rate / 10_000.0 / PERIODS_PER_YEAR[loans.freq]
    n_inst = np.maximum(loans.term, 1).astype(np.float64)  # cards have no term nor annuity
    annuity = loans.principal * r / (1.0 - (1.0 + r) ** -n_inst)
    payment = np.where(loans.term > 0, np.floor(annuity + 0.5), 0).astype(np.int64)
    balance = loans.principal.copy()

    # Longest terms first, so the loans still amortising at step k are a prefix.
    by_term = np.argsort(-loans.term, kind="stable")
    by_term = by_term[loans.term[by_term] > 0]
    live = np.searchsorted(-loans.term[by_term], -np.arange(1, loans.term.max(initial=0) + 1),
                           side="right")  # fmt: skip
    for k, count in enumerate(live, start=1):
        idx = by_term[:count]
        row = starts[idx] + k - 1
        bal = balance[idx]
        intr = np.floor(bal * r[idx] + 0.5).astype(np.int64)
        prin = np.where(loans.term[idx] == k, bal, np.minimum(payment[idx] - intr, bal))
        interest[row] = intr
        principal[row] = prin
        balance[idx] = bal - prin
        remaining[row] = bal - prin

    return Schedule(
        offsets=offsets,
        due=due,
        principal=principal,
        interest=interest,
        fees=np.zeros(total, dtype=np.int64),
        balance=np.zeros(total, dtype=np.int64),
        remaining=remaining,
        cum_due=np.zeros(total, dtype=np.int64),
        n_rows=slots.astype(np.int32),
    )
