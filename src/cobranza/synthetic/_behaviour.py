"""Payment behaviour: a vectorised simulation over installment periods.

Each loop iteration ``k`` handles the k-th due date of every live loan at once (so loans of
different frequencies sit at different calendar dates in the same iteration). Per loan and
period there is at most one payment *event*, placed between 3 days before the due date and 4
days before the next one, so a loan's payments are always in time order and the ledger state
kept here (credited total, oldest unpaid row) is the one the platform will reconstruct.

What a borrower does depends on how far behind they are, measured exactly as the platform
does (days since the oldest unpaid installment fell due):

* current: pays the amount due, on time or a few days late, or misses (skip or partial)
  with a monthly probability driven by the latent risk score; prepays the whole loan or pays
  an extra installment now and then;
* delinquent: pays nothing with a probability that rises steeply with the bucket, otherwise
  cures (pays all arrears), improves (two installments), holds (one installment, the dpd
  stays put) or pays a part. Cure shares fall with the bucket, so roll rates from 30-59 to
  60-89 are high and few loans come back from 120+.

Probabilities are quoted per 30 days and converted to the period length, so weekly and
monthly loans roll at comparable speeds in calendar time. A loan is written off the day it
reaches 180 days past due; no payments follow except rare recoveries.

Macro shock: the month six months before as_of (2026-04 for the default as_of 2026-10-31) has
2.2 times the usual miss probability and a third fewer delinquent payers, modelling a sudden
income shock. January is 20 % worse (the "cuesta de enero") and December 15 % better
(aguinaldo, the statutory Christmas bonus).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._contacts import ContactLog, draw
from ._loans import DIRECT_DEBIT, OXXO, PAYROLL, SPEI, Loans
from ._schedule import EARLY_DAYS, Calendar, Schedule

WRITE_OFF_DPD = 180
SHOCK_MONTHS_BEFORE_AS_OF = 6
BUCKET_EDGES = (1, 30, 60, 90, 120)  # dpd -> 0 current, 1: 1-29, ..., 5: 120-179
FAR = np.int64(1) << 40  # a date beyond any horizon

# Monthly probability that a delinquent borrower pays nothing at all, by bucket.
_Q_NOTHING = np.array([0.0, 0.20, 0.45, 0.52, 0.62, 0.70])
_Q_LOGIT = np.log(_Q_NOTHING[1:] / (1.0 - _Q_NOTHING[1:]))
_Q_LOGIT = np.concatenate([[0.0], _Q_LOGIT])  # bucket 0 (current) is never looked up
# What delinquent payers do: cure, improve (two installments), hold (one), partial.
_ACTION_SHARES = np.array([
    [1.00, 0.00, 0.00, 0.00],
    [0.55, 0.05, 0.30, 0.10],
    [0.25, 0.15, 0.45, 0.15],
    [0.18, 0.15, 0.47, 0.20],
    [0.12, 0.15, 0.45, 0.28],
    [0.07, 0.13, 0.45, 0.35],
])  # fmt: skip
CURE, IMPROVE, HOLD, PARTIAL = range(4)

SETTLED, PENDING, REVERSED = range(3)
STATUSES = ("settled", "pending", "reversed")
# By payment channel (spei, oxxo, card, direct_debit, codi, cash, other): a direct debit
# bounces for lack of funds, cards see chargebacks, the rest almost never reverse.
_REVERSAL = np.array([0.0005, 0.0, 0.008, 0.05, 0.001, 0.0, 0.002])
# Share still unconfirmed when paid in the last three days (OXXO and card settle T+1/T+2).
_PENDING = np.array([0.05, 0.6, 0.4, 0.5, 0.05, 0.5, 0.5])
_PENDING_DAYS = 3
# Channel a payment is made through when it is not the loan's preferred one.
_CHANNEL_MIX = np.array([0.45, 0.30, 0.12, 0.0, 0.06, 0.04, 0.03])

# Typical risk score of a delinquent borrower: q above is quoted for this score.
_DELINQUENT_SCORE = 1.0
_MONTHLY_PREPAY = 0.012
_MONTHLY_EXTRA = 0.02
_MONTHLY_CARD_CLOSE = 0.012
_RECOVERY_SHARE = 0.05


@dataclass
class Outcome:
    """Everything the simulation produced, as integer arrays for the writer."""

    payments: dict[str, np.ndarray]  # loan, day, channel, amount, status
    contacts: dict[str, np.ndarray]  # loan, day, channel, outcome
    promises: dict[str, np.ndarray]  # loan, day, due_on, amount, channel
    closed_on: np.ndarray  # int32 days, -1 = open
    written_off_on: np.ndarray  # int32 days, -1 = not written off


def _round_to(x: np.ndarray, cents: int) -> np.ndarray:
    return (np.floor(x / cents + 0.5) * cents).astype(np.int64)


class _Simulation:
    def __init__(
        self,
        rng: np.random.Generator,
        loans: Loans,
        cal: Calendar,
        sched: Schedule,
        log: ContactLog,
        as_of: int,
    ) -> None:
        self.rng, self.loans, self.cal, self.sched, self.log = rng, loans, cal, sched, log
        self.as_of = as_of
        n = loans.n
        self.starts = sched.starts
        self.rev = loans.revolving
        self.slots = sched.n_rows.astype(np.int64)  # for cards: statements up to as_of + 1
        self.k_event = cal.last_k(as_of + EARLY_DAYS)
        as_of_month = int(np.datetime64(as_of, "D").astype("datetime64[M]").astype(np.int64))
        self.shock_month = as_of_month - SHOCK_MONTHS_BEFORE_AS_OF

        self.paid = np.zeros(n, np.int64)  # settled payments credited so far
        self.j = np.zeros(n, np.int64)  # oldest unpaid row
        self.known = np.zeros(n, np.int64)  # rows already due (or issued, for cards)
        self.cum_known = np.zeros(n, np.int64)  # total due over the known rows
        self.ref = np.zeros(n, np.int64)  # amount of the latest row
        self.stmt = np.zeros(n, np.int64)  # latest statement balance (cards)
        self.carry = np.zeros(n, np.int64)  # card balance after the latest payment
        owed_all = sched.principal + sched.interest
        self.total_due = np.add.reduceat(owed_all, self.starts) if owed_all.size else owed_all
        self.status = np.zeros(n, np.int8)  # 0 live, 1 closed, 2 written off
        self.closed_on = np.full(n, -1, np.int64)
        self.wo_on = np.full(n, -1, np.int64)
        self.pay: dict[str, list[np.ndarray]] = defaultdict(list)

    # -- ledger helpers --------------------------------------------------------------
    def _oldest_due(self, idx: np.ndarray) -> np.ndarray:
        """Due date of the oldest unpaid known row, FAR if every known row is paid."""
        jj = self.j[idx]
        unpaid = jj < self.known[idx]
        due = self.sched.due[self.starts[idx] + np.where(unpaid, jj, 0)]
        return np.where(unpaid, due.astype(np.int64), FAR)

    def _advance(self, idx: np.ndarray) -> None:
        """Move the oldest-unpaid pointer past rows the credited total now covers."""
        cum = self.sched.cum_due
        while idx.size:
            jj = self.j[idx]
            ok = jj < self.known[idx]
            pos = self.starts[idx] + np.where(ok, jj, 0)
            idx = idx[ok & (cum[pos] <= self.paid[idx])]
            self.j[idx] += 1

    def _write_off(self, idx: np.ndarray, day: np.ndarray) -> None:
        self.status[idx] = 2
        self.wo_on[idx] = day

    # -- one period ------------------------------------------------------------------
    def step(self, k: int) -> None:
        live = self.status == 0
        cand = np.flatnonzero(live & ((k <= self.k_event) | (self.rev & (k <= self.slots))))
        if cand.size == 0:
            return
        dk = self.cal.date(k, cand)
        c_rev = self.rev[cand]
        new = np.where(c_rev, k <= self.slots[cand], k <= self.sched.n_rows[cand])
        cards = c_rev & new
        if cards.any():
            self._statement(k, cand[cards], dk[cards])
        inew = cand[new]
        row = self.starts[inew] + k - 1
        amount = self.sched.principal[row] + self.sched.interest[row] + self.sched.fees[row]
        self.cum_known[inew] += amount
        self.sched.cum_due[row] = self.cum_known[inew]
        self.known[inew] = k
        self.ref[inew] = amount
        self._advance(inew)  # credit carried from earlier payments may already cover it
        ev = k <= self.k_event[cand]
        if ev.any():
            self._events(k, cand[ev], dk[ev], new[ev])

    def _statement(self, k: int, idx: np.ndarray, dk: np.ndarray) -> None:
        """Issue the k-th card statement: interest, purchases, late fee, minimum payment."""
        rng, sched, loans = self.rng, self.sched, self.loans
        row = self.starts[idx] + k - 1
        limit = loans.principal[idx]
        monthly_rate = loans.rate[idx] / 10_000.0 / 12.0
        # Rows known so far are all due before this statement, so any unpaid one is overdue
        # and the card is blocked for purchases.
        overdue = self.j[idx] < self.known[idx]
        if k == 1:
            base = np.zeros(idx.size, np.int64)
            share = np.clip(loans.spend[idx] * rng.uniform(0.6, 1.6, idx.size), 0.1, 1.0)
            purchases = _round_to(limit * share, 10_000)
            interest = np.floor(purchases * monthly_rate * 0.5 + 0.5).astype(np.int64)
        else:
            base = self.carry[idx]
            interest = np.floor(base * monthly_rate + 0.5).astype(np.int64)
            want = limit * loans.spend[idx] * rng.uniform(0.1, 0.9, idx.size)
            room = np.maximum(limit - base, 0)
            purchases = np.where(overdue, 0, _round_to(np.minimum(want, room), 100))
        fee = sched.fees[row]
        balance = base + purchases + interest + fee
        floor_min = np.maximum(
            np.ceil(balance * 0.05), np.floor(balance * 0.015 + 0.5) + interest + fee
        )
        minimum = np.where(balance > 0, np.minimum(balance, np.maximum(floor_min, 20_000)), 0)
        minimum = minimum.astype(np.int64)
        i_due = np.minimum(interest, minimum)
        f_due = np.minimum(fee, minimum - i_due)
        sched.interest[row] = i_due
        sched.fees[row] = f_due
        sched.principal[row] = minimum - i_due - f_due
        sched.balance[row] = balance
        self.stmt[idx] = balance
        self.carry[idx] = balance

    def _events(self, k: int, e: np.ndarray, dk: np.ndarray, new_row: np.ndarray) -> None:
        rng, loans, sched = self.rng, self.loans, self.sched
        n = e.size
        st = self.starts[e]
        dnext = self.cal.date(k + 1, e)
        period = dnext - dk
        win_end = dnext - EARLY_DAYS - 1  # the next event window opens the day after
        scale = period / 30.0
        due_j = self._oldest_due(e)
        dpd = np.where(due_j < dk, dk - due_j, 0)
        # At a due date a loan one installment behind is already a full period past due; the
        # decision taken now is whether it leaves the bucket it sat in during that period.
        bucket = np.digitize(np.where(dpd > 0, np.maximum(dpd - period + 1, 1), 0), BUCKET_EDGES)
        owed = self.cum_known[e] - self.paid[e]
        ref = self.ref[e]
        is_rev = self.rev[e]
        stmt = self.stmt[e]
        month = dk.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        shock = month == self.shock_month
        season = np.select([month % 12 == 0, month % 12 == 11], [1.2, 0.85], 1.0)
        never = loans.never_pay[e]
        cur = bucket == 0

        # Current borrowers: pay, miss (skip or partial), prepay or pay extra.
        p_miss = np.minimum(loans.p_miss[e] * season * np.where(shock, 2.2, 1.0), 0.95)
        miss = never | (rng.random(n) < 1.0 - (1.0 - p_miss) ** scale)
        need = np.where(is_rev, stmt > 0, owed > 0)
        c_pay = cur & ~miss & need
        c_part = cur & miss & ~never & need & (rng.random(n) < 0.3)
        # Card revolvers mostly pay the minimum (any excess is credit the ledger carries
        # forward, which would hide later misses); transactors pay the statement in full.
        above_min = _round_to(ref * rng.uniform(1, 2, n), 1_000)
        above_min = np.where(rng.random(n) < 0.55, ref, above_min)
        choice = np.where(loans.transactor[e], stmt, above_min)
        card_amount = np.maximum(np.clip(choice, ref, stmt), owed)
        amount = np.zeros(n, np.int64)
        amount[c_pay] = np.where(is_rev, card_amount, owed)[c_pay]
        u = rng.random(n)
        prepay = (
            c_pay & ~is_rev & (k >= 3) & (k < sched.n_rows[e])
            & (u < 1.0 - (1.0 - _MONTHLY_PREPAY) ** scale)
        )  # fmt: skip
        extra = c_pay & ~is_rev & ~prepay & (u > (1.0 - _MONTHLY_EXTRA) ** scale)
        row_k = st + np.minimum(k, sched.n_rows[e]) - 1
        amount[prepay] += sched.remaining[row_k[prepay]]
        amount[extra] += ref[extra]
        partial = np.maximum(_round_to(ref * rng.uniform(0.2, 0.8, n), 1_000), 1_000)
        partial = np.where(owed > 0, np.minimum(partial, owed), partial)
        amount[c_part] = partial[c_part]

        # Delinquent borrowers: the deeper the bucket, the likelier they pay nothing.
        shift = 0.5 * (loans.score[e] - _DELINQUENT_SCORE)
        q = 1.0 / (1.0 + np.exp(-(_Q_LOGIT[bucket] + shift)))
        q = np.where(shock, q + (1.0 - q) * 0.35, q)
        d_pay = ~cur & ~never & (rng.random(n) >= q**scale)
        action = draw(rng, _ACTION_SHARES, bucket)
        d_amount = np.select(
            [action == CURE, action == IMPROVE, action == HOLD],
            [owed, np.minimum(owed, 2 * ref), np.minimum(owed, ref)],
            partial,
        )
        amount[d_pay] = d_amount[d_pay]

        # Timing and channel.
        normal = c_pay & ~prepay & ~extra
        on_time = rng.choice(np.array([-3, -2, -1, 0]), size=n, p=[0.08, 0.12, 0.2, 0.6])
        late_lag = np.minimum(rng.geometric(0.2, n), period - EARLY_DAYS - 1)
        # Collections pressure is highest right after the due date, so arrears come early.
        any_lag = np.minimum(rng.geometric(0.12, n) - 1, period - EARLY_DAYS - 1)
        late = rng.random(n) < loans.p_late[e]
        lag = np.where(c_pay, np.where(late & normal, late_lag, on_time), any_lag)
        other = draw(rng, _CHANNEL_MIX[None, :], np.zeros(n, np.int64))
        channel = np.where(rng.random(n) < 0.85, loans.channel[e], other).astype(np.int8)
        dd = channel == DIRECT_DEBIT
        lag = np.where(dd & normal, 0, lag)  # debits run on the due date
        fallback = np.where((loans.cnbv[e] == PAYROLL) | (rng.random(n) < 0.5), SPEI, OXXO)
        channel = np.where(dd & ~normal, fallback, channel).astype(np.int8)
        channel[prepay] = SPEI
        pay_day = dk + lag

        valid = (amount > 0) & (pay_day <= self.as_of)
        wo_day = due_j + WRITE_OFF_DPD
        wo_first = valid & (wo_day <= pay_day)
        valid &= ~wo_first

        status = np.where(
            rng.random(n) < _REVERSAL[channel],
            REVERSED,
            np.where(
                (pay_day > self.as_of - _PENDING_DAYS) & (rng.random(n) < _PENDING[channel]),
                PENDING,
                SETTLED,
            ),
        ).astype(np.int8)
        status[prepay] = SETTLED  # the payoff quote is paid by transfer and confirmed
        self.pay["loan"].append(e[valid].astype(np.int32))
        self.pay["day"].append(pay_day[valid].astype(np.int32))
        self.pay["channel"].append(channel[valid])
        self.pay["amount"].append(amount[valid])
        self.pay["status"].append(status[valid])

        # Prepayment: the payoff becomes the last installment and the schedule ends there.
        pp = e[prepay & valid]
        if pp.size:
            row = row_k[prepay & valid]
            rem = sched.remaining[row]
            sched.principal[row] += rem
            sched.remaining[row] = 0
            sched.cum_due[row] += rem
            self.cum_known[pp] += rem
            self.total_due[pp] = self.cum_known[pp]
            sched.n_rows[pp] = k

        paid_before = self.paid[e]
        credited = valid & (status == SETTLED)
        self.paid[e[credited]] += amount[credited]
        self._advance(e[credited])
        paid_after = self.paid[e]
        cum = self.cum_known[e]
        self.carry[e[is_rev]] = np.maximum(stmt - np.where(credited, amount, 0), 0)[is_rev]

        close = credited & ~is_rev & (paid_after >= self.total_due[e])
        close |= (
            credited & is_rev & (k >= 6) & (paid_after >= cum) & (self.carry[e] == 0)
            & (rng.random(n) < 1.0 - (1.0 - _MONTHLY_CARD_CLOSE) ** scale)
        )  # fmt: skip
        self.status[e[close]] = 1
        self.closed_on[e[close]] = pay_day[close]

        self._write_off(e[wo_first], wo_day[wo_first])
        due_after = self._oldest_due(e)
        wo_day_after = due_after + WRITE_OFF_DPD
        wo_late = (self.status[e] == 0) & (wo_day_after <= np.minimum(win_end, self.as_of))
        self._write_off(e[wo_late], wo_day_after[wo_late])
        wo_on = np.where(wo_first, wo_day, np.where(wo_late, wo_day_after, FAR))

        # Late fee on the next row when this one was not covered within 3 days of grace.
        has_next = np.where(is_rev, k < self.slots[e], k < sched.n_rows[e])
        covered = (paid_before >= cum) | (credited & (pay_day <= dk + 3) & (paid_after >= cum))
        fee = (
            new_row & has_next & ~covered & (self.status[e] == 0) & (loans.fee[e] > 0)
            & (dk + 3 <= self.as_of) & (rng.random(n) < 0.85)
        )  # fmt: skip
        if fee.any():
            sched.fees[st[fee] + k] += loans.fee[e[fee]]
            self.total_due[e[fee]] += loans.fee[e[fee]]

        self._contacts(e, dk, due_j, dpd, cur, new_row, need, valid, credited, pay_day,
                       paid_after, cum, win_end, wo_on, owed, ref, amount, period)  # fmt: skip

    def _contacts(
        self, e: np.ndarray, dk: np.ndarray, due_j: np.ndarray, dpd: np.ndarray,
        cur: np.ndarray, new_row: np.ndarray, need: np.ndarray, valid: np.ndarray,
        credited: np.ndarray, pay_day: np.ndarray, paid_after: np.ndarray, cum: np.ndarray,
        win_end: np.ndarray, wo_on: np.ndarray, owed: np.ndarray, ref: np.ndarray,
        amount: np.ndarray, period: np.ndarray,
    ) -> None:  # fmt: skip
        rng, log, as_of = self.rng, self.log, self.as_of
        n = e.size
        # Collection contacts while something is overdue, until the loan is current again.
        unpaid = due_j < FAR
        start = np.maximum(dk - EARLY_DAYS, due_j + 1)
        end = np.where(credited & (paid_after >= cum), pay_day, win_end + 1)
        end = np.minimum(np.minimum(end, as_of + 1), wo_on)
        log.delinquency(e[unpaid], start[unpaid], end[unpaid], due_j[unpaid])

        remind = cur & new_row & need & (rng.random(n) < 0.12)
        earliest = np.maximum(dk - EARLY_DAYS, self.loans.opened[e] + 1)
        log.reminders(e[remind], dk[remind], earliest[remind], as_of)

        # Kept promises precede a payment by 1-4 days; broken ones are followed by nothing.
        delinquent = dpd > 0
        kept = delinquent & valid & (rng.random(n) < 0.35)
        made = pay_day - rng.integers(1, 5, n)
        kept &= made >= dk - EARLY_DAYS
        promised = np.where(amount >= 5_000, amount // 5_000 * 5_000, amount)
        log.promise(e[kept], made[kept], (pay_day + rng.integers(0, 3, n))[kept],
                    promised[kept], (made - due_j)[kept])  # fmt: skip

        broken = delinquent & ~valid & (rng.random(n) < 0.22)
        made = dk + rng.integers(0, np.clip(np.minimum(10, period - 4), 1, None))
        broken &= (made <= np.minimum(win_end, as_of)) & (made < wo_on)
        want = np.minimum(owed, ref * rng.integers(1, 3, n))
        promised = np.where(want >= 5_000, want // 5_000 * 5_000, want)
        log.promise(e[broken], made[broken], (made + rng.integers(2, 7, n))[broken],
                    promised[broken], (made - due_j)[broken])  # fmt: skip

    def recoveries(self) -> None:
        """A few written-off loans pay something later (settlements with an agency)."""
        rng = self.rng
        wo = np.flatnonzero(self.status == 2)
        day = self.wo_on[wo] + rng.integers(20, 366, wo.size)
        outstanding = self.cum_known[wo] - self.paid[wo]
        amount = _round_to(outstanding * rng.uniform(0.1, 0.5, wo.size), 10_000)
        pick = (rng.random(wo.size) < _RECOVERY_SHARE) & (day <= self.as_of) & (amount > 0)
        self.pay["loan"].append(wo[pick].astype(np.int32))
        self.pay["day"].append(day[pick].astype(np.int32))
        self.pay["channel"].append(np.where(rng.random(wo.size) < 0.7, SPEI, OXXO)[pick])
        self.pay["amount"].append(amount[pick])
        self.pay["status"].append(np.full(int(pick.sum()), SETTLED, np.int8))

    def finish(self) -> dict[str, np.ndarray]:
        # Cards only have the statements issued while they were live.
        self.sched.n_rows[self.rev] = self.known[self.rev]
        dtypes = {"loan": np.int32, "day": np.int32, "channel": np.int8, "amount": np.int64,
                  "status": np.int8}  # fmt: skip
        return {k: np.concatenate(self.pay[k]).astype(t) for k, t in dtypes.items()}


def simulate(
    rng: np.random.Generator,
    loans: Loans,
    cal: Calendar,
    sched: Schedule,
    log: ContactLog,
    as_of: int,
    progress: Callable[[float], None] | None = None,
) -> Outcome:
    """Run the behaviour simulation; mutates ``sched`` (card rows, fees, prepayments)."""
    sim = _Simulation(rng, loans, cal, sched, log, as_of)
    k_max = int(max(sim.k_event.max(initial=0), sim.slots[sim.rev].max(initial=0)))
    for k in range(1, k_max + 1):
        sim.step(k)
        if progress is not None:
            progress(k / k_max)
    sim.recoveries()
    payments = sim.finish()
    contacts, promises = log.finish()
    return Outcome(
        payments=payments,
        contacts=contacts,
        promises=promises,
        closed_on=sim.closed_on.astype(np.int32),
        written_off_on=sim.wo_on.astype(np.int32),
    )
