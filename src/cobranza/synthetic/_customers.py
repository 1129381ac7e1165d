"""Customers: where they live, what they earn, how risky they are, how they may be contacted."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import _geo

#: Contact channels in the order of the bits of :attr:`Customers.opt_out`.
CHANNELS: tuple[str, ...] = (
    "sms", "email", "whatsapp", "push", "ivr", "call", "field", "letter", "agency",
)  # fmt: skip

#: Median declared monthly income in MXN for a formal-sector consumer-credit applicant.
MEDIAN_INCOME_MXN = 14_000.0


@dataclass
class Customers:
    """Column arrays of the customers table plus the latent traits that drive behaviour."""

    state: np.ndarray  # int8 index into _geo.STATES
    postal_code: np.ndarray  # int64, 5 digits
    income: np.ndarray  # int64 centavos
    phone: np.ndarray  # int64, 10 digits
    email_user: np.ndarray  # int64 random local part, or -1 when the customer gave no email
    email_domain: np.ndarray  # int8 index into EMAIL_DOMAINS
    opt_out: np.ndarray  # uint16 bitmask over CHANNELS
    opt_out_null: np.ndarray  # bool, the field was never captured
    do_not_contact: np.ndarray  # bool
    age_at_first_loan: np.ndarray  # float64 years
    z: np.ndarray  # float64 latent risk, standard normal
    birth_date: np.ndarray | None = None  # int32 days, set once loans are dated

    @property
    def n(self) -> int:
        return int(self.state.size)

    def take(self, order: np.ndarray) -> Customers:
        """Customers re-ordered by ``order`` (every array permuted the same way)."""
        return Customers(
            **{f.name: (None if (v := getattr(self, f.name)) is None else v[order])
               for f in fields(self)}
        )  # fmt: skip


EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org", "example.mx")


def build_customers(rng: np.random.Generator, n: int) -> Customers:
    """Draw ``n`` customers."""
    state = rng.choice(len(_geo.STATES), size=n, p=_geo.state_weights()).astype(np.int8)
    z = rng.standard_normal(n)
    # Income is log-normal and mildly anti-correlated with risk: richer applicants default less,
    # but far from perfectly (the correlation is what underwriting can see, the rest it cannot).
    log_income = np.log(MEDIAN_INCOME_MXN) + 0.55 * (0.85 * rng.standard_normal(n) - 0.5 * z)
    income_mxn = np.clip(np.exp(log_income), 5_000.0, 150_000.0)
    income = (np.round(income_mxn / 100.0) * 100.0).astype(np.int64) * 100  # declared in 100s
    # Borrowers skew to 25-45; drawn at first loan so nobody borrows before 18.
    age = 18.0 + 53.5 * rng.beta(2.0, 3.8, n)  # <= 71.5, so <= 75 at as_of

    has_email = rng.random(n) >= 0.08
    email_user = np.where(has_email, rng.integers(100_000, 100_000_000, n), -1)
    email_domain = rng.choice(len(EMAIL_DOMAINS), size=n, p=[0.55, 0.2, 0.1, 0.15]).astype(np.int8)

    opt_out = _opt_outs(rng, n)
    opt_out_null = rng.random(n) < 0.04
    return Customers(
        state=state,
        postal_code=_geo.postal_codes(rng, state),
        income=income,
        phone=_geo.phones(rng, state),
        email_user=email_user,
        email_domain=email_domain,
        opt_out=np.where(opt_out_null, 0, opt_out).astype(np.uint16),
        opt_out_null=opt_out_null,
        do_not_contact=rng.random(n) < 0.01,
        age_at_first_loan=age,
        z=z,
    )


def _opt_outs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Opt-out bitmasks: ~6 % of customers opt out of one or two channels, chiefly messaging."""
    mask = np.zeros(n, dtype=np.uint16)
    who = np.flatnonzero(rng.random(n) < 0.06)
    # Relative frequency of opting out of each channel (WhatsApp and calls annoy people most).
    p = np.array([0.22, 0.12, 0.25, 0.10, 0.08, 0.18, 0.02, 0.02, 0.01])
    first = rng.choice(len(CHANNELS), size=who.size, p=p)
    second = rng.choice(len(CHANNELS), size=who.size, p=p)
    two = rng.random(who.size) < 0.3
    mask[who] = (1 << first) | np.where(two, 1 << second, 0)
    return mask


def opt_out_strings() -> list[str]:
    """Comma-separated channel list for every possible bitmask (index = mask)."""
    return [
        ",".join(c for b, c in enumerate(CHANNELS) if mask >> b & 1)
        for mask in range(1 << len(CHANNELS))
    ]


def set_birth_dates(customers: Customers, first_open: np.ndarray) -> None:
    """Birth dates from the age at first loan, so every customer was >= 18 when borrowing."""
    age_days = np.floor(customers.age_at_first_loan * 365.2425).astype(np.int64)
    customers.birth_date = (first_open - age_days).astype(np.int32)
