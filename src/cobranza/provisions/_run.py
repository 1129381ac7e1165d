"""Provisions of a whole book at one date, by any method, and their summary.

``compute_provisions`` is what ``cobranza provisions`` and ``cobranza run`` call: it loads the
method's parameter file, computes the inputs (:mod:`cobranza.provisions._inputs`), runs the
method's vectorised expression and returns one row per open loan with the columns of
:data:`BOOK_PROVISIONS_SCHEMA`. ``provision_summary`` aggregates them by product, bucket, stage
and segment.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import ibis
import ibis.expr.types as ir

from cobranza.engine import Engine
from cobranza.ledger import DEFAULT_BUCKETS, Buckets, account_states
from cobranza.portfolio import month_ends, roll_rate_matrix, roll_rates
from cobranza.portfolio._measures import money_sum, ratio, rows
from cobranza.provisions._checks import ProvisionInputError
from cobranza.provisions._expressions import (
    PROVISIONS_SCHEMA,
    age_band_provisions,
    cnbv_provisions,
    ifrs9_provisions,
    matrix_provisions,
)
from cobranza.provisions._inputs import CNBV_VARIABLES, provision_inputs
from cobranza.provisions._markov import cumulative_pd, transition_matrix
from cobranza.provisions._params import (
    AgeBandTable,
    CnbvConsumer,
    ExampleParametersWarning,
    Ifrs9Ecl,
    Ifrs9Staging,
    ParameterFile,
    ProvisionMatrixRates,
    load_ifrs9_staging,
    load_params,
)

Method = Literal["cnbv", "ifrs9", "rollrate", "matrix", "ageband"]
#: The methods of ``compute_provisions`` and the kind of parameter file each takes.
METHODS: dict[str, type[ParameterFile]] = {
    "cnbv": CnbvConsumer,
    "ifrs9": Ifrs9Ecl,
    "rollrate": Ifrs9Ecl,
    "matrix": ProvisionMatrixRates,
    "ageband": AgeBandTable,
}
#: Bundled parameter file used when none is given.
DEFAULT_PARAMS = {
    "cnbv": "cnbv_consumer_example",
    "ifrs9": "ifrs9_ecl_example",
    "rollrate": "rollrate_example",
    "matrix": "provision_matrix_example",
    "ageband": "socap_nivel_basico",
}
#: Month-ends of snapshots the roll-rate method estimates its matrix from, when it computes them.
ROLLRATE_MONTHS = 12

#: Columns of ``compute_provisions``, in order: a method's result with the loan's product,
#: segment and dpd beside its bucket.
BOOK_PROVISIONS_SCHEMA = ibis.schema(
    {
        "as_of": "date",
        "loan_id": "string",
        "product": "string",
        "segment": "string",
        "bucket": "string",
        "dpd": "int32",
        **{n: t for n, t in PROVISIONS_SCHEMA.items() if n not in ("as_of", "loan_id", "bucket")},
    }
)
#: The dimensions of ``provision_summary``, in the order its rows come.
SUMMARY_DIMENSIONS = ("total", "product", "segment", "stage", "bucket")


def resolve_params(method: str, params: str | Path | ParameterFile | None) -> ParameterFile:
    """The parameter file of ``method``: loaded from a path or bundled name, or the default."""
    if method not in METHODS:
        raise ProvisionInputError(
            f"unknown provisions method {method!r}; expected one of {', '.join(METHODS)}"
        )
    if params is None:
        params = DEFAULT_PARAMS[method]
    loaded = params if isinstance(params, ParameterFile) else load_params(params)
    expected = METHODS[method]
    if not isinstance(loaded, expected):
        kind = expected.model_fields["kind"].annotation.__args__[0]  # type: ignore[union-attr]
        raise ProvisionInputError(
            f"method {method!r} needs a parameter file of kind {kind!r}, got {loaded.kind!r} "
            f"({loaded.name})"
        )
    if isinstance(loaded, Ifrs9Ecl):
        if method == "ifrs9" and loaded.pd is None:
            raise ProvisionInputError(
                f"method 'ifrs9' needs a pd table by bucket in {loaded.name!r}; without one, "
                "use method 'rollrate' (PD from the month-end snapshots)"
            )
        if method == "rollrate" and loaded.pd is not None:
            raise ProvisionInputError(
                f"method 'rollrate' estimates the PD from the snapshots; {loaded.name!r} has a "
                "pd table: remove it, or use method 'ifrs9'"
            )
    return loaded


def _default_staging() -> Ifrs9Staging:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExampleParametersWarning)
        return load_ifrs9_staging()


def _staging_stage(dpd: ir.IntegerValue, staging: Ifrs9Staging) -> ir.IntegerValue:
    return ibis.cases(
        (dpd >= staging.stage3_from_dpd, 3), (dpd > staging.stage2_after_dpd, 2), else_=1
    ).cast("int32")


def rollrate_pd(
    eng: Engine,
    snapshots: ir.Table,
    params: Ifrs9Ecl,
    buckets: Buckets = DEFAULT_BUCKETS,
) -> dict[str, float]:
    """Cumulative PD to default within ``params.pd_months`` months by bucket, from the pooled
    month-to-month transitions of ``snapshots`` (a small aggregate, fetched)."""
    matrix = eng.fetch(roll_rate_matrix(roll_rates(snapshots))).to_pylist()
    tm = transition_matrix(
        matrix, buckets=buckets, default_from_dpd=params.default_from_dpd, weight=params.weight
    )
    return cumulative_pd(tm, params.pd_months)


def _snapshots(
    eng: Engine, tables: Mapping[str, ir.Table], states: ir.Table, as_of: dt.date,
    buckets: Buckets,
) -> ir.Table:  # fmt: skip
    """Month-end states before ``as_of``: those in ``states`` if it holds two or more, else
    computed for the last ROLLRATE_MONTHS month-ends and materialized."""
    ends = month_ends(as_of, ROLLRATE_MONTHS)
    present = states.filter(states.as_of.isin(ends))
    found = eng.fetch(present.select("as_of").distinct()).num_rows
    if found >= 2:
        return present
    name = f"provisions_snapshots_{as_of:%Y%m%d}"
    eng.materialize(
        name,
        account_states(tables["loans"], tables["installments"], tables["payments"], ends, buckets),
    )
    return eng.table(name)


def compute_provisions(
    eng: Engine,
    tables: Mapping[str, ir.Table],
    states: ir.Table,
    as_of: dt.date,
    method: Method | str,
    params: str | Path | ParameterFile | None = None,
    *,
    buckets: Buckets = DEFAULT_BUCKETS,
) -> ir.Table:
    """Reserves of every loan open (``active``) at ``as_of``: :data:`BOOK_PROVISIONS_SCHEMA`.

    ``tables`` are the contract tables (``loans``, ``installments``, ``payments``); ``states``
    the account states (``ACCOUNT_STATE_SCHEMA``) at ``as_of`` and, optionally, at month-ends
    before it, which serve as the history of MAXATR / HIST and as the roll-rate method's
    snapshots (computed here when fewer than two month-ends are present). ``params`` is a
    parameter file (path, bundled name or loaded) of the kind the method takes, by default
    :data:`DEFAULT_PARAMS`.

    Written-off and paid-off loans are out of the book and get no row. EI = outstanding
    principal + unpaid interest of installments due before as_of. ``stage`` is the method's
    (IFRS 9, roll-rate), else the IFRS 9 stage of the bundled default thresholds (30 / 90
    dpd) so that every summary and the allowance walk can be read by stage. The inputs are
    materialized as a temporary table of ``eng``: write the result before closing it.
    """
    loaded = resolve_params(method, params)
    history = states.filter(states.as_of < ibis.date(as_of))
    inputs_name = f"provisions_inputs_{as_of:%Y%m%d}"
    inputs_expr = provision_inputs(
        dict(tables), states, as_of, history, cnbv_variables=method == "cnbv"
    )
    eng.materialize(inputs_name, inputs_expr)
    inputs = eng.table(inputs_name)
    if method == "cnbv":
        assert isinstance(loaded, CnbvConsumer)
        out = cnbv_provisions(inputs, loaded, variables=CNBV_VARIABLES, interest="interest")
    elif method in ("ifrs9", "rollrate"):
        assert isinstance(loaded, Ifrs9Ecl)
        if method == "ifrs9":
            pd = dict(loaded.pd or {})
        else:
            pd = rollrate_pd(eng, _snapshots(eng, tables, states, as_of, buckets), loaded, buckets)
        missing = sorted(set(pd) - set(loaded.lgd)) or sorted(set(loaded.lgd) - set(pd))
        if missing:
            raise ProvisionInputError(
                f"{loaded.name}: pd and lgd must cover the same buckets; {', '.join(missing)} "
                "is in one and not in the other"
            )
        risk = {bucket: (pd[bucket], loaded.lgd[bucket]) for bucket in pd}
        out = ifrs9_provisions(inputs, risk, loaded, buckets=buckets, interest="interest")
    elif method == "matrix":
        assert isinstance(loaded, ProvisionMatrixRates)
        out = matrix_provisions(inputs, loaded.loss_rates, buckets=buckets, interest="interest")
    else:
        assert isinstance(loaded, AgeBandTable)
        out = age_band_provisions(inputs, loaded, interest="interest")
    staging = loaded if isinstance(loaded, Ifrs9Staging) else _default_staging()
    extra = inputs.select("loan_id", "product", "segment", "dpd")
    joined = out.join(extra, "loan_id")
    return joined.select(
        "as_of", "loan_id", "product", "segment", "bucket", "dpd",
        method=ibis.literal(method) if method == "rollrate" else joined.method,
        stage=ibis.coalesce(joined.stage, _staging_stage(joined.dpd, staging)).cast("int32"),
        pi=joined.pi, sp=joined.sp, ei=joined.ei, rate=joined.rate, reserve=joined.reserve,
        grade=joined.grade,
    )  # fmt: skip


def provision_summary(provisions: ir.Table) -> ir.Table:
    """Reserves by product, segment, stage and bucket, and in total: one row per
    (dimension, value) with

        loans = #loans,  ei = Σ EI,  reserve = Σ reserve,  coverage = reserve ÷ ei (null if 0)

    ``dimension`` ∈ :data:`SUMMARY_DIMENSIONS`; ``value`` is the product, segment, stage
    (as text) or bucket, and ``all`` for the total. Sums are exact DECIMAL(18,2).
    """
    parts = []
    for dimension in SUMMARY_DIMENSIONS:
        if dimension == "total":
            value = ibis.literal("all")
        else:
            value = provisions[dimension].cast("string")
        keyed = provisions.mutate(dimension=ibis.literal(dimension), value=value)
        parts.append(
            keyed.group_by("as_of", "method", "dimension", "value").aggregate(
                loans=rows(keyed),
                ei=money_sum(keyed.ei),
                reserve=money_sum(keyed.reserve),
            )
        )
    out = ibis.union(*parts)
    return out.select(
        "as_of", "method", "dimension", "value", "loans", "ei", "reserve",
        coverage=ratio(out.reserve, out.ei),
        dimension_order=ibis.cases(
            *[(out.dimension == d, i) for i, d in enumerate(SUMMARY_DIMENSIONS)]
        ).cast("int32"),
    )  # fmt: skip
