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
from cobranza.payments.partners._scorecard import (
    ROOT_CAUSE_LABELS,
    partner_scorecard,
    render_scorecard,
    scorecard_tables,
    sigma_level,
    write_scorecard,
)

__all__ = [
    "FEE_TERMS",
    "MATCH_COLUMNS",
    "PARTNER_TERMS",
    "ROOT_CAUSE_LABELS",
    "UNMATCHED_CAUSES",
    "FeeTerms",
    "PartnerContract",
    "PartnerContracts",
    "defect_pareto",
    "fee_terms_table",
    "load_partner_contracts",
    "partner_kpis",
    "partner_scorecard",
    "partner_terms_table",
    "render_scorecard",
    "scorecard_tables",
    "settlement_latencies",
    "sigma_level",
    "write_scorecard",
]
