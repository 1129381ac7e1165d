"""Loan-loss provisions: each method as a scalar function for one account and as a vectorised
Ibis expression over the account states, with the formula and its source in the docstring.

Methods: the CNBV consumer methodology (reserve = PI × SP × EI, logistic PI from ATR and the
regulation's variables), IFRS 9 expected credit loss (staging, 12-month and lifetime reserves,
the general discounted form), roll-rate (Markov) PD, the provision matrix and age-band tables
(SOCAP "Nivel Básico"). Parameters live in versioned YAML files that must cite their source.

Money is ``Decimal`` and every reserve is rounded once to centavos with ROUND_HALF_EVEN;
probabilities are ``float``. See docs/provisions.md for what is sourced and what is an example.
"""

from cobranza.provisions._age_bands import age_band_reserve
from cobranza.provisions._book import ProvisionsResult, write_provisions
from cobranza.provisions._checks import ProvisionInputError
from cobranza.provisions._cnbv import CnbvResult, cnbv_reserve
from cobranza.provisions._expressions import (
    PROVISIONS_SCHEMA,
    age_band_provisions,
    cnbv_provisions,
    ifrs9_provisions,
    matrix_provisions,
    with_remaining_days,
)
from cobranza.provisions._formulas import (
    DAYS_PER_PERIOD,
    atr,
    ifrs9_stage2_reserve,
    lifetime_ecl,
    logistic_pi,
    marginal_pd,
    twelve_month_reserve,
)
from cobranza.provisions._ifrs9 import ifrs9_reserve, ifrs9_stage
from cobranza.provisions._inputs import CNBV_VARIABLES, provision_inputs
from cobranza.provisions._markov import (
    DEFAULT,
    TransitionMatrix,
    cumulative_pd,
    lifetime_pd,
    transition_matrix,
)
from cobranza.provisions._matrix import MatrixProvision, provision_matrix
from cobranza.provisions._money import RATE, RATE_PLACES
from cobranza.provisions._params import (
    AgeBandTable,
    CnbvConsumer,
    ExampleParametersWarning,
    Ifrs9Ecl,
    Ifrs9Staging,
    ParameterFile,
    ProvisionMatrixRates,
    Source,
    bundled_params,
    load_age_bands,
    load_cnbv_params,
    load_ifrs9_staging,
    load_params,
)
from cobranza.provisions._run import (
    BOOK_PROVISIONS_SCHEMA,
    DEFAULT_PARAMS,
    METHODS,
    SUMMARY_DIMENSIONS,
    compute_provisions,
    provision_summary,
    resolve_params,
    rollrate_pd,
)
from cobranza.provisions._walk import (
    WALK_LINES,
    allowance_movements,
    allowance_walk,
    stage_transfers,
)

__all__ = [
    # the book at a date and the allowance walk
    "compute_provisions",
    "provision_summary",
    "write_provisions",
    "ProvisionsResult",
    "allowance_movements",
    "allowance_walk",
    "stage_transfers",
    "provision_inputs",
    "resolve_params",
    "rollrate_pd",
    "BOOK_PROVISIONS_SCHEMA",
    "CNBV_VARIABLES",
    "DEFAULT_PARAMS",
    "METHODS",
    "SUMMARY_DIMENSIONS",
    "WALK_LINES",
    # scalar formulas (issue #5)
    "logistic_pi",
    "atr",
    "ifrs9_stage2_reserve",
    "lifetime_ecl",
    "marginal_pd",
    "provision_matrix",
    "age_band_reserve",
    # more scalar functions
    "twelve_month_reserve",
    "ifrs9_stage",
    "ifrs9_reserve",
    "cnbv_reserve",
    "CnbvResult",
    "MatrixProvision",
    "DAYS_PER_PERIOD",
    "RATE",
    "RATE_PLACES",
    "ProvisionInputError",
    # roll-rate (Markov) PD
    "DEFAULT",
    "TransitionMatrix",
    "transition_matrix",
    "cumulative_pd",
    "lifetime_pd",
    # vectorised (Ibis)
    "PROVISIONS_SCHEMA",
    "age_band_provisions",
    "matrix_provisions",
    "ifrs9_provisions",
    "cnbv_provisions",
    "with_remaining_days",
    # parameter files
    "ParameterFile",
    "Source",
    "AgeBandTable",
    "Ifrs9Staging",
    "Ifrs9Ecl",
    "ProvisionMatrixRates",
    "CnbvConsumer",
    "ExampleParametersWarning",
    "bundled_params",
    "load_params",
    "load_age_bands",
    "load_ifrs9_staging",
    "load_cnbv_params",
]
