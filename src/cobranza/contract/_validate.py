"""``cobranza validate``: the checks live in :mod:`cobranza.contract._validation`, by concern.

This module keeps the names it has always offered (``RULES``, ``SYNTAX``, ``validate``, and
the contract ``TABLES`` they check against).
"""

from cobranza.contract._report import ValidationReport, Violation
from cobranza.contract._schema import TABLES
from cobranza.contract._validation import RULES, SYNTAX, validate

__all__ = ["RULES", "SYNTAX", "TABLES", "ValidationReport", "Violation", "validate"]
