"""Collection decision variables and targets, computed in the engine at any as-of date.

Every variable is a typed function in ``_variables`` (Hamilton style: the name is the column,
the parameters are the inputs, description, unit and formula in the docstring); see
``docs/features.md``.
"""

from cobranza.features._compute import CATALOG, accounts_at, compute_features
from cobranza.features._driver import Driver, Variable, variable
from cobranza.features._targets import TARGET_COLUMNS, horizon, labelled, targets
from cobranza.features._write import write_features

__all__ = [
    "CATALOG",
    "TARGET_COLUMNS",
    "Driver",
    "Variable",
    "accounts_at",
    "compute_features",
    "horizon",
    "labelled",
    "targets",
    "variable",
    "write_features",
]
