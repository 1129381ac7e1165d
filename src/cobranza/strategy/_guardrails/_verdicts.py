"""Guardrail verdicts for a whole day's candidate actions, as one Ibis expression.

Joins, aggregates and windows only, no per-row Python: the customer's zone set becomes a CASE
key, windows and day boundaries are literals resolved for the as-of date in Python, the
per-loan suppressions (hold, open promise, recent payment) are one union of loan ids, and the
frequency caps count the contact history plus today's competing actions with two running
window sums (see :func:`_competing`).
"""

from __future__ import annotations

import datetime as dt
import itertools

import ibis
import ibis.expr.types as ir

from cobranza.ledger import promise_status
from cobranza.ledger._calendar import end_of_local_day
from cobranza.strategy._guardrails._calendar import closed_channels
from cobranza.strategy._guardrails._pack import GuardrailPack
from cobranza.strategy._guardrails._rules import ACCOUNT_RULES, CAP_RULES
from cobranza.strategy._guardrails._zones import (
    day_bound_columns,
    local_day_bounds,
    window_columns,
    zone_key,
    zone_sets,
)

_names = itertools.count(1)


def _shared(table: ir.Table, name: str) -> ir.Table:
    """``table`` as a named common table expression.

    Ibis fuses a projection into each query that reads it, so an intermediate read by several
    parts of the plan would be computed once per reader; a named CTE is computed once (DuckDB
    fans it out). Names are unique per call so two verdict expressions can share a query.
    """
    return table.alias(f"_guardrails_{name}_{next(_names)}")


#: Expected value that orders below every real one (null or NaN expected values).
LOWEST = -1.7976931348623157e308

VERDICT_COLUMNS = ("window_start_local", "window_end_local", "time_zone", "suppressed_by")


def guardrail_verdicts(
    candidates: ir.Table,
    *,
    customers: ir.Table,
    contacts: ir.Table | None,
    payments: ir.Table,
    promises: ir.Table | None,
    holds: ir.Table | None,
    as_of: dt.date,
    pack: GuardrailPack | None = None,
    loans: ir.Table | None = None,
) -> ir.Table:
    """The candidate rows plus ``window_start_local``, ``window_end_local``, ``time_zone`` and
    ``suppressed_by`` (null: permitted; else the first blocking rule of ``RULE_ORDER``).

    ``loans`` (optional, recommended) says who owns each loan: without it the ``third_party``
    rule can only check that the addressee is a known customer, and contacts are attributed
    to customers through the candidates' own (loan_id, customer_id) pairs.
    """
    pack = pack if pack is not None else GuardrailPack()
    columns = list(candidates.columns)
    c = _with_account(candidates, customers, loans, payments, promises, holds, as_of, pack)
    c = c.mutate(**window_columns(c._zone, c.channel, as_of, pack)).view()
    checks = _account_checks(c, as_of, pack)
    first = ibis.cases(*[(checks[r], r) for r in ACCOUNT_RULES], else_=ibis.null("string"))
    c = _shared(c.mutate(_pre=first.cast("string")), "actions")
    if pack.caps.enabled:
        c = _capped(c, candidates, customers, contacts, loans, as_of, pack)
        verdict = ibis.coalesce(c._pre, c._cap)
    else:
        verdict = c._pre
    return c.select(
        *columns,
        window_start_local=c.window_start_local,
        window_end_local=c.window_end_local,
        time_zone=c.time_zone,
        suppressed_by=verdict,
    )


def _with_account(
    candidates: ir.Table,
    customers: ir.Table,
    loans: ir.Table | None,
    payments: ir.Table,
    promises: ir.Table | None,
    holds: ir.Table | None,
    as_of: dt.date,
    pack: GuardrailPack,
) -> ir.Table:
    """Candidates with their customer's flags and zone key, the loan's owner and the loan's
    suppression flags."""
    cust = customers.select(
        _c_id=customers.customer_id,
        _known=ibis.literal(True),
        _dnc=customers.do_not_contact.fill_null(False),
        _opt=customers.opt_out_channels,
        _zone=zone_key(customers.state, customers.postal_code, pack.time_zones),
    )
    c = candidates.left_join(cust, candidates.customer_id == cust._c_id).select(
        candidates, cust._known, cust._dnc, cust._opt, cust._zone
    )
    if loans is not None:
        owners = loans.select(_o_loan=loans.loan_id, _owner=loans.customer_id)
        c = c.left_join(owners, c.loan_id == owners._o_loan).select(c, owners._owner)
    else:
        c = c.mutate(_owner=c.customer_id)
    flags = _loan_flags(payments, promises, holds, as_of, pack)
    if flags is None:
        return c.mutate(_hold=False, _promise=False, _paid=False)
    c = c.left_join(flags, c.loan_id == flags._f_loan).select(
        c,
        _hold=flags._hold.fill_null(False),
        _promise=flags._promise.fill_null(False),
        _paid=flags._paid.fill_null(False),
    )
    return c


