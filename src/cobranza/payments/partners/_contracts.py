"""Partner contracts: settlement days, success and exception thresholds, fees per rail.

User-owned YAML validated by :class:`PartnerContracts` (``docs/partner-scorecards.md``)::

    version: 1
    partners:
      stp:
        name: STP (SPEI)
        settlement_days: 0         # calendar days from the customer's payment to value date
        min_success_rate: 0.98
        max_exception_rate: 0.002
        fees:
          spei: {fixed: 3.50}      # MXN per settled transaction
      conekta:
        name: Conekta (OXXO cash)
        settlement_days: 2
        min_success_rate: 0.95
        max_exception_rate: 0.005
        fees:
          oxxo: {fixed: 10.00, percent: 2.9}   # MXN 10 plus 2.9 % of the amount

:func:`partner_terms_table` and :func:`fee_terms_table` turn the contracts into the small Arrow
tables the KPI queries join (registered on the engine by the caller).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from cobranza.payments._schema import RAILS
from cobranza.payments._yaml_models import load_model

__all__ = [
    "FEE_TERMS",
    "PARTNER_TERMS",
    "FeeTerms",
    "PartnerContract",
    "PartnerContracts",
    "fee_terms_table",
    "load_partner_contracts",
    "partner_terms_table",
]


#: A rail of ``partner_transactions`` (the keys of a contract's ``fees``).
Rail = Literal[RAILS]  # type: ignore[valid-type]


class FeeTerms(BaseModel):
    """What the partner may charge per settled transaction: ``fixed`` MXN plus ``percent`` %
    of the amount, the sum rounded half-up to centavos."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fixed: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)] = Decimal(0)
    percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=3)] = Decimal(0)


class PartnerContract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    settlement_days: Annotated[int, Field(ge=0, le=90)]
    min_success_rate: Annotated[float, Field(ge=0, le=1)]
    max_exception_rate: Annotated[float, Field(ge=0, le=1)]
    fees: dict[Rail, FeeTerms] = Field(default_factory=dict)


class PartnerContracts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    partners: Annotated[dict[str, PartnerContract], Field(min_length=1)]


def load_partner_contracts(path: Path) -> PartnerContracts:
    """Read partner contracts from YAML; :class:`~cobranza.ConfigError` names file and line."""
    return load_model(path, PartnerContracts, what="partner contracts")


PARTNER_TERMS = pa.schema(
    [
        pa.field("partner_id", pa.string(), nullable=False),
        pa.field("partner_name", pa.string()),
        pa.field("settlement_days", pa.int32(), nullable=False),
        pa.field("min_success_rate", pa.float64(), nullable=False),
        pa.field("max_exception_rate", pa.float64(), nullable=False),
    ]
)

#: ``fee_rate`` is ``percent ÷ 100`` computed exactly here, so the engines only multiply. Both
#: have 5 decimals like partner amounts: amount × rate is then DECIMAL(31, 10) on Spark and
#: exact on both engines (a wider type would make Spark round the product before ROUND(·, 2)).
FEE_TERMS = pa.schema(
    [
        pa.field("partner_id", pa.string(), nullable=False),
        pa.field("rail", pa.string(), nullable=False),
        pa.field("fee_fixed", pa.decimal128(20, 5), nullable=False),
        pa.field("fee_rate", pa.decimal128(10, 5), nullable=False),
    ]
)


def partner_terms_table(contracts: PartnerContracts) -> pa.Table:
    """One row per partner: the thresholds of its contract."""
    rows = [
        {"partner_id": pid, "partner_name": c.name, "settlement_days": c.settlement_days,
         "min_success_rate": c.min_success_rate, "max_exception_rate": c.max_exception_rate}
        for pid, c in sorted(contracts.partners.items())
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=PARTNER_TERMS)


def fee_terms_table(contracts: PartnerContracts) -> pa.Table:
    """One row per (partner, rail) with contracted fees."""
    rows = [
        {"partner_id": pid, "rail": rail, "fee_fixed": fee.fixed,
         "fee_rate": (fee.percent / 100).quantize(Decimal("1e-5"))}
        for pid, c in sorted(contracts.partners.items())
        for rail, fee in sorted(c.fees.items())
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=FEE_TERMS)
