"""The matching rules: each pairs what earlier rules left, entirely in the engine.

One-to-one rules keep *mutual best* pairs (each side's best candidate is the other) and run up
to ``passes`` times, so that a candidate lost to a better pair can still pair with the next.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir

from cobranza.payments.reconcile._config import Rule
from cobranza.payments.reconcile._prepare import MONEY, money

__all__ = ["MATCH_COLUMNS", "finish_matches", "manual_pairs", "reversal_pairs", "rule_pairs"]

#: Columns of a pair before the presentation columns are added (see finish_matches).
PAIR_COLUMNS = (
    "rule", "confidence", "group_anchor", "tx_key", "pay_key", "basis", "group_difference",
)  # fmt: skip

#: The ``reconciliation_matches`` table, in order (documented in docs/reconciliation.md).
MATCH_COLUMNS = (
    "match_id", "match_group", "rule", "confidence", "match_status", "partner_id", "rail",
    "external_id", "tx_key", "source_file", "source_line", "payment_id", "loan_id",
    "tx_amount", "tx_fee", "payment_amount", "amount_basis", "difference", "value_date",
    "paid_on", "lag_days", "mismatch_field", "mismatch_detail", "as_of",
)  # fmt: skip


def _dec(value: Decimal) -> ir.Value:
    return ibis.literal(value).cast(MONEY)


def _pairs(
    rule: Rule,
    anchor: ir.Value,
    tx_key: ir.Value,
    pay_key: ir.Value,
    basis: ir.Value,
    difference: ir.Value,
) -> dict[str, ir.Value]:
    return {
        "rule": ibis.literal(rule.name),
        "confidence": ibis.literal(rule.confidence, type="float64"),
        "group_anchor": anchor,
        "tx_key": tx_key,
        "pay_key": pay_key,
        "basis": basis,
        "group_difference": money(difference),
    }


def _amount_test(rule: Rule, difference: ir.Value, amount: ir.Value) -> ir.BooleanValue:
    if rule.amount == "exact":
        return difference == 0
    if rule.amount == "tolerance":
        limit = ibis.greatest(_dec(rule.abs_tolerance), money(amount * _dec(rule.rel_tolerance)))
        return difference.abs() <= limit
    return ibis.literal(True)


def _basis(rule: Rule, amount: ir.Value, gross: ir.Value, target: ir.Value) -> tuple[ir.Value, ...]:
    """(basis, difference): the partner's amount as reported, or plus its fee when allowed."""
    as_reported = money(amount - target)
    if not rule.fees:
        return ibis.literal("gross"), as_reported
    plus_fee = money(gross - target)
    use_fee = (plus_fee.abs() < as_reported.abs()) & (gross != amount)
    return (
        ibis.ifelse(use_fee, "net_plus_fee", "gross"),
        ibis.ifelse(use_fee, plus_fee, as_reported),
    )


def _mutual_best(c: ir.Table, left: str, right: str, order: list[ir.Value]) -> ir.Table:
    c = c.mutate(
        _rl=ibis.row_number().over(group_by=c[left], order_by=[*order, c[right]]),
        _rr=ibis.row_number().over(group_by=c[right], order_by=[*order, c[left]]),
    )
    return c.filter(c._rl == 0, c._rr == 0).drop("_rl", "_rr")


def _in_window(rule: Rule, lag: ir.IntegerValue) -> ir.BooleanValue:
    lo, hi = rule.window_days
    return lag.between(lo, hi)


def _rail_ok(rule: Rule, rail: ir.StringValue) -> ir.BooleanValue:
    return ibis.literal(True) if rule.rails is None else rail.isin(list(rule.rails))


def rule_pairs(
    rule: Rule, tx: ir.Table, pay: ir.Table, tx_keys: ir.Table, pay_keys: ir.Table
) -> ir.Table:
    """Pairs (PAIR_COLUMNS) found by ``rule`` among open transactions ``tx`` and payments ``pay``.

    ``tx_keys``/``pay_keys`` (partner_id, key, tx_key|pay_key) list the matching keys: one per
    transaction (``L:`` + resolved loan, else ``R:`` + reference), ``L:`` + loan id and
    ``R:`` + reference per payment; so each candidate pair appears once.
    """
    if rule.kind == "reference":
        return _reference(rule, tx, pay, tx_keys, pay_keys)
    if rule.kind == "amount_date":
        return _amount_date(rule, tx, pay)
    if rule.kind == "split":
        return _split(rule, tx, pay, pay_keys)
    return _batch(rule, tx, pay)