def _loan_flags(
    payments: ir.Table,
    promises: ir.Table | None,
    holds: ir.Table | None,
    as_of: dt.date,
    pack: GuardrailPack,
) -> ir.Table | None:
    """One row per loan with an active hold, an open promise or a recent payment."""
    day = ibis.date(as_of)
    parts = []
    if pack.payment_hold.enabled and holds is not None:
        active = holds.filter((holds.since <= day) & (holds.until.isnull() | (day <= holds.until)))
        parts.append(active.select(_f_loan=active.loan_id, _kind=ibis.literal("hold")))
    if pack.promise_open.enabled and promises is not None:
        rule = pack.promise_open
        # Only a promise due on or after this day (or within its grace) can still suppress.
        last_due = as_of - dt.timedelta(days=rule.grace_days if rule.through_grace else 0)
        recent = promises.filter(promises.due_on >= ibis.date(last_due))
        status = promise_status(recent, payments, as_of, grace_days=rule.grace_days)
        still = status.status == "open"
        if not rule.through_grace:
            still &= day <= status.due_on
        status = status.filter(still)
        parts.append(status.select(_f_loan=status.loan_id, _kind=ibis.literal("promise")))
    if pack.recent_payment.enabled and pack.recent_payment.days > 0:
        rule = pack.recent_payment
        start = end_of_local_day(as_of - dt.timedelta(days=rule.days))
        paid = payments.filter(
            payments.status.isin(rule.statuses)
            & (payments.paid_at >= ibis.literal(start))
            & (payments.paid_at < ibis.literal(end_of_local_day(as_of)))
        )
        parts.append(paid.select(_f_loan=paid.loan_id, _kind=ibis.literal("payment")))
    if not parts:
        return None
    union = ibis.union(*parts) if len(parts) > 1 else parts[0]
    return union.group_by("_f_loan").aggregate(
        _hold=(union._kind == "hold").any(),
        _promise=(union._kind == "promise").any(),
        _paid=(union._kind == "payment").any(),
    )


def _account_checks(c: ir.Table, as_of: dt.date, pack: GuardrailPack) -> dict[str, ir.Value]:
    """Each rule that looks only at the action and its own account, as a boolean column."""
    off = ibis.literal(False)
    opted = (ibis.literal(",") + c._opt.replace(" ", "") + ",").contains(
        ibis.literal(",") + c.channel + ","
    )
    closed = closed_channels(as_of, pack.business_days)
    checks = {
        "do_not_contact": c._dnc.fill_null(False) if pack.do_not_contact.enabled else off,
        "opt_out": opted.fill_null(False) if pack.opt_out.enabled else off,
        "third_party": (c._known.isnull() | c._owner.isnull() | (c._owner != c.customer_id))
        if pack.third_party.enabled
        else off,
        "payment_hold": c._hold & c.channel.isin(pack.payment_hold.channels),
        "promise_open": c._promise & c.channel.isin(pack.promise_open.channels),
        "recent_payment": c._paid & c.channel.isin(pack.recent_payment.channels),
        "holiday": c.channel.isin(closed) if closed else off,
        "contact_window": c.window_empty,
    }
    return checks


