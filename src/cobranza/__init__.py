"""cobranza: collections and payment operations for consumer lenders, Mexico first.

The public API mirrors the command line::

    import cobranza
    cobranza.generate("book", loans=10_000, seed=7)
    report = cobranza.validate("book")
    result = cobranza.run("book", as_of="2026-10-31", out="run")
"""

from cobranza._api import decide_one, generate, run, validate
from cobranza._errors import (
    CobranzaError,
    ConfigError,
    ContractError,
    EngineError,
    InvalidPortfolio,
    UnsupportedOperation,
)
from cobranza._version import __version__

__all__ = [
    "CobranzaError",
    "ConfigError",
    "ContractError",
    "EngineError",
    "InvalidPortfolio",
    "UnsupportedOperation",
    "__version__",
    "decide_one",
    "generate",
    "run",
    "validate",
]