def _reference(
    rule: Rule, tx: ir.Table, pay: ir.Table, tx_keys: ir.Table, pay_keys: ir.Table
) -> ir.Table:
    tk = tx_keys.semi_join(tx, tx_keys.tx_key == tx.tx_key)
    pk = pay_keys.semi_join(pay, pay_keys.pay_key == pay.pay_key)
    cand = tk.join(pk, [tk.partner_id == pk.partner_id, tk.key == pk.key]).select(
        tk.tx_key, pk.pay_key
    )
    t = tx.select("tx_key", "amount", "gross", "value_date", "rail")
    p = pay.select("pay_key", pay_amount=pay.amount, paid_on=pay.paid_on)
    c = cand.join(t, "tx_key").join(p, "pay_key")
    c = c.mutate(lag=c.value_date.delta(c.paid_on, unit="day"))
    basis, diff = _basis(rule, c.amount, c.gross, c.pay_amount)
    c = c.mutate(basis=basis, diff=diff)
    c = c.filter(
        _in_window(rule, c.lag), _amount_test(rule, c.diff, c.pay_amount), _rail_ok(rule, c.rail)
    )
    order = [c.diff.abs(), (c.lag < 0).cast("int8"), c.lag.abs()]
    best = _mutual_best(c, "tx_key", "pay_key", order)
    return best.select(**_pairs(rule, best.tx_key, best.tx_key, best.pay_key, best.basis,
                                best.diff))  # fmt: skip


def _amount_date(rule: Rule, tx: ir.Table, pay: ir.Table) -> ir.Table:
    """The only open payment of the partner with this amount in the window, for a transaction
    whose reference resolves to nothing (its exception is an unknown reference)."""
    t = tx.filter(tx.loan_id.isnull(), _rail_ok(rule, tx.rail)).select(
        "tx_key", "partner_id", "value_date", "amount", "gross", "fee0"
    )
    p = pay.select("pay_key", p_partner=pay.partner_id, pay_amount=pay.amount,
                   paid_on=pay.paid_on)  # fmt: skip
    parts = [
        t.join(p, [t.partner_id == p.p_partner, t.amount == p.pay_amount]).mutate(
            basis=ibis.literal("gross")
        )
    ]
    if rule.fees:
        with_fee = t.filter(t.fee0 != 0)
        parts.append(
            with_fee.join(
                p, [with_fee.partner_id == p.p_partner, with_fee.gross == p.pay_amount]
            ).mutate(basis=ibis.literal("net_plus_fee"))
        )
    c = ibis.union(*parts, distinct=False)
    c = c.mutate(lag=c.value_date.delta(c.paid_on, unit="day"))
    c = c.filter(_in_window(rule, c.lag))
    c = c.mutate(
        n_tx=c.pay_key.count().over(group_by=c.tx_key),
        n_pay=c.tx_key.count().over(group_by=c.pay_key),
    )
    c = c.filter(c.n_tx == 1, c.n_pay == 1)
    return c.select(**_pairs(rule, c.tx_key, c.tx_key, c.pay_key, c.basis,
                             ibis.literal(0).cast(MONEY)))  # fmt: skip


def _group_key(tx: ir.Table) -> ir.Value:
    return ibis.coalesce("L:" + tx.loan_id, "R:" + tx.ref)