def _history(
    contacts: ir.Table,
    candidates: ir.Table,
    loans: ir.Table | None,
    customers: ir.Table,
    as_of: dt.date,
    pack: GuardrailPack,
) -> tuple[ir.Table, ir.Table]:
    """Contacts per (customer, channel) and per customer on the debtor's local day ``as_of``
    (``_d``) and on the 7 local days ending with it (``_w``)."""
    zones = {z for zs in zone_sets(pack.time_zones).values() for z in zs} | {"America/Mexico_City"}
    earliest = min(local_day_bounds(z, as_of, 7)[0] for z in zones)
    # The run sees nothing after the as-of day ends in Mexico City (the data's cut-off), even
    # where the debtor's own day ends later (Baja California, Sonora, Chihuahua).
    latest = end_of_local_day(as_of)
    seen = contacts.filter(
        (contacts.attempted_at >= ibis.literal(earliest))
        & (contacts.attempted_at < ibis.literal(latest))
        & ~contacts.channel.isin(pack.caps.exempt_channels or ("",))
    )
    if loans is not None:
        owners = loans.select(_h_loan=loans.loan_id, _h_customer=loans.customer_id)
    else:
        owners = candidates.select(_h_loan=candidates.loan_id, _h_customer=candidates.customer_id)
        owners = owners.distinct()
    seen = seen.inner_join(owners, seen.loan_id == owners._h_loan).select(
        seen.attempted_at, seen.channel, customer_id=owners._h_customer
    )
    zones = customers.select(
        _z_customer=customers.customer_id,
        _zone=zone_key(customers.state, customers.postal_code, pack.time_zones),
    )
    seen = seen.left_join(zones, seen.customer_id == zones._z_customer).select(
        seen, _zone=zones._zone
    )
    seen = seen.mutate(**day_bound_columns(seen._zone, as_of, pack)).view()
    in_day = (seen.attempted_at >= seen.day_start) & (seen.attempted_at < seen.day_end)
    in_week = (seen.attempted_at >= seen.week_start) & (seen.attempted_at < seen.day_end)
    counted = seen.mutate(_in_d=in_day.cast("int64"), _in_w=in_week.cast("int64"))
    per_channel = counted.group_by(
        _hc_customer=counted.customer_id, _hc_channel=counted.channel
    ).aggregate(_d_c=counted._in_d.sum(), _w_c=counted._in_w.sum())
    per_customer = counted.group_by(_ht_customer=counted.customer_id).aggregate(
        _d_t=counted._in_d.sum(), _w_t=counted._in_w.sum()
    )
    return per_channel, per_customer


def _capped(
    c: ir.Table,
    candidates: ir.Table,
    customers: ir.Table,
    contacts: ir.Table | None,
    loans: ir.Table | None,
    as_of: dt.date,
    pack: GuardrailPack,
) -> ir.Table:
    """``c`` plus ``_cap``: the first frequency cap the action breaks (null: none).

    Only actions that no account rule blocks and whose channel is capped ("eligible") are
    looked at, on a narrow table; the few that a cap blocks join back to ``c`` by the
    candidate key (loan_id, option_rank, customer_id, channel).
    """
    caps = pack.caps
    zero = ibis.literal(0, type="int64")
    ev = c.expected_value
    eligible = c._pre.isnull() & ~c.channel.isin(caps.exempt_channels or ("",))
    e = c.filter(eligible).select(*KEY, _ev=ibis.ifelse(ev.isnull() | ev.isnan(), LOWEST, ev))
    if contacts is not None:
        per_channel, per_customer = _history(contacts, candidates, loans, customers, as_of, pack)
        e = e.left_join(
            per_channel,
            [e.customer_id == per_channel._hc_customer, e.channel == per_channel._hc_channel],
        ).select(e, _d_c=per_channel._d_c.fill_null(zero), _w_c=per_channel._w_c.fill_null(zero))
        e = e.left_join(per_customer, e.customer_id == per_customer._ht_customer).select(
            e, _d_t=per_customer._d_t.fill_null(zero), _w_t=per_customer._w_t.fill_null(zero)
        )
    else:
        e = e.mutate(_d_c=zero, _w_c=zero, _d_t=zero, _w_t=zero)
    e = _shared(e, "eligible")
    counts = _competing(e)
    e = e.left_join(counts, [e[k] == counts[f"_k_{k}"] for k in KEY]).select(
        e, _n_t=counts._n_t.fill_null(zero), _n_c=counts._n_c.fill_null(zero)
    )
    n_c, n_t = e._n_c + 1, e._n_t + 1

    def per_channel_cap(limits: dict[str, int]) -> ir.Value:
        if not limits:
            return ibis.null("int64")
        return ibis.cases(*[(e.channel == ch, n) for ch, n in limits.items()], else_=None)

    daily_c, weekly_c = per_channel_cap(caps.daily), per_channel_cap(caps.weekly)
    off = ibis.literal(False)
    checks = {
        "cap_daily_channel": (e._d_c + n_c > daily_c).fill_null(False),
        "cap_daily_total": (e._d_t + n_t > caps.daily_total) if caps.daily_total is not None
        else off,
        "cap_weekly_channel": (e._w_c + n_c > weekly_c).fill_null(False),
        "cap_weekly_total": (e._w_t + n_t > caps.weekly_total) if caps.weekly_total is not None
        else off,
    }  # fmt: skip
    first = ibis.cases(*[(checks[r], i) for i, r in enumerate(CAP_RULES)], else_=None)
    e = e.mutate(_cap_i=first.cast("int32"))
    blocked = (
        e.filter(e._cap_i.notnull())
        .group_by(*[e[k].name(f"_b_{k}") for k in KEY])
        .aggregate(_cap_i=e._cap_i.min())
    )
    name = ibis.cases(*[(blocked._cap_i == i, r) for i, r in enumerate(CAP_RULES)], else_=None)
    blocked = blocked.mutate(_cap=name.cast("string"))
    return c.left_join(blocked, [c[k] == blocked[f"_b_{k}"] for k in KEY]).select(
        c, _cap=blocked._cap
    )


