"""The weekly, monthly and quarterly credit results (WCR, MCR, QCR): HTML and PDF."""

from cobranza.reports.credit_results._data import CreditResultsData, credit_results_data
from cobranza.reports.credit_results._periods import PERIODS, period_ends
from cobranza.reports.credit_results._render import (
    CreditResultsResult,
    render_credit_results,
    write_credit_results,
)

__all__ = [
    "PERIODS",
    "CreditResultsData",
    "CreditResultsResult",
    "credit_results_data",
    "period_ends",
    "render_credit_results",
    "write_credit_results",
]
