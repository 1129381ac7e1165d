"""Payment partners: contracts in YAML, monthly KPIs against them, scorecards and defect Paretos.

See ``docs/partner-scorecards.md`` for every definition.
"""

from __future__ import annotations

from cobranza.payments.partners._contracts import (
    FEE_TERMS,
    PARTNER_TERMS,
    FeeTerms,
    PartnerContract,
    PartnerContracts,
    fee_terms_table,
    load_partner_contracts,
    partner_terms_table,
)
from cobranza.payments.partners._kpis import (
    MATCH_COLUMNS,
    UNMATCHED_CAUSES,
    defect_pareto,
    partner_kpis,
    settlement_latencies,
)

__all__ = [
    "FEE_TERMS",
    "MATCH_COLUMNS",
    "PARTNER_TERMS",
    "UNMATCHED_CAUSES",
    "FeeTerms",
    "PartnerContract",
    "PartnerContracts",
    "defect_pareto",
    "fee_terms_table",
    "load_partner_contracts",
    "partner_kpis",
    "partner_terms_table",
    "settlement_latencies",
]