#: The candidate key the cap verdicts join back on (INTERFACES §C: one row per loan_id and
#: option_rank; customer and channel make a malformed duplicate harmless).
KEY = ("loan_id", "option_rank", "customer_id", "channel")


def _competing(e: ir.Table) -> ir.Table:
    """For eligible actions of customers with several loans: ``_n_t`` / ``_n_c``, how many
    OTHER loans of the same customer have an eligible action (any channel / the same channel)
    ranked before this one, by expected value descending then loan_id. (Everyone else: 0.)

    Each loan sends at most one action, so an action is safe under a cap when the history plus
    those loans plus itself fit in it. Computed as a running count over the union of the
    actions with one "representative" row per loan (its best expected value): representatives
    sort after actions at an equal key, so only strictly earlier ones count, and a loan's own
    representative is taken off when it is earlier.
    """
    spread = e.group_by(_m_customer=e.customer_id).aggregate(
        _lo=e.loan_id.min(), _hi=e.loan_id.max()
    )
    several = spread.filter(spread._lo != spread._hi).select("_m_customer")
    e = _shared(
        e.semi_join(several, e.customer_id == several._m_customer).select(*KEY, "_ev"), "several"
    )
    zero, one = ibis.literal(0, type="int64"), ibis.literal(1, type="int64")
    actions = e.select(
        "loan_id",
        option_rank=e.option_rank.cast("int32"),
        customer_id="customer_id",
        channel="channel",
        _ev="_ev",
        _own_t=e._ev.max().over(group_by=[e.customer_id, e.loan_id]),
        _own_c=e._ev.max().over(group_by=[e.customer_id, e.loan_id, e.channel]),
        _rep_t=zero,
        _rep_c=zero,
        _is_rep=zero,
    )
    reps_t = e.group_by("customer_id", "loan_id").aggregate(_ev=e._ev.max())
    reps_c = e.group_by("customer_id", "loan_id", "channel").aggregate(_ev=e._ev.max())

    def as_rows(reps: ir.Table, rep_t: ir.Value, rep_c: ir.Value) -> ir.Table:
        return reps.select(
            loan_id=reps.loan_id,
            option_rank=ibis.null("int32"),
            customer_id=reps.customer_id,
            channel=reps.channel if "channel" in reps.columns else ibis.null("string"),
            _ev=reps._ev,
            _own_t=ibis.null("float64"),
            _own_c=ibis.null("float64"),
            _rep_t=rep_t,
            _rep_c=rep_c,
            _is_rep=one,
        )

    rows = ibis.union(actions, as_rows(reps_t, one, zero), as_rows(reps_c, zero, one))
    order = [ibis.desc(rows._ev), rows.loan_id, rows._is_rep]
    before_t = ibis.window(group_by=rows.customer_id, order_by=order, rows=(None, 0))
    before_c = ibis.window(group_by=[rows.customer_id, rows.channel], order_by=order,
                           rows=(None, 0))  # fmt: skip
    counted = rows.mutate(
        _ahead_t=rows._rep_t.sum().over(before_t),
        _ahead_c=rows._rep_c.sum().over(before_c),
    ).filter(lambda t: t._is_rep == 0)
    own_t = (counted._own_t > counted._ev).fill_null(False).cast("int64")
    own_c = (counted._own_c > counted._ev).fill_null(False).cast("int64")
    return counted.group_by(*[counted[k].name(f"_k_{k}") for k in KEY]).aggregate(
        _n_t=(counted._ahead_t - own_t).max(), _n_c=(counted._ahead_c - own_c).max()
    )
