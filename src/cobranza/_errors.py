"""The exceptions cobranza raises, all in one tree.

    CobranzaError                      base of everything raised on purpose
    ├── ContractError (ValueError)      input data breaks the data contract
    │   └── InvalidPortfolio            validation found violations; carries the report
    ├── ConfigError (ValueError)        a user-owned configuration file is wrong
    └── EngineError (RuntimeError)      the execution engine failed or is missing
        └── UnsupportedOperation (NotImplementedError)
                                        the chosen engine cannot do what was asked

Every error subclasses a built-in so callers that do not know cobranza can still catch it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cobranza.contract import ValidationReport

__all__ = [
    "CobranzaError",
    "ConfigError",
    "ContractError",
    "EngineError",
    "InvalidPortfolio",
    "UnsupportedOperation",
]


class CobranzaError(Exception):
    """Base class of every error cobranza raises on purpose."""


class ContractError(CobranzaError, ValueError):
    """Input data breaks the data contract (missing table, unreadable file, bad value)."""


class InvalidPortfolio(ContractError):
    """Validation found violations; ``report`` lists them with table, row, column and reason."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.summary())


class ConfigError(CobranzaError, ValueError):
    """A user-owned configuration file is wrong; the message names the file and line."""


class EngineError(CobranzaError, RuntimeError):
    """The execution engine failed or is not installed."""


class UnsupportedOperation(EngineError, NotImplementedError):
    """The chosen engine cannot perform the requested operation (see ``engine.UNSUPPORTED``)."""
