"""Portfolio analytics over month-end snapshots: roll rates, cure rates, vintages, KPIs.

Every function takes and returns Ibis expressions, so the same code runs on DuckDB and Spark
and gives identical results: money is summed exactly as DECIMAL(18,2) and shares divide exact
numerators and denominators converted to float64.
"""

from cobranza.portfolio._calendar import month_ends
from cobranza.portfolio._contact_history import (
    CONTACT_HISTORY_COLUMNS,
    RIGHT_PARTY_OUTCOMES,
    contact_history,
    contact_history_row,
)
from cobranza.portfolio._kpis import bucket_distribution, kpis
from cobranza.portfolio._roll_rates import cure_rates, roll_rate_matrix, roll_rates
from cobranza.portfolio._uci import uci_snapshots
from cobranza.portfolio._vintages import vintages

__all__ = [
    "CONTACT_HISTORY_COLUMNS",
    "RIGHT_PARTY_OUTCOMES",
    "bucket_distribution",
    "contact_history",
    "contact_history_row",
    "cure_rates",
    "kpis",
    "month_ends",
    "roll_rate_matrix",
    "roll_rates",
    "uci_snapshots",
    "vintages",
]
