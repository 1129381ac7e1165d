"""Payment exceptions from a reconciliation: root cause, ageing and auto-resolution.

Every exception row carries the auto-resolution verdict; ``exception_actions`` is the audit log
(one row per exception: what was done, by which rule and why) and ``applied_payments`` the
credits applied to loans, in the data contract's ``payments`` format for the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir

from cobranza.contract import MONEY as CONTRACT_MONEY
from cobranza.payments.reconcile import Reconciliation
from cobranza.payments.reconcile._prepare import MONEY

__all__ = [
    "ACTION_COLUMNS",
    "AGEING_BUCKETS",
    "APPLIED_PAYMENT_COLUMNS",
    "EXCEPTION_COLUMNS",
    "ROOT_CAUSES",
    "Exceptions",
    "payment_exceptions",
]

ROOT_CAUSES = (
    "unapplied_credit", "unsettled_payment", "amount_mismatch", "duplicate", "reversal",
    "late_settlement", "unknown_reference",
)  # fmt: skip
#: Ageing buckets (days since the value date), lower bound → label.
AGEING_BUCKETS = ((0, "0-2"), (3, "3-7"), (8, "8-15"), (16, "16-30"), (31, "31+"))

#: ``payment_exceptions`` (INTERFACES.md §F), in order.
EXCEPTION_COLUMNS = (
    "exception_id", "root_cause", "partner_id", "rail", "external_id", "payment_id", "loan_id",
    "amount", "difference", "detail", "value_date", "detected_on", "age_days", "ageing_bucket",
    "status", "resolution",
)  # fmt: skip
#: ``exception_actions``: the audit log of the automatic resolution.
ACTION_COLUMNS = (
    "action_id", "exception_id", "root_cause", "action", "rule", "actor", "acted_on",
    "resulting_status", "reason", "applied_payment_id",
)  # fmt: skip
#: ``applied_payments``: the contract's ``payments`` columns.
APPLIED_PAYMENT_COLUMNS = (
    "payment_id", "loan_id", "paid_at", "amount", "channel", "partner_id", "reference", "status",
)  # fmt: skip

_CHANNELS = ("spei", "oxxo", "card", "direct_debit", "codi", "cash")


@dataclass
class Exceptions:
    """``payment_exceptions``, ``exception_actions`` and ``applied_payments`` (engine tables)."""

    exceptions: ir.Table
    actions: ir.Table
    applied_payments: ir.Table


def _fmt(value: ir.Value) -> ir.StringValue:
    return value.cast(dtypes.Decimal(18, 2)).cast("string")


def _null(kind: str) -> ir.Value:
    return ibis.null(kind)


def _row(
    root_cause: str,
    anchor: ir.StringValue,
    *,
    partner_id: ir.Value,
    rail: ir.Value,
    external_id: ir.Value,
    payment_id: ir.Value,
    loan_id: ir.Value,
    amount: ir.Value,
    difference: ir.Value,
    detail: ir.Value,
    value_date: ir.Value,
    status: ir.Value,
    action: ir.Value,
    rule: ir.Value,
    reason: ir.Value,
    applied_payment_id: ir.Value,
    tx_key: ir.Value,
) -> dict[str, ir.Value]:
    ident = (ibis.literal(root_cause) + "|" + partner_id + "|" + anchor).hexdigest("md5")
    return {
        "exception_id": ("EX-" + ident.substr(0, 20)).cast("string"),
        "root_cause": ibis.literal(root_cause).cast("string"),
        "partner_id": partner_id.cast("string"),
        "rail": rail.cast("string"),
        "external_id": external_id.cast("string"),
        "payment_id": payment_id.cast("string"),
        "loan_id": loan_id.cast("string"),
        "amount": amount.cast(MONEY),
        "difference": difference.cast(MONEY),
        "detail": detail.cast("string"),
        "value_date": value_date.cast("date"),
        "status": status.cast("string"),
        "action": action.cast("string"),
        "rule": rule.cast("string"),
        "reason": reason.cast("string"),
        "applied_payment_id": applied_payment_id.cast("string"),
        "tx_key": tx_key.cast("string"),
    }


def payment_exceptions(rec: Reconciliation) -> Exceptions:
    """Classify what reconciliation left (and what it matched badly) into exceptions.

    Root causes (INTERFACES.md §F): ``duplicate`` (a partner reported a transaction twice —
    the copy is ignored — or the customer paid the same amount twice — flagged for refund),
    ``unapplied_credit`` (a credit for a known loan without a lender payment: the customer paid
    and we do not know it; applied automatically on ``auto_apply_rails``), ``unknown_reference``
    (a credit whose reference identifies no loan; auto-resolved when the amount-and-date rule
    found its payment), ``amount_mismatch``, ``reversal`` (the partner took back a payment the
    lender still counts, or a reversal matching no payment), ``late_settlement`` (settled later
    than the partner's contract allows; recorded) and ``unsettled_payment`` (a lender payment
    the partner has not settled within its contract days).
    """
    cfg, as_of = rec.config, rec.as_of
    tx, matches = rec.transactions, rec.matches
    unmatched = rec.unmatched_transactions
    null_s, null_m = _null("string"), _null("decimal(20, 5)")
    parts: list[ir.Table] = []

    # Copies of a transaction already reported.
    copies = unmatched.filter(unmatched.copy_rank > 0)
    parts.append(copies.select(**_row(
        "duplicate", copies.tx_key, partner_id=copies.partner_id, rail=copies.rail,
        external_id=copies.external_id, payment_id=null_s, loan_id=copies.loan_id,
        amount=copies.amount.abs(), difference=null_m,
        detail="external_id: reported again, first in " + copies.first_reported,
        value_date=copies.value_date, status=ibis.literal("auto_resolved"),
        action=ibis.literal("ignore_copy"), rule=ibis.literal("duplicate_report"),
        reason="the partner reported this transaction before (" + copies.first_reported
        + "); the copy is not counted",
        applied_payment_id=null_s, tx_key=copies.tx_key,
    )))  # fmt: skip

    credits = unmatched.filter(unmatched.kind == "credit", unmatched.copy_rank == 0)
    credits = credits.mutate(gkey=ibis.coalesce("L:" + credits.loan_id, "R:" + credits.reference))
    # The customer paid twice: same partner, loan, amount and day as a matched credit.
    settled = matches.filter(matches.rule != "reversal").select("tx_key", "payment_id").distinct()
    paid = tx.semi_join(settled, "tx_key")
    paid = paid.join(settled, "tx_key").select(
        "partner_id", "value_date", "amount", "external_id", "payment_id",
        gkey=ibis.coalesce("L:" + paid.loan_id, "R:" + paid.reference),
    )  # fmt: skip
    twin = credits.join(
        paid,
        [
            credits.partner_id == paid.partner_id,
            credits.gkey == paid.gkey,
            credits.amount == paid.amount,
            credits.value_date == paid.value_date,
        ],
    )
    twin = twin.group_by(twin.tx_key).aggregate(
        twin_external=twin.external_id_right.min(), twin_payment=twin.payment_id.min()
    )
    doubled = credits.join(twin, "tx_key")
    parts.append(doubled.select(**_row(
        "duplicate", doubled.tx_key, partner_id=doubled.partner_id, rail=doubled.rail,
        external_id=doubled.external_id, payment_id=null_s, loan_id=doubled.loan_id,
        amount=doubled.amount, difference=null_m,
        detail="amount: paid twice, same reference, amount and value date as "
        + doubled.twin_external,
        value_date=doubled.value_date, status=ibis.literal("auto_resolved"),
        action=ibis.literal("flag_refund"), rule=ibis.literal("duplicate_payment"),
        reason="same partner, reference, amount and value date as " + doubled.twin_external
        + ", which settled payment " + doubled.twin_payment + ": refund the second payment",
        applied_payment_id=null_s, tx_key=doubled.tx_key,
    )))  # fmt: skip

    single = credits.anti_join(twin, "tx_key")
    known = single.filter(single.loan_id.notnull())
    auto = known.rail.isin(list(cfg.auto_apply_rails))
    applied_id = "A-" + known.tx_key.hexdigest("md5").substr(0, 20)
    parts.append(known.select(**_row(
        "unapplied_credit", known.tx_key, partner_id=known.partner_id, rail=known.rail,
        external_id=known.external_id, payment_id=null_s, loan_id=known.loan_id,
        amount=known.amount, difference=null_m,
        detail="payment_id: credit of " + _fmt(known.amount) + " for loan " + known.loan_id
        + " has no lender payment",
        value_date=known.value_date,
        status=ibis.ifelse(auto, "auto_resolved", "open"),
        action=ibis.ifelse(auto, "apply_to_loan", "hold"),
        rule=ibis.ifelse(auto, "apply_known_reference", "no_auto_rule"),
        reason=ibis.ifelse(
            auto,
            "reference " + ibis.coalesce(known.reference, known.account, ibis.literal(""))
            + " identifies loan " + known.loan_id + "; applied as payment "
            + applied_id,
            "rail " + known.rail + " is not applied automatically: the loan is held from "
            "collection until someone applies the credit",
        ),
        applied_payment_id=ibis.ifelse(auto, applied_id, null_s), tx_key=known.tx_key,
    )))  # fmt: skip

    unknown = single.filter(single.loan_id.isnull())
    parts.append(unknown.select(**_row(
        "unknown_reference", unknown.tx_key, partner_id=unknown.partner_id, rail=unknown.rail,
        external_id=unknown.external_id, payment_id=null_s, loan_id=null_s,
        amount=unknown.amount, difference=null_m,
        detail="reference: " + ibis.coalesce(unknown.reference, ibis.literal("(none)"))
        + " identifies no loan and no payment matches",
        value_date=unknown.value_date, status=ibis.literal("open"),
        action=ibis.literal("investigate"), rule=ibis.literal("no_auto_rule"),
        reason=ibis.literal("no loan and no payment found for the credit"),
        applied_payment_id=null_s, tx_key=unknown.tx_key,
    )))  # fmt: skip
    guessed = matches.filter(matches.rule == "amount_date")
    guessed = guessed.join(tx.select("tx_key", "reference"), "tx_key")
    parts.append(guessed.select(**_row(
        "unknown_reference", guessed.tx_key, partner_id=guessed.partner_id, rail=guessed.rail,
        external_id=guessed.external_id, payment_id=guessed.payment_id,
        loan_id=guessed.loan_id, amount=guessed.tx_amount, difference=guessed["difference"],
        detail="reference: " + ibis.coalesce(guessed.reference, ibis.literal("(none)"))
        + " identifies no loan; matched to payment " + guessed.payment_id
        + " by amount and date",
        value_date=guessed.value_date, status=ibis.literal("auto_resolved"),
        action=ibis.literal("confirm_match"), rule=ibis.literal("amount_date"),
        reason="the only payment of the partner with this amount within the window ("
        + guessed.payment_id + ", confidence " + guessed.confidence.cast("string") + ")",
        applied_payment_id=null_s, tx_key=guessed.tx_key,
    )))  # fmt: skip

    off = matches.filter(matches.match_status == "mismatch", matches.mismatch_field == "amount")
    parts.append(off.select(**_row(
        "amount_mismatch", off.tx_key + "|" + off.payment_id, partner_id=off.partner_id,
        rail=off.rail, external_id=off.external_id, payment_id=off.payment_id,
        loan_id=off.loan_id, amount=off.tx_amount, difference=off["difference"],
        detail=off.mismatch_detail, value_date=off.value_date, status=ibis.literal("open"),
        action=ibis.literal("investigate"), rule=ibis.literal("no_auto_rule"),
        reason=ibis.literal("the partner's amount differs beyond tolerance"),
        applied_payment_id=null_s, tx_key=off.tx_key,
    )))  # fmt: skip

    rev = matches.filter(matches.rule == "reversal", matches.match_status == "mismatch")
    parts.append(rev.select(**_row(
        "reversal", rev.tx_key, partner_id=rev.partner_id, rail=rev.rail,
        external_id=rev.external_id, payment_id=rev.payment_id, loan_id=rev.loan_id,
        amount=rev.tx_amount.abs(), difference=null_m, detail=rev.mismatch_detail,
        value_date=rev.value_date, status=ibis.literal("open"),
        action=ibis.literal("reverse_payment"), rule=ibis.literal("no_auto_rule"),
        reason=ibis.literal("the lender must reverse the payment and re-open what it paid"),
        applied_payment_id=null_s, tx_key=rev.tx_key,
    )))  # fmt: skip
    lone = unmatched.filter(unmatched.kind == "reversal", unmatched.copy_rank == 0)
    parts.append(lone.select(**_row(
        "reversal", lone.tx_key, partner_id=lone.partner_id, rail=lone.rail,
        external_id=lone.external_id, payment_id=null_s, loan_id=lone.loan_id,
        amount=lone.amount.abs(), difference=null_m,
        detail="status: " + lone.status + " by the partner; no lender payment matches it",
        value_date=lone.value_date, status=ibis.literal("open"),
        action=ibis.literal("investigate"), rule=ibis.literal("no_auto_rule"),
        reason=ibis.literal("a reversal that takes back no known payment"),
        applied_payment_id=null_s, tx_key=lone.tx_key,
    )))  # fmt: skip

    # Settled later than the contract allows: one exception per partner transaction.
    terms = rec.payments.select(t_partner="partner_id", days="settlement_days").distinct()
    timed = matches.filter(~matches.rule.isin(["reversal", "manual"]))
    per_tx = timed.group_by(
        ["tx_key", "partner_id", "rail", "external_id", "value_date"]
    ).aggregate(
        lag=timed.lag_days.max(),
        n=timed.payment_id.count(),
        payment_id=timed.payment_id.min(),
        loan_id=timed.loan_id.min(),
        amount=timed.tx_amount.max(),
        paid_on=timed.paid_on.min(),
    )
    late = per_tx.join(terms, per_tx.partner_id == terms.t_partner)
    late = late.filter(late.lag > late.days)
    one = late.n == 1
    parts.append(late.select(**_row(
        "late_settlement", late.tx_key, partner_id=late.partner_id, rail=late.rail,
        external_id=late.external_id, payment_id=ibis.ifelse(one, late.payment_id, null_s),
        loan_id=ibis.ifelse(one, late.loan_id, null_s), amount=late.amount, difference=null_m,
        detail="value_date: settled " + late.lag.cast("string") + " days after payment on "
        + late.paid_on.cast("string") + "; contract allows " + late.days.cast("string")
        + " (" + (late.lag - late.days).cast("string") + " days late)",
        value_date=late.value_date, status=ibis.literal("auto_resolved"),
        action=ibis.literal("record_late"), rule=ibis.literal("late_matched"),
        reason=ibis.literal("money arrived and is matched; recorded against the partner's "
                            "settlement SLA"),
        applied_payment_id=null_s, tx_key=late.tx_key,
    )))  # fmt: skip

    owed = rec.unmatched_payments.filter(rec.unmatched_payments.overdue)
    parts.append(owed.select(**_row(
        "unsettled_payment", owed.payment_id, partner_id=owed.partner_id, rail=owed.channel,
        external_id=null_s, payment_id=owed.payment_id, loan_id=owed.loan_id,
        amount=owed.amount, difference=null_m,
        detail="settlement: none from " + owed.partner_id + " "
        + owed.days_outstanding.cast("string") + " days after the payment; contract allows "
        + owed.settlement_days.cast("string"),
        value_date=owed.paid_on, status=ibis.literal("open"),
        action=ibis.literal("claim_settlement"), rule=ibis.literal("no_auto_rule"),
        reason=ibis.literal("ask the partner for the settlement"),
        applied_payment_id=null_s, tx_key=null_s,
    )))  # fmt: skip

    allx = ibis.union(*parts, distinct=False)
    age = ibis.literal(as_of, type="date").delta(allx.value_date, unit="day").cast("int32")
    allx = allx.mutate(age_days=age, detected_on=ibis.literal(as_of, type="date"))
    bucket = ibis.cases(
        *[(allx.age_days >= lo, label) for lo, label in reversed(AGEING_BUCKETS)],
        else_=ibis.literal(AGEING_BUCKETS[0][1]),
    )
    resolution = ibis.ifelse(
        allx.status == "auto_resolved", allx.action + ": " + allx.reason, _null("string")
    )
    allx = allx.mutate(ageing_bucket=bucket, resolution=resolution)
    exceptions = allx.select(*EXCEPTION_COLUMNS)
    actions = allx.select(
        action_id="XA-" + (allx.exception_id + "|" + allx.action).hexdigest("md5").substr(0, 20),
        exception_id=allx.exception_id,
        root_cause=allx.root_cause,
        action=allx.action,
        rule=allx.rule,
        actor=ibis.literal("auto"),
        acted_on=allx.detected_on,
        resulting_status=allx.status,
        reason=allx.reason,
        applied_payment_id=allx.applied_payment_id,
    )
    applied = allx.filter(allx.applied_payment_id.notnull()).join(
        tx.select("tx_key", "booked_at", "reference", t_amount="amount"), "tx_key"
    )
    paid_at = ibis.coalesce(
        applied.booked_at, applied.value_date.cast(dtypes.Timestamp(timezone="UTC"))
    )
    applied_payments = applied.select(
        payment_id=applied.applied_payment_id,
        loan_id=applied.loan_id,
        paid_at=paid_at,
        amount=applied.t_amount.cast(CONTRACT_MONEY),
        channel=ibis.ifelse(applied.rail.isin(list(_CHANNELS)), applied.rail, "other"),
        partner_id=applied.partner_id,
        reference=applied.reference,
        status=ibis.literal("settled"),
    )
    return Exceptions(exceptions=exceptions, actions=actions, applied_payments=applied_payments)