def _split(rule: Rule, tx: ir.Table, pay: ir.Table, pay_keys: ir.Table) -> ir.Table:
    """Several transactions of one loan on one day that together are one payment."""
    t = tx.filter(_rail_ok(rule, tx.rail)).mutate(gkey=_group_key(tx))
    t = t.filter(t.gkey.notnull())
    groups = t.group_by(["partner_id", "gkey", "value_date"]).aggregate(
        n=t.tx_key.count(),
        anchor=t.tx_key.min(),
        total=money(t.amount.sum()),
        total_gross=money(t.gross.sum()),
    )
    groups = groups.filter(groups.n >= 2)
    pk = pay_keys.semi_join(pay, pay_keys.pay_key == pay.pay_key)
    c = groups.join(pk, [groups.partner_id == pk.partner_id, groups.gkey == pk.key]).select(
        groups.anchor, groups.total, groups.total_gross, groups.value_date, pk.pay_key
    )
    c = c.join(pay.select("pay_key", pay_amount=pay.amount, paid_on=pay.paid_on), "pay_key")
    c = c.mutate(lag=c.value_date.delta(c.paid_on, unit="day"))
    basis, diff = _basis(rule, c.total, c.total_gross, c.pay_amount)
    c = c.mutate(basis=basis, diff=diff)
    c = c.filter(_in_window(rule, c.lag), _amount_test(rule, c.diff, c.pay_amount))
    best = _mutual_best(c, "anchor", "pay_key", [c.diff.abs(), c.lag.abs()])
    members = t.select("tx_key", "partner_id", "gkey", "value_date")
    anchors = groups.select("anchor", g_partner="partner_id", g_key="gkey", g_day="value_date")
    m = members.join(
        anchors,
        [
            members.partner_id == anchors.g_partner,
            members.gkey == anchors.g_key,
            members.value_date == anchors.g_day,
        ],
    ).select("tx_key", "anchor")
    out = m.join(best, "anchor")
    return out.select(**_pairs(rule, out.anchor, out.tx_key, out.pay_key, out.basis, out.diff))


def _batch(rule: Rule, tx: ir.Table, pay: ir.Table) -> ir.Table:
    """One transaction settling every open payment of its partner on one day (daily batch)."""
    groups = pay.group_by(["partner_id", "paid_on"]).aggregate(
        n=pay.pay_key.count(), total=money(pay.amount.sum())
    )
    t = tx.filter(_rail_ok(rule, tx.rail)).select(
        "tx_key", t_partner="partner_id", value_date="value_date", amount="amount", gross="gross"
    )
    c = t.join(groups, t.t_partner == groups.partner_id)
    c = c.mutate(lag=c.value_date.delta(c.paid_on, unit="day"))
    basis, diff = _basis(rule, c.amount, c.gross, c.total)
    c = c.mutate(basis=basis, diff=diff, anchor=c.partner_id + "|" + c.paid_on.cast("string"))
    c = c.filter(_in_window(rule, c.lag), _amount_test(rule, c.diff, c.total))
    best = _mutual_best(c, "tx_key", "anchor", [c.diff.abs(), c.lag.abs()])
    members = pay.select("pay_key", m_partner="partner_id", m_day="paid_on")
    out = best.join(members, [best.partner_id == members.m_partner, best.paid_on == members.m_day])
    return out.select(**_pairs(rule, out.tx_key, out.tx_key, out.pay_key, out.basis, out.diff))


def manual_pairs(manual: ir.Table, tx: ir.Table, pay: ir.Table) -> ir.Table:
    """Pairs a person made (``manual_matches``: partner_id, external_id, payment_id).

    The first report of the transaction is the one matched; rule ``manual``, confidence 1.
    """
    t = tx.filter(tx.copy_rank == 0).select("tx_key", "partner_id", "external_id", "amount")
    m = manual.select("partner_id", "external_id", "payment_id").distinct()
    j = m.join(t, [m.partner_id == t.partner_id, m.external_id == t.external_id])
    p = pay.select("pay_key", pay_amount="amount")
    j = j.join(p, j.payment_id == p.pay_key)
    group_tx = j.amount.sum().over(group_by=j.pay_key)
    return j.select(
        rule=ibis.literal("manual"),
        confidence=ibis.literal(1.0, type="float64"),
        group_anchor=j.tx_key,
        tx_key=j.tx_key,
        pay_key=j.pay_key,
        basis=ibis.literal("gross"),
        group_difference=money(group_tx - j.pay_amount),
    )


