"""Reconcile partner transactions with the lender's payments, rule by rule, in the engine."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from cobranza.engine import Engine
from cobranza.payments.reconcile._config import ReconcileConfig
from cobranza.payments.reconcile._match import (
    PAIR_COLUMNS,
    finish_matches,
    manual_pairs,
    reversal_pairs,
    rule_pairs,
)
from cobranza.payments.reconcile._prepare import (
    MONEY,
    known_loans,
    partner_terms,
    prepare_payments,
    prepare_transactions,
    reference_directory,
)

__all__ = ["UNMATCHED_PAYMENT_COLUMNS", "UNMATCHED_TRANSACTION_COLUMNS", "Reconciliation",
           "reconcile"]  # fmt: skip

_counter = itertools.count()

#: Columns of ``unmatched_transactions``.
UNMATCHED_TRANSACTION_COLUMNS = (
    "tx_key", "partner_id", "rail", "external_id", "kind", "status", "value_date", "booked_at",
    "amount", "fee", "currency", "reference", "account", "loan_id", "copy_rank",
    "first_reported", "source_file", "source_line", "source_element",
)  # fmt: skip
#: Columns of ``unmatched_payments``.
UNMATCHED_PAYMENT_COLUMNS = (
    "payment_id", "loan_id", "partner_id", "channel", "reference", "paid_at", "paid_on",
    "amount", "settlement_days", "days_outstanding", "overdue",
)  # fmt: skip


@dataclass
class Reconciliation:
    """The result of :func:`reconcile`: engine tables (materialised, bound by name).

    ``matches`` is ``reconciliation_matches``; ``unmatched_transactions`` holds credits and
    reversals no rule paired (copies of a transaction included); ``unmatched_payments`` the
    lender's settled payments no settlement paired, with ``overdue`` when the partner's
    settlement days have passed. ``transactions`` and ``payments`` are the prepared inputs the
    exception step reads. :meth:`drop` releases the engine tables.
    """

    engine: Engine
    as_of: dt.date
    config: ReconcileConfig
    matches: ir.Table
    unmatched_transactions: ir.Table
    unmatched_payments: ir.Table
    transactions: ir.Table
    payments: ir.Table
    names: list[str] = field(default_factory=list)

    def drop(self) -> None:
        for name in reversed(self.names):
            self.engine.drop(name)
        self.names.clear()


class _Scratch:
    """Engine tables of one reconciliation, named uniquely so runs can coexist."""

    def __init__(self, engine: Engine, prefix: str) -> None:
        self.engine = engine
        self.prefix = f"{prefix}{next(_counter)}_"
        self.names: list[str] = []

    def name(self, name: str) -> str:
        full = self.prefix + name
        self.names.append(full)
        return full

    def keep(self, name: str, expr: ir.Table) -> ir.Table:
        full = self.name(name)
        self.engine.materialize(full, expr)
        return self.engine.table(full)

    def count(self, table: ir.Table) -> int:
        return int(self.engine.fetch(table.count().name("n").as_table()).column(0)[0].as_py())


def _payment_keys(pay: ir.Table) -> ir.Table:
    """``L:`` + loan id for every payment, and ``R:`` + reference when it has one."""
    by_ref = pay.filter(pay.ref.notnull()).select(
        partner_id=pay.partner_id.cast("string"),
        key=("R:" + pay.ref).cast("string"),
        pay_key=pay.pay_key.cast("string"),
    )
    by_loan = pay.select(
        partner_id=pay.partner_id.cast("string"),
        key=("L:" + pay.loan_id).cast("string"),
        pay_key=pay.pay_key.cast("string"),
    )
    return ibis.union(by_ref, by_loan, distinct=False)


def _transaction_keys(tx: ir.Table) -> ir.Table:
    """One key per transaction: its loan when the reference resolves, else the reference.

    A reference that resolves to a loan resolves for every payment carrying it (the directory
    holds the lender's references), so the loan key finds them all; a single key per side
    keeps candidate pairs unique without a DISTINCT.
    """
    key = ibis.coalesce("L:" + tx.loan_id, "R:" + tx.ref)
    t = tx.filter(key.notnull())
    return t.select(
        partner_id=t.partner_id.cast("string"),
        key=ibis.coalesce("L:" + t.loan_id, "R:" + t.ref).cast("string"),
        tx_key=t.tx_key.cast("string"),
    )


def reconcile(
    engine: Engine,
    transactions: ir.Table,
    payments: ir.Table,
    as_of: dt.date,
    *,
    loans: ir.Table | None = None,
    references: ir.Table | None = None,
    manual_matches: ir.Table | None = None,
    settlement_days: Mapping[str, int] | None = None,
    config: ReconcileConfig | None = None,
    prefix: str = "rec",
) -> Reconciliation:
    """Match ``partner_transactions`` to the lender's ``payments`` as of ``as_of``.

    Args:
        engine: The engine the unbound tables are registered on; intermediate results are
            materialised there (no row comes to Python).
        transactions: ``partner_transactions`` (cobranza.payments.PARTNER_TRANSACTIONS).
        payments: The lender's ``payments`` (data contract).
        as_of: Nothing valued or paid after this (Mexico City) date is used.
        loans: Optional ``loans`` (``loan_id``): which loan numbers exist.
        references: Optional directory (``reference``, ``loan_id``): CLABEs, cash references.
        manual_matches: Optional (``partner_id``, ``external_id``, ``payment_id``): pairs a
            person made; they are taken first and never undone.
        settlement_days: Contract settlement days per partner (others get the default).
        config: Rules and tolerances (defaults: :data:`DEFAULT_RULES`).
    """
    cfg = config or ReconcileConfig()
    s = _Scratch(engine, prefix)
    terms_in = s.name("terms_in")
    terms = s.keep("terms", partner_terms(engine, terms_in, transactions, settlement_days, cfg))
    directory = s.keep(
        "directory", reference_directory(payments, as_of, loans=loans, references=references)
    )
    tx = s.keep(
        "tx",
        prepare_transactions(transactions, directory, known_loans(payments, loans), as_of, cfg),
    )
    pay = s.keep("pay", prepare_payments(payments, terms, as_of, cfg))
    tx_keys = s.keep("tx_keys", _transaction_keys(tx))
    pay_keys = s.keep("pay_keys", _payment_keys(pay))

    credits = tx.filter(tx.kind == "credit", tx.copy_rank == 0)
    found: list[ir.Table] = []

    def still_open() -> tuple[ir.Table, ir.Table]:
        # Anti-joins against the (materialised) pairs so far: no copy of the open sets.
        if not found:
            return credits, pay
        taken = ibis.union(
            *[f.select(tx_key=f.tx_key.cast("string"), pay_key=f.pay_key.cast("string"))
              for f in found],
            distinct=False,
        )  # fmt: skip
        return credits.anti_join(taken, "tx_key"), pay.anti_join(taken, "pay_key")

    if manual_matches is not None:
        found.append(s.keep("pairs_manual", manual_pairs(manual_matches, tx, pay)))
    for index, rule in enumerate(r for r in cfg.rules if r.enabled):
        for run in range(rule.passes):
            open_tx, open_pay = still_open()
            pairs = s.keep(
                f"pairs_{index}_{run}", rule_pairs(rule, open_tx, open_pay, tx_keys, pay_keys)
            )
            found.append(pairs)
            if run + 1 < rule.passes and s.count(pairs) == 0:
                break
    reversals = tx.filter(tx.kind == "reversal", tx.copy_rank == 0)
    found.append(
        s.keep(
            "pairs_reversal",
            reversal_pairs(reversals, pay, tx_keys, pay_keys, cfg.reversal_window_days),
        )
    )
    # Engines type decimal expressions their own way; pin the pair schema before the union.
    pair_schema = {
        **dict.fromkeys(PAIR_COLUMNS, "string"),
        "group_difference": MONEY,
        "confidence": "float64",
    }
    pinned = [f.select(*PAIR_COLUMNS).cast(pair_schema) for f in found]
    matches = s.keep("matches", finish_matches(ibis.union(*pinned), tx, pay, as_of))

    unmatched_tx = tx.anti_join(matches, "tx_key").select(*UNMATCHED_TRANSACTION_COLUMNS)
    settled = matches.filter(matches.rule != "reversal")
    left = pay.filter(pay.status == "settled", pay.reportable).anti_join(
        settled, pay.payment_id == settled.payment_id
    )
    outstanding = ibis.literal(as_of, type="date").delta(left.paid_on, unit="day").cast("int32")
    unmatched_pay = left.mutate(days_outstanding=outstanding).mutate(
        overdue=ibis._.days_outstanding > ibis._.settlement_days
    )
    return Reconciliation(
        engine=engine,
        as_of=as_of,
        config=cfg,
        matches=matches,
        unmatched_transactions=s.keep("unmatched_tx", unmatched_tx),
        unmatched_payments=s.keep(
            "unmatched_pay", unmatched_pay.select(*UNMATCHED_PAYMENT_COLUMNS)
        ),
        transactions=tx,
        payments=pay,
        names=s.names,
    )
