"""Collection contacts and promises to pay, drawn alongside the payment simulation.

Contact strategy follows the usual Mexican collections ladder: cheap digital reminders
before the due date and in early delinquency, calls from 30 days past due, and field visits,
letters and external agencies from 90 days. Contacts happen only on 07:00-22:00 local time
(the hours allowed by CONDUSEF's collection rules; times are drawn by the writer), never to
customers flagged do-not-contact and never on a channel the customer opted out of.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

# Channel codes follow _customers.CHANNELS.
SMS, EMAIL, WHATSAPP, PUSH, IVR, CALL, FIELD, LETTER, AGENCY = range(9)
OUTCOMES = (
    "delivered", "failed", "no_answer", "right_party", "wrong_party", "promise", "refused",
    "dispute",
)  # fmt: skip
DELIVERED, FAILED, NO_ANSWER, RIGHT_PARTY, WRONG_PARTY, PROMISE, REFUSED, DISPUTE = range(8)
HUMAN_CHANNELS = (CALL, FIELD, AGENCY)
#: Cost of one attempt in centavos (SMS aggregator, WhatsApp Business, IVR minutes, loaded
#: call-centre minute, field visit, printed letter, agency fee per worked account).
COST_CENTS = np.array([35, 2, 85, 1, 150, 800, 18_000, 2_500, 6_500], dtype=np.int64)

# Channel mix by stage: reminder / 1-29 / 30-89 / 90+ days past due.
_CHANNEL_MIX = np.array([
    # sms  email  wa   push  ivr  call field letter agency
    [0.50, 0.20, 0.10, 0.20, 0.00, 0.00, 0.00, 0.00, 0.00],
    [0.35, 0.15, 0.25, 0.10, 0.10, 0.05, 0.00, 0.00, 0.00],
    [0.15, 0.05, 0.20, 0.00, 0.10, 0.45, 0.00, 0.05, 0.00],
    [0.05, 0.00, 0.05, 0.00, 0.00, 0.40, 0.20, 0.10, 0.20],
])  # fmt: skip
_PROMISE_MIX = np.array([
    [0.00, 0.00, 0.15, 0.00, 0.10, 0.75, 0.00, 0.00, 0.00],
    [0.00, 0.00, 0.05, 0.00, 0.00, 0.50, 0.20, 0.00, 0.25],
])  # fmt: skip
# Outcomes by channel (columns follow OUTCOMES); promises are drawn separately.
_OUTCOME_MIX = np.array([
    # deliv  fail  no_ans right wrong prom  refus disput
    [0.93, 0.07, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],  # sms
    [0.88, 0.12, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],  # email
    [0.90, 0.05, 0.00, 0.04, 0.00, 0.00, 0.00, 0.01],  # whatsapp
    [0.85, 0.15, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],  # push
    [0.35, 0.05, 0.45, 0.13, 0.02, 0.00, 0.00, 0.00],  # ivr
    [0.00, 0.07, 0.55, 0.22, 0.08, 0.00, 0.06, 0.02],  # call
    [0.00, 0.00, 0.40, 0.45, 0.08, 0.00, 0.05, 0.02],  # field
    [0.95, 0.05, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],  # letter
    [0.00, 0.02, 0.48, 0.30, 0.07, 0.00, 0.10, 0.03],  # agency
])  # fmt: skip
#: Contact attempts per day while delinquent, by dpd bucket 1-29 ... 120-179.
_DAILY_RATE = np.array([0.0, 0.09, 0.18, 0.18, 0.12, 0.10])
_MAX_PER_WINDOW = 10


def draw(rng: np.random.Generator, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One categorical draw per element, from ``table[rows]`` probability rows."""
    cum = np.cumsum(table, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(rows.size)
    return (u[:, None] >= cum[rows]).sum(axis=1).astype(np.int8)


def _stage(dpd: np.ndarray) -> np.ndarray:
    return np.where(dpd >= 90, 3, np.where(dpd >= 30, 2, 1))


@dataclass
class ContactPolicy:
    """Per-loan contactability: the customer's do-not-contact flag and opt-out bitmask."""

    do_not_contact: np.ndarray  # bool per loan
    opt_out: np.ndarray  # uint16 bitmask per loan

    def allowed(self, loan: np.ndarray, channel: np.ndarray) -> np.ndarray:
        blocked = (self.opt_out[loan] >> channel.astype(np.uint16)) & 1
        return ~self.do_not_contact[loan] & (blocked == 0)


class ContactLog:
    """Accumulates contacts and promises iteration by iteration."""

    def __init__(self, rng: np.random.Generator, policy: ContactPolicy) -> None:
        self.rng = rng
        self.policy = policy
        self.contacts: dict[str, list[np.ndarray]] = defaultdict(list)
        self.promises: dict[str, list[np.ndarray]] = defaultdict(list)

    def _add_contacts(self, loan: np.ndarray, day: np.ndarray, channel: np.ndarray) -> None:
        keep = self.policy.allowed(loan, channel)
        loan, day, channel = loan[keep], day[keep], channel[keep]
        self.contacts["loan"].append(loan.astype(np.int32))
        self.contacts["day"].append(day.astype(np.int32))
        self.contacts["channel"].append(channel)
        self.contacts["outcome"].append(draw(self.rng, _OUTCOME_MIX, channel))

    def delinquency(
        self, loan: np.ndarray, start: np.ndarray, end: np.ndarray, oldest_due: np.ndarray
    ) -> None:
        """Contacts on days ``[start, end)`` while the oldest unpaid installment is overdue."""
        days = end - start
        ok = days > 0
        loan, start, days, oldest_due = loan[ok], start[ok], days[ok], oldest_due[ok]
        rate = _DAILY_RATE[np.digitize(start - oldest_due, [1, 30, 60, 90, 120])]
        n = np.minimum(self.rng.poisson(rate * days), _MAX_PER_WINDOW)
        rep = np.repeat(np.arange(loan.size), n)
        day = start[rep] + np.floor(self.rng.random(rep.size) * days[rep]).astype(np.int64)
        channel = draw(self.rng, _CHANNEL_MIX, _stage(day - oldest_due[rep]))
        self._add_contacts(loan[rep], day, channel)

    def reminders(
        self, loan: np.ndarray, due: np.ndarray, earliest: np.ndarray, latest: int
    ) -> None:
        """Pre-due reminders 1-3 days before ``due``, within ``[earliest, latest]``."""
        day = due - self.rng.integers(1, 4, loan.size)
        ok = (day >= earliest) & (day <= latest)
        channel = draw(self.rng, _CHANNEL_MIX, np.zeros(int(ok.sum()), dtype=np.int64))
        self._add_contacts(loan[ok], day[ok], channel)

    def promise(
        self, loan: np.ndarray, day: np.ndarray, due_on: np.ndarray, amount: np.ndarray,
        dpd: np.ndarray,
    ) -> None:  # fmt: skip
        """Promises to pay made on ``day`` during a human or WhatsApp/IVR contact."""
        channel = draw(self.rng, _PROMISE_MIX, (dpd >= 90).astype(np.int64))
        keep = self.policy.allowed(loan, channel) & (amount > 0)
        self.promises["loan"].append(loan[keep].astype(np.int32))
        self.promises["day"].append(day[keep].astype(np.int32))
        self.promises["due_on"].append(due_on[keep].astype(np.int32))
        self.promises["amount"].append(amount[keep].astype(np.int64))
        self.promises["channel"].append(channel[keep])

    def finish(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Concatenated contacts (without promise contacts) and promises."""
        return _concat(self.contacts, _CONTACT_DTYPES), _concat(self.promises, _PROMISE_DTYPES)


_CONTACT_DTYPES = {"loan": np.int32, "day": np.int32, "channel": np.int8, "outcome": np.int8}
_PROMISE_DTYPES = {
    "loan": np.int32, "day": np.int32, "due_on": np.int32, "amount": np.int64, "channel": np.int8,
}  # fmt: skip


def _concat(parts: dict[str, list[np.ndarray]], dtypes: dict[str, type]) -> dict[str, np.ndarray]:
    return {
        k: np.concatenate(parts[k]).astype(t, copy=False) if parts[k] else np.empty(0, t)
        for k, t in dtypes.items()
    }