def reversal_pairs(rev: ir.Table, pay: ir.Table, tx_keys: ir.Table, pay_keys: ir.Table,
                   window_days: int) -> ir.Table:  # fmt: skip
    """A reversal, return or chargeback paired with the payment it takes back."""
    tk = tx_keys.semi_join(rev, tx_keys.tx_key == rev.tx_key)
    pk = pay_keys.semi_join(pay, pay_keys.pay_key == pay.pay_key)
    cand = tk.join(pk, [tk.partner_id == pk.partner_id, tk.key == pk.key]).select(
        tk.tx_key, pk.pay_key
    )
    t = rev.select("tx_key", "abs_amount", "gross", "value_date")
    p = pay.select("pay_key", pay_amount="amount", paid_on="paid_on", p_status="status")
    c = cand.join(t, "tx_key").join(p, "pay_key")
    c = c.mutate(lag=c.value_date.delta(c.paid_on, unit="day"))
    c = c.filter(
        c.lag.between(0, window_days), (c.abs_amount == c.pay_amount) | (c.gross == c.pay_amount)
    )
    order = [(c.p_status != "reversed").cast("int8"), c.lag]
    best = _mutual_best(c, "tx_key", "pay_key", order)
    return best.select(
        rule=ibis.literal("reversal"),
        confidence=ibis.literal(1.0, type="float64"),
        group_anchor=best.tx_key,
        tx_key=best.tx_key,
        pay_key=best.pay_key,
        basis=ibis.ifelse(best.abs_amount == best.pay_amount, "gross", "net_plus_fee"),
        group_difference=ibis.literal(0).cast(MONEY),
    )


def _fmt(value: ir.Value) -> ir.StringValue:
    return value.cast(dtypes.Decimal(18, 2)).cast("string")


def finish_matches(pairs: ir.Table, tx: ir.Table, pay: ir.Table, as_of: dt.date) -> ir.Table:
    """The ``reconciliation_matches`` table (MATCH_COLUMNS) from the pairs of every rule."""
    t = tx.select(
        "tx_key", "partner_id", "rail", "external_id", "source_file", "source_line",
        "value_date", tx_amount="amount", tx_fee="fee",
    )  # fmt: skip
    p = pay.select("pay_key", "payment_id", "loan_id", "paid_on", "status",
                   payment_amount="amount")  # fmt: skip
    j = pairs.join(t, "tx_key").join(p, "pay_key")
    lag = j.value_date.delta(j.paid_on, unit="day").cast("int32")
    status_off = (j.rule == "reversal") & (j.status != "reversed")
    amount_off = (j.group_difference != 0) & (j.rule != "reversal")
    field = ibis.cases(
        (status_off, "status"),
        (amount_off, "amount"),
        else_=ibis.null(dtypes.string),
    )
    detail = ibis.cases(
        (
            status_off,
            "status: partner reversed the payment on " + j.value_date.cast("string")
            + ", lender still has it " + j.status,
        ),
        (
            amount_off,
            "amount: partner " + ibis.ifelse(j.basis == "gross", "amount", "amount + fee")
            + " differs from the payment by " + _fmt(j.group_difference),
        ),
        else_=ibis.null(dtypes.string),
    )  # fmt: skip
    mismatch = status_off | (amount_off & (j.rule == "reference_mismatch"))
    ident = (j.rule + "|" + j.tx_key + "|" + j.pay_key).hexdigest("md5")
    group = (j.rule + "|" + j.group_anchor).hexdigest("md5")
    return j.select(
        match_id="M-" + ident.substr(0, 20),
        match_group="G-" + group.substr(0, 20),
        rule=j.rule,
        confidence=j.confidence,
        match_status=ibis.ifelse(mismatch, "mismatch", "matched"),
        partner_id=j.partner_id,
        rail=j.rail,
        external_id=j.external_id,
        tx_key=j.tx_key,
        source_file=j.source_file,
        source_line=j.source_line,
        payment_id=j.payment_id,
        loan_id=j.loan_id,
        tx_amount=j.tx_amount,
        tx_fee=j.tx_fee,
        payment_amount=j.payment_amount,
        amount_basis=j.basis,
        difference=j.group_difference,
        value_date=j.value_date,
        paid_on=j.paid_on,
        lag_days=lag,
        mismatch_field=field,
        mismatch_detail=detail,
        as_of=ibis.literal(as_of, type="date"),
    )
