"""Reconciliation rules and tolerances: a versioned YAML file validated with pydantic.

Errors name the file, the YAML line and what is wrong (``ConfigError``), like every user-owned
configuration of the platform.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobranza.payments.readers._common import load_model

__all__ = ["BATCH_RAILS", "DEFAULT_RULES", "ReconcileConfig", "Rule", "load_reconcile_config"]

RuleKind = Literal["reference", "split", "batch", "amount_date"]
AmountTest = Literal["exact", "tolerance", "any"]


class Rule(BaseModel):
    """One matching rule; rules run in the order listed, each on what earlier rules left.

    ``kind``: ``reference`` pairs one transaction with one payment whose reference or resolved
    loan is the same; ``split`` pairs several transactions of one loan with one payment (a
    payment paid in parts); ``batch`` pairs one transaction with all payments of a partner on
    one day (a daily settlement); ``amount_date`` pairs a transaction whose reference resolves
    to nothing with the only payment of the same partner and amount in the window.
    ``window_days`` bounds the settlement lag (transaction value date − payment local date).
    ``amount``: ``exact``, ``tolerance`` (|difference| ≤ max(abs_tolerance, rel_tolerance ×
    amount)) or ``any`` (the pair is recorded as a mismatch, naming the amount difference).
    ``fees``: the payment may equal the transaction's amount plus its fee (amount sent net).
    ``rails``: only transactions of these rails (all when absent).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: RuleKind
    confidence: float = Field(gt=0, le=1)
    window_days: tuple[int, int] = (-2, 7)
    amount: AmountTest = "exact"
    fees: bool = False
    abs_tolerance: Decimal = Field(default=Decimal("1.00"), ge=0)
    rel_tolerance: Decimal = Field(default=Decimal("0.001"), ge=0, lt=1)
    passes: int = Field(default=1, ge=1, le=10)
    rails: tuple[str, ...] | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        lo, hi = self.window_days
        if lo > hi:
            raise ValueError(f"window_days [{lo}, {hi}] is empty")
        if self.kind != "reference" and self.amount == "any":
            raise ValueError(f"amount 'any' is only for reference rules, not {self.kind}")
        return self


#: Rails whose files settle many payments in one entry (statements and settlement reports).
BATCH_RAILS = ("camt", "swift_mt940", "card", "direct_debit", "cash", "other")

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(name="exact_reference", kind="reference", confidence=1.0, window_days=(-2, 7),
         passes=3),
    Rule(name="net_of_fee", kind="reference", confidence=0.98, fees=True, window_days=(-2, 7)),
    Rule(name="amount_tolerance", kind="reference", confidence=0.9, amount="tolerance",
         fees=True, window_days=(-2, 7)),
    Rule(name="date_window", kind="reference", confidence=0.8, fees=True,
         window_days=(-7, 45)),
    Rule(name="split", kind="split", confidence=0.9, fees=True, window_days=(-2, 7)),
    Rule(name="batch", kind="batch", confidence=0.9, fees=True, window_days=(0, 45),
         rails=BATCH_RAILS),
    Rule(name="reference_mismatch", kind="reference", confidence=0.5, amount="any",
         fees=True, window_days=(-2, 7)),
    Rule(name="amount_date", kind="amount_date", confidence=0.6, fees=True,
         window_days=(-2, 7)),
)  # fmt: skip


class ReconcileConfig(BaseModel):
    """Everything reconciliation and exception handling can be told.

    * ``rules``: matching rules in priority order (see :class:`Rule`).
    * ``lookback_days``: transactions valued and payments made in the ``lookback_days`` up to
      as-of are reconciled; payments up to ``max window`` days older are matchable but never
      reported (their settlements may fall inside the window).
    * ``default_settlement_days``: contract settlement days for a partner missing from the
      ``settlement_days`` mapping the caller passes.
    * ``reversal_window_days``: how long after a payment a reversal or chargeback may arrive.
    * ``numeric_reference``: SPEI numeric references are the loan number: ``loan_id`` =
      ``prefix`` + the digits left-padded to ``width`` (``"5"`` → ``L0000005``).
    * ``auto_apply_rails``: rails whose unapplied credits are applied automatically to the
      loan their reference identifies (emitting ``applied_payments``); others stay open.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    rules: tuple[Rule, ...] = DEFAULT_RULES
    lookback_days: int = Field(default=60, ge=1)
    default_settlement_days: int = Field(default=3, ge=0)
    reversal_window_days: int = Field(default=120, ge=0)
    numeric_reference_prefix: str | None = "L"
    numeric_reference_width: int = Field(default=7, ge=1, le=18)
    auto_apply_rails: tuple[str, ...] = ("spei", "codi")

    @model_validator(mode="after")
    def _unique_names(self) -> ReconcileConfig:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(dupes)}")
        if "manual" in names or "reversal" in names:
            raise ValueError("'manual' and 'reversal' are reserved rule names")
        return self

    @property
    def max_window(self) -> int:
        return max([r.window_days[1] for r in self.rules if r.enabled] + [0])


def load_reconcile_config(path: Path) -> ReconcileConfig:
    """Read and validate a reconciliation YAML; ConfigError names the file and line of problems.

    An empty file means every default rule and tolerance."""
    return load_model(path, ReconcileConfig, what="configuration", empty_ok=True)
