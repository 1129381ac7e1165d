"""Loans: product, origination date, amount, price, schedule shape and behavioural traits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _geo
from ._customers import MEDIAN_INCOME_MXN, Customers, set_birth_dates

# Codes used throughout the generator.
PERSONAL, PAYROLL, REVOLVING = 0, 1, 2  # CNBV types P, N, R
WEEKLY, BIWEEKLY, MONTHLY = 0, 1, 2
CNBV_TYPES = ("P", "N", "R")
FREQUENCIES = ("weekly", "biweekly", "monthly")
PERIOD_DAYS = np.array([7, 14, 0])  # monthly has no fixed length
PERIODS_PER_YEAR = np.array([52.0, 26.0, 12.0])
PAY_CHANNELS = ("spei", "oxxo", "card", "direct_debit", "codi", "cash", "other")
SPEI, OXXO, CARD, DIRECT_DEBIT, CODI, CASH, OTHER = range(7)

#: Share of customers that end up with a second loan (cross-sell or a card on top of a loan).
SECOND_LOAN_SHARE = 0.12
#: Month-on-month growth of originations over the 36-month window.
ORIGINATION_GROWTH = 0.045
#: Originations 9-15 months before as_of were underwritten more loosely (a growth push), which
#: gives the vintage curves a visibly worse cohort.
LOOSE_VINTAGE_MONTHS = (9, 15)

_TERMS = {
    (PERSONAL, WEEKLY): ([26, 39, 52, 78, 104], [0.35, 0.20, 0.30, 0.10, 0.05]),
    (PERSONAL, BIWEEKLY): ([12, 18, 24, 36, 48], [0.30, 0.20, 0.30, 0.15, 0.05]),
    (PERSONAL, MONTHLY): ([6, 9, 12, 18, 24, 36], [0.15, 0.10, 0.35, 0.15, 0.15, 0.10]),
    (PAYROLL, BIWEEKLY): ([24, 36, 48], [0.30, 0.30, 0.40]),
    (PAYROLL, MONTHLY): ([12, 18, 24, 36], [0.30, 0.20, 0.30, 0.20]),
}
_PREFERRED_CHANNEL = {  # SPEI, OXXO, card, direct debit, CoDi, cash, other
    PERSONAL: [0.33, 0.32, 0.12, 0.15, 0.03, 0.03, 0.02],
    PAYROLL: [0.25, 0.00, 0.00, 0.70, 0.00, 0.00, 0.05],
    REVOLVING: [0.45, 0.18, 0.12, 0.20, 0.03, 0.01, 0.01],
}


@dataclass
class Loans:
    """Column arrays of the loans table (sorted by origination) plus behavioural traits."""

    customer: np.ndarray  # int32 customer index
    cnbv: np.ndarray  # int8 PERSONAL / PAYROLL / REVOLVING
    freq: np.ndarray  # int8 WEEKLY / BIWEEKLY / MONTHLY
    term: np.ndarray  # int32 installments, 0 for revolving
    opened: np.ndarray  # int32 days since epoch
    principal: np.ndarray  # int64 centavos (credit limit for revolving)
    rate: np.ndarray  # int64 annual rate in 1/10,000
    score: np.ndarray  # float64 latent risk score (higher = riskier)
    p_miss: np.ndarray  # float64 monthly probability that a current borrower misses
    p_late: np.ndarray  # float64 probability that a payment comes a few days late
    never_pay: np.ndarray  # bool first-payment default / fraud
    transactor: np.ndarray  # bool revolving customer who pays the statement in full
    spend: np.ndarray  # float64 revolving utilisation propensity
    fee: np.ndarray  # int64 late fee in centavos, 0 when the product charges none
    channel: np.ndarray  # int8 preferred payment channel

    @property
    def n(self) -> int:
        return int(self.opened.size)

    @property
    def revolving(self) -> np.ndarray:
        return self.cnbv == REVOLVING


def n_customers_for(loans: int) -> int:
    """Number of customers so that about SECOND_LOAN_SHARE of them hold two loans."""
    return max(1, min(loans, round(loans / (1.0 + SECOND_LOAN_SHARE))))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _origination_dates(rng: np.random.Generator, n: int, as_of: int) -> np.ndarray:
    """Origination days over the 36 months up to as_of, volume growing month on month."""
    as_of_month = np.datetime64(as_of, "D").astype("datetime64[M]")
    months = as_of_month - np.arange(35, -1, -1)  # oldest first
    w = np.exp(ORIGINATION_GROWTH * np.arange(36))
    starts = months.astype("datetime64[D]").astype(np.int64)
    ends = np.minimum((months + 1).astype("datetime64[D]").astype(np.int64), as_of + 1)
    w = w * (ends - starts) / 30.0  # the as_of month is usually partial
    m = rng.choice(36, size=n, p=w / w.sum())
    return (starts[m] + np.floor(rng.random(n) * (ends[m] - starts[m]))).astype(np.int32)


def _pick(
    rng: np.random.Generator, mask: np.ndarray, values: list[int], p: list[float], out: np.ndarray
) -> None:
    """Fill ``out[mask]`` with draws from ``values`` with probabilities ``p``."""
    idx = np.flatnonzero(mask)
    out[idx] = rng.choice(np.asarray(values), size=idx.size, p=np.asarray(p))


def build_loans(
    rng: np.random.Generator, customers: Customers, n: int, as_of: int
) -> tuple[Loans, Customers]:
    """Draw ``n`` loans for ``customers``.

    Returns the loans sorted by origination date (so loan ids follow time, as a core system
    would issue them) and the customers re-ordered by their first loan for the same reason.
    """
    nc = customers.n
    extra = rng.choice(nc, size=n - nc, replace=False) if n > nc else np.empty(0, np.int64)
    cust = np.concatenate([np.arange(nc), extra])
    opened = _origination_dates(rng, n, as_of)

    order = np.lexsort((rng.random(n), opened))
    cust, opened = cust[order], opened[order]
    first_open = np.full(nc, np.iinfo(np.int32).max, dtype=np.int64)
    np.minimum.at(first_open, cust, opened)
    cust_order = np.lexsort((np.arange(nc), first_open))
    relabel = np.empty(nc, dtype=np.int64)
    relabel[cust_order] = np.arange(nc)
    customers = customers.take(cust_order)
    set_birth_dates(customers, first_open[cust_order])
    cust = relabel[cust].astype(np.int32)

    # Product mix: 75 % installment (of which 22 % payroll) and 25 % revolving.
    u = rng.random(n)
    cnbv = np.where(u < 0.585, PERSONAL, np.where(u < 0.75, PAYROLL, REVOLVING)).astype(np.int8)
    freq = np.full(n, MONTHLY, dtype=np.int8)
    _pick(rng, cnbv == PERSONAL, [WEEKLY, BIWEEKLY, MONTHLY], [0.22, 0.38, 0.40], freq)
    _pick(rng, cnbv == PAYROLL, [BIWEEKLY, MONTHLY], [0.6, 0.4], freq)
    term = np.zeros(n, dtype=np.int32)
    for (product, f), (values, p) in _TERMS.items():
        _pick(rng, (cnbv == product) & (freq == f), values, p, term)

    # Risk score: customer latent risk plus what the lender could partly see.
    c_income = customers.income[cust] / 100.0
    age = customers.age_at_first_loan[cust]
    months_ago = (as_of - opened) / 30.44
    score = (
        customers.z[cust]
        + _geo.state_risk_shift()[customers.state[cust]]
        - 0.30 * (np.log(c_income) - np.log(MEDIAN_INCOME_MXN))
        + np.where(age < 25, 0.25, np.where(age > 50, -0.15, 0.0))
        + np.select([cnbv == PAYROLL, cnbv == REVOLVING], [-0.9, 0.05], 0.0)
        + np.where(freq == WEEKLY, 0.25, 0.0)
        + np.where(
            (months_ago >= LOOSE_VINTAGE_MONTHS[0]) & (months_ago < LOOSE_VINTAGE_MONTHS[1]),
            0.25,
            0.0,
        )
        + 0.35 * rng.standard_normal(n)
    )

    principal = _principal(rng, cnbv, freq, term, c_income)
    rate = _rate(rng, cnbv, score)

    fee = np.zeros(n, dtype=np.int64)
    fee_mxn = np.select(
        [freq == WEEKLY, freq == BIWEEKLY],
        [rng.uniform(50, 120, n), rng.uniform(100, 200, n)],
        rng.uniform(150, 350, n),
    )
    charges_fee = ((cnbv == PERSONAL) & (rng.random(n) < 0.9)) | (cnbv == REVOLVING)
    fee[charges_fee] = (np.round(fee_mxn[charges_fee] / 10.0) * 1000).astype(np.int64)

    channel = np.zeros(n, dtype=np.int8)
    for product, p in _PREFERRED_CHANNEL.items():
        _pick(rng, cnbv == product, list(range(len(PAY_CHANNELS))), p, channel)

    loans = Loans(
        customer=cust,
        cnbv=cnbv,
        freq=freq,
        term=term,
        opened=opened,
        principal=principal,
        rate=rate,
        score=score,
        p_miss=_sigmoid(-1.55 + 0.8 * score),
        p_late=_sigmoid(-1.7 + 0.6 * score),
        never_pay=rng.random(n) < _sigmoid(-5.6 + 1.2 * score),
        transactor=(cnbv == REVOLVING) & (rng.random(n) < _sigmoid(-0.9 - 0.8 * score)),
        spend=rng.beta(2.0, 3.0, n),
        fee=fee,
        channel=channel,
    )
    return loans, customers


def _principal(
    rng: np.random.Generator,
    cnbv: np.ndarray,
    freq: np.ndarray,
    term: np.ndarray,
    income: np.ndarray,
) -> np.ndarray:
    """Amount financed (credit limit for cards) in centavos, scaled by income and term."""
    n = cnbv.size
    median = np.select([cnbv == PAYROLL, cnbv == REVOLVING], [40_000.0, 15_000.0], 15_000.0)
    lo = np.select([cnbv == PAYROLL, cnbv == REVOLVING], [10_000.0, 5_000.0], 3_000.0)
    hi = np.select([cnbv == PAYROLL, cnbv == REVOLVING], [150_000.0, 60_000.0], 80_000.0)
    step = np.where(cnbv == PERSONAL, 500.0, 1_000.0)
    period_days = np.select([freq == WEEKLY, freq == BIWEEKLY], [7.0, 14.0], 30.4)
    term_months = np.where(cnbv == REVOLVING, 12.0, term * period_days / 30.4)
    log_amount = (
        np.log(median)
        + 0.5 * rng.standard_normal(n)
        + 0.45 * (np.log(income) - np.log(MEDIAN_INCOME_MXN))
        + 0.35 * np.log(term_months / 12.0)
    )
    amount = np.clip(np.round(np.exp(log_amount) / step) * step, lo, hi)
    return (amount * 100).astype(np.int64)


def _rate(rng: np.random.Generator, cnbv: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Annual rate in 1/10,000, risk-based within each product's market range."""
    n = cnbv.size
    base = np.select([cnbv == PAYROLL, cnbv == REVOLVING], [0.36, 0.58], 0.62)
    slope = np.select([cnbv == PAYROLL, cnbv == REVOLVING], [0.04, 0.10], 0.12)
    noise = np.select([cnbv == PAYROLL, cnbv == REVOLVING], [0.03, 0.05], 0.06)
    lo = np.select([cnbv == PAYROLL, cnbv == REVOLVING], [0.30, 0.35], 0.30)
    hi = np.select([cnbv == PAYROLL, cnbv == REVOLVING], [0.65, 0.95], 1.10)
    rate = np.clip(base + slope * score + noise * rng.standard_normal(n), lo, hi)
    return (np.round(rate * 400.0) * 25).astype(np.int64)  # quoted in 0.25 pp steps
