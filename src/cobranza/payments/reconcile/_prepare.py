"""Inputs of reconciliation, normalised: partner transactions and lender payments with keys.

A transaction's reference resolves to a loan through the reference directory (the loan ids,
every reference the lender already applied to a loan, an optional directory of CLABEs and cash
references) or, for SPEI numeric references, through the loan-number convention. A reference
that points at two loans resolves to none: guessing would apply money to the wrong debtor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir
import pyarrow as pa

from cobranza.engine import Engine
from cobranza.payments.reconcile._config import ReconcileConfig

__all__ = [
    "MONEY", "known_loans", "money", "partner_terms", "prepare_payments", "prepare_transactions",
    "reference_directory",
]  # fmt: skip

MEXICO_CITY = ZoneInfo("America/Mexico_City")

#: Money in reconciliation: the partner files' exact decimal(20, 5) on both sides.
MONEY = dtypes.Decimal(20, 5)


def money(value: ir.Value) -> ir.Value:
    return value.cast(MONEY)


def _norm(text: ir.StringValue) -> ir.StringValue:
    """Trimmed, upper case; a numeric reference without leading zeros (banks drop them)."""
    cleaned = text.strip().upper()
    numeric = cleaned.re_search(r"^[0-9]+$")
    unpadded = cleaned.re_replace(r"^0+", "")
    cleaned = ibis.ifelse(numeric & (unpadded == ""), "0", ibis.ifelse(numeric, unpadded, cleaned))
    return ibis.ifelse(cleaned == "", ibis.null(dtypes.string), cleaned)


def reference_directory(
    payments: ir.Table,
    as_of: dt.date,
    *,
    loans: ir.Table | None = None,
    references: ir.Table | None = None,
) -> ir.Table:
    """``ref`` → ``loan_id`` for every reference that identifies exactly one loan.

    Sources: loan ids themselves, references of the lender's payments made on or before as-of,
    and ``references`` (columns ``reference``, ``loan_id``: CLABEs, OXXO references).
    """
    # Compared with the instant the as-of day ends in Mexico City: no per-row zone conversion.
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), MEXICO_CITY)
    applied = (
        payments.filter(payments.reference.notnull(), payments.paid_at < end.astimezone(dt.UTC))
        .select("reference", "loan_id")
        .distinct()
    )
    ids = loans if loans is not None else payments.select("loan_id").distinct()
    parts = [
        applied.select(ref=_norm(applied.reference), loan_id=applied.loan_id),
        ids.select(ref=_norm(ids.loan_id), loan_id=ids.loan_id),
    ]
    if references is not None:
        parts.append(
            references.select(ref=_norm(references.reference.cast("string")),
                              loan_id=references.loan_id)
        )  # fmt: skip
    parts = [p.cast({"ref": "string", "loan_id": "string"}) for p in parts]
    union = ibis.union(*parts, distinct=True).filter(ibis._.ref.notnull())
    grouped = union.group_by("ref").aggregate(first=union.loan_id.min(), last=union.loan_id.max())
    unique = grouped.filter(grouped.first == grouped.last)
    return unique.select("ref", loan_id=unique.first)


def known_loans(payments: ir.Table, loans: ir.Table | None) -> ir.Table:
    if loans is not None:
        return loans.select(known_loan=loans.loan_id).distinct()
    return payments.select(known_loan=payments.loan_id).distinct()


def prepare_transactions(
    transactions: ir.Table,
    directory: ir.Table,
    known_loans: ir.Table,
    as_of: dt.date,
    config: ReconcileConfig,
) -> ir.Table:
    """Credits and reversals valued in the look-back window, keyed, resolved and de-duplicated.

    Columns added: ``tx_key`` (unique), ``kind`` (``credit`` | ``reversal``), ``ref`` (normalised
    reference), ``loan_id`` (resolved, nullable), ``gross`` (amount + fee, absolute),
    ``abs_amount``, ``fee0``, ``copy_rank`` (0 for the first report of a transaction, 1… for
    copies of the same partner, external id, amount, status and value date) and
    ``first_reported`` (file and line of the first report).
    """
    t = transactions
    value_date = ibis.coalesce(t.value_date, t.booking_date, t.booked_at.cast("date"))
    start = as_of - dt.timedelta(days=config.lookback_days)
    kind = ibis.cases(
        ((t.status == "settled") & (t.amount > 0), "credit"),
        (t.status.isin(["returned", "reversed"]), "reversal"),
        else_=ibis.null(dtypes.string),
    )
    key = ibis.literal("|").join(
        [
            t.partner_id,
            t.external_id,
            t.source_file,
            ibis.coalesce(t.source_line.cast("string"), ibis.literal("")),
            ibis.coalesce(t.source_element, ibis.literal("")),
        ]
    )
    base = t.mutate(
        value_date=value_date,
        kind=kind,
        tx_key=key,
        ref=_norm(t.reference),
        account_ref=_norm(t.account),
        amount=money(t.amount),
        fee=money(t.fee),
    )
    base = base.filter(
        base.kind.notnull(),
        base.value_date.notnull(),
        base.value_date <= as_of,
        base.value_date >= start,
        base.currency == "MXN",
    )
    base = base.mutate(
        abs_amount=base.amount.abs(),
        fee0=ibis.coalesce(base.fee, ibis.literal(0).cast(MONEY)),
    )
    base = base.mutate(gross=money(base.abs_amount + base.fee0))
    # SPEI numeric reference → loan number (``5`` → ``L0000005``) when the loan exists.
    if config.numeric_reference_prefix is not None:
        width = config.numeric_reference_width
        digits = base.ref.re_search(rf"^[0-9]{{1,{width}}}$")
        numeric = ibis.ifelse(
            digits,
            ibis.literal(config.numeric_reference_prefix) + base.ref.lpad(width, "0"),
            ibis.null(dtypes.string),
        )
    else:
        numeric = ibis.null(dtypes.string)
    base = base.mutate(numeric_loan=numeric)
    by_ref = directory.select(ref_d=directory.ref, loan_by_ref=directory.loan_id)
    by_acct = directory.select(acct_d=directory.ref, loan_by_acct=directory.loan_id)
    j = base.left_join(by_ref, base.ref == by_ref.ref_d)
    j = j.left_join(by_acct, j.account_ref == by_acct.acct_d)
    j = j.left_join(known_loans, j.numeric_loan == known_loans.known_loan)
    j = j.mutate(loan_id=ibis.coalesce(j.loan_by_ref, j.known_loan, j.loan_by_acct))
    j = j.drop("ref_d", "loan_by_ref", "acct_d", "loan_by_acct", "known_loan", "numeric_loan")
    same = dict(
        group_by=[j.partner_id, j.external_id, j.amount, j.status, j.value_date],
        order_by=[j.source_file, j.source_line, j.source_element, j.tx_key],
    )
    where = (
        j.source_file
        + ibis.literal(", line ")
        + ibis.coalesce(j.source_line.cast("string"), ibis.literal("?"))
    )
    return j.mutate(
        copy_rank=ibis.row_number().over(**same).cast("int32"),
        first_reported=where.first().over(**same),
    )


def prepare_payments(
    payments: ir.Table, partners: ir.Table, as_of: dt.date, config: ReconcileConfig
) -> ir.Table:
    """Lender payments that may be settled by what the window holds.

    ``paid_on`` is the Mexico City date of ``paid_at``. Payments made up to the widest rule
    window before the look-back start are matchable (their settlement may fall inside it) but
    never reported (``reportable`` false). ``settlement_days`` comes from the partner terms.
    """
    p = payments
    paid_on = p.paid_at.cast("date")
    start = as_of - dt.timedelta(days=config.lookback_days)
    earliest = start - dt.timedelta(days=config.max_window)
    p = p.mutate(
        paid_on=paid_on,
        pay_key=p.payment_id,
        ref=_norm(p.reference),
        amount=money(p.amount),
    )
    p = p.filter(
        p.status.isin(["settled", "reversed"]),
        p.paid_on <= as_of,
        p.paid_on >= earliest,
        p.partner_id.notnull(),
    )
    j = p.join(partners, p.partner_id == partners.terms_partner)
    return j.mutate(reportable=j.paid_on >= start).drop("terms_partner")


def partner_terms(
    engine: Engine,
    name: str,
    transactions: ir.Table,
    settlement_days: Mapping[str, int] | None,
    config: ReconcileConfig,
) -> ir.Table:
    """Partners in scope (those that sent transactions, and those with terms) and their days."""
    days = dict(settlement_days or {})
    engine.register_arrow(
        name,
        pa.table(
            {
                "terms_partner": pa.array(sorted(days), pa.string()),
                "days": pa.array([int(days[k]) for k in sorted(days)], pa.int32()),
            }
        ),
    )
    given = engine.table(name)
    sent = transactions.select(terms_partner=transactions.partner_id.cast("string")).distinct()
    mine = given.select(terms_partner=given.terms_partner.cast("string"))
    every = ibis.union(sent, mine, distinct=True)
    j = every.left_join(given, every.terms_partner == given.terms_partner)
    return j.select(
        terms_partner=every.terms_partner,
        settlement_days=ibis.coalesce(given.days, ibis.literal(config.default_settlement_days))
        .cast("int32"),
    )  # fmt: skip
