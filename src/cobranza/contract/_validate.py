"""``cobranza validate``: the checks live in :mod:`cobranza.contract._validation`, by concern.

This module keeps the names it has always offered (``RULES``, ``SYNTAX``, ``validate``, and
the contract ``TABLES`` they check against), and :func:`load_valid`, what every job that reads
a portfolio does first.
"""

from __future__ import annotations

from pathlib import Path

import ibis.expr.types as ir

from cobranza._errors import InvalidPortfolio
from cobranza.contract._load import PortfolioFiles, discover, load
from cobranza.contract._report import ValidationReport, Violation
from cobranza.contract._schema import TABLES
from cobranza.contract._validation import RULES, SYNTAX, validate
from cobranza.engine import Engine


def load_valid(engine: Engine, data: str | Path | PortfolioFiles) -> dict[str, ir.Table]:
    """Validate a portfolio, then expose it to ``engine`` as typed tables (:func:`load`).

    Raises :class:`~cobranza.InvalidPortfolio`, carrying the whole report, when the data
    breaks the contract: nothing is loaded, so nothing downstream can be half-written.
    """
    files = data if isinstance(data, PortfolioFiles) else discover(data)
    report = validate(engine, files)
    if not report.ok:
        raise InvalidPortfolio(report)
    return load(engine, files)


__all__ = [
    "RULES", "SYNTAX", "TABLES", "ValidationReport", "Violation", "load_valid", "validate",
]  # fmt: skip
