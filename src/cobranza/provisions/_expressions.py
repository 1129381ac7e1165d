"""Vectorised provisions: Ibis expressions over an ``account_state``-shaped table.

Each function takes the account states (``ACCOUNT_STATE_SCHEMA``; the IFRS 9 and CNBV methods
also need the loans' columns the caller joins: ``annual_rate``, ``frequency``,
``remaining_days``, the CNBV model variables) and returns one row per open account (paid-off
accounts carry no exposure and are left out) with the columns of :data:`PROVISIONS_SCHEMA`:

    as_of, loan_id, bucket, method, stage, pi, sp, ei, rate, reserve, grade

``rate`` is the reserve percentage of EI (9 places) and ``reserve`` = EI × rate in centavos,
rounded half-even; columns a method does not have (a stage, a PI, a grade) are null. Every step
mirrors the scalar function named in the docstring, so both give the same centavos.

The computation runs in a few nested selects: whatever is reused (stage, ATR, the exact
product) becomes a column of an inner select instead of being repeated in the SQL. Only
integer, decimal and string columns are passed between them, because Ibis's PySpark compiler
cannot reference a float column unless Ibis's own PySpark backend has been loaded; for the same
reason CNBV variables should be DECIMAL or integer columns when running on Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ibis
import ibis.expr.types as ir

from cobranza.contract import MONEY
from cobranza.ledger import DEFAULT_BUCKETS, PAID_OFF, WRITTEN_OFF, Buckets
from cobranza.provisions._checks import ProvisionInputError, probability
from cobranza.provisions._cnbv import REVOLVING
from cobranza.provisions._formulas import DAYS_PER_PERIOD
from cobranza.provisions._matrix import loss_rate
from cobranza.provisions._money import (
    RATE,
    exact_reserve_expr,
    float_literal,
    half_even_cents_expr,
    half_up_cents_expr,
    rate_decimal_expr,
    rate_literal,
    recast,
)
from cobranza.provisions._params import (
    AgeBandTable,
    CnbvConsumer,
    CnbvSegment,
    Ifrs9Staging,
    LogitModel,
)

#: Columns of every provisions result, in order.
PROVISIONS_SCHEMA = ibis.schema(
    {
        "as_of": "date",
        "loan_id": "string",
        "bucket": "string",
        "method": "string",
        "stage": "int32",
        "pi": "float64",
        "sp": "float64",
        "ei": MONEY,
        "rate": RATE,
        "reserve": MONEY,
        "grade": "string",
    }
)

_KEYS = ("as_of", "loan_id", "bucket")
Column = Callable[[ir.Table], ir.Value]


def _open_accounts(state: ir.Table, *columns: str | None) -> ir.Table:
    missing = [c for c in columns if c is not None and c not in state.columns]
    if missing:
        raise ProvisionInputError(
            f"the account states lack column(s) {', '.join(missing)}; join them from the loans"
        )
    return state.filter(state.status != PAID_OFF)


def _exposure(t: ir.Table, interest: str | None) -> ir.DecimalValue:
    """EI = outstanding principal (+ accrued interest when a column is given)."""
    ei = t.outstanding_principal if interest is None else t.outstanding_principal + t[interest]
    return recast(ei, MONEY)


def _finish(
    priced: ir.Table,
    method: str,
    *,
    pi: Column | None = None,
    sp: Column | None = None,
    grade: Column | None = None,
) -> ir.Table:
    """From (keys, stage, ei, rate, inputs) to :data:`PROVISIONS_SCHEMA`, rounding in steps."""
    step = priced.mutate(exact=exact_reserve_expr(priced.ei, priced.rate))
    step = step.mutate(up=half_up_cents_expr(step.exact))
    return step.select(
        *_KEYS,
        method=ibis.literal(method),
        stage=step.stage,
        pi=pi(step) if pi else ibis.null("float64"),
        sp=sp(step) if sp else ibis.null("float64"),
        ei=step.ei,
        rate=step.rate,
        reserve=half_even_cents_expr(step.exact, step.up),
        grade=grade(step) if grade else ibis.null("string"),
    )


def age_band_provisions(
    state: ir.Table, table: AgeBandTable, *, interest: str | None = None
) -> ir.Table:
    """Age-band reserves (twin of :func:`age_band_reserve`): rate = the band of the dpd,
    EI = outstanding principal (+ ``interest``, required when the table covers interest)."""
    if table.base == "balance_plus_interest" and interest is None:
        raise ProvisionInputError(
            f"table {table.name!r} applies to balance plus interest: pass interest='<column>' "
            "with the accrued interest joined to the account states"
        )
    t = _open_accounts(state, interest if table.base == "balance_plus_interest" else None)
    *closed, last = table.bands
    rate = ibis.cases(
        *[(t.dpd <= band.to_dpd, rate_literal(band.rate)) for band in closed],
        else_=rate_literal(last.rate),
    )
    exposure = _exposure(t, interest if table.base == "balance_plus_interest" else None)
    priced = t.select(*_KEYS, stage=ibis.null("int32"), ei=exposure, rate=recast(rate, RATE))
    return _finish(priced, f"age_bands:{table.name}")


def matrix_provisions(
    state: ir.Table,
    loss_rates: Mapping[str, object],
    *,
    buckets: Buckets = DEFAULT_BUCKETS,
    interest: str | None = None,
) -> ir.Table:
    """Provision-matrix reserves per account (twin of :func:`provision_matrix` per bucket):
    rate = loss rate of the account's bucket, EI = outstanding principal (+ ``interest``).

    ``loss_rates`` must cover every bucket of ``buckets`` and ``written_off``.
    """
    rates = {bucket: loss_rate(bucket, value) for bucket, value in loss_rates.items()}
    missing = [b for b in (*buckets.labels, WRITTEN_OFF) if b not in rates]
    if missing:
        raise ProvisionInputError(f"no loss rate for bucket(s) {', '.join(map(repr, missing))}")
    t = _open_accounts(state, interest)
    rate = ibis.cases(*[(t.bucket == b, rate_literal(r)) for b, r in rates.items()])
    priced = t.select(
        *_KEYS, stage=ibis.null("int32"), ei=_exposure(t, interest), rate=recast(rate, RATE)
    )
    return _finish(priced, "provision_matrix")


def with_remaining_days(state: ir.Table, installments: ir.Table) -> ir.Table:
    """The account states with ``remaining_days`` = last installment's due date − as_of.

    Null for revolving products, which have no contractual maturity (the stage-2 formula then
    uses n = 1 year). Negative once the last installment is past due (n is then 1 as well).
    """
    maturity = installments.group_by("loan_id").aggregate(maturity=installments.due_date.max())
    joined = state.left_join(maturity, "loan_id")
    days = joined.maturity.delta(joined.as_of, unit="day")
    remaining = ibis.ifelse(joined.product == REVOLVING, ibis.null("int32"), days.cast("int32"))
    return joined.select(*state.columns, remaining_days=remaining)


def _bucket_lookup(t: ir.Table, values: Mapping[str, float]) -> ir.FloatingValue:
    return ibis.cases(*[(t.bucket == b, float_literal(v)) for b, v in values.items()])


def ifrs9_provisions(
    state: ir.Table,
    risk: Mapping[str, tuple[float, float]],
    staging: Ifrs9Staging,
    *,
    buckets: Buckets = DEFAULT_BUCKETS,
    annual_rate: str = "annual_rate",
    remaining_days: str = "remaining_days",
    interest: str | None = None,
) -> ir.Table:
    """IFRS 9 staging and reserves (twins :func:`ifrs9_stage` and :func:`ifrs9_reserve`).

    ``risk`` maps every bucket of ``buckets`` and ``written_off`` to its (PI, SP), e.g. the
    roll-rate PD of the bucket and a loss-given-default; stage 3 takes PI = 1.

        stage  = 3 if written off or dpd ≥ stage3_from_dpd; 2 if dpd > stage2_after_dpd; else 1
        rate   = PI·SP (stages 1, 3)
                 max{PI·SP ; PI·SP ÷ (r + PI) · [1 − ((1 − PI) ÷ (1 + r))^n]} (stage 2)
        n      = max(remaining_days ÷ 365.25, 1), 1 when remaining_days is null
        r      = ``annual_rate`` (the loan's rate, 0.45 = 45 %)
    """
    missing = [b for b in (*buckets.labels, WRITTEN_OFF) if b not in risk]
    if missing:
        raise ProvisionInputError(f"no (PI, SP) for bucket(s) {', '.join(map(repr, missing))}")
    pis = {b: probability(f"PI of {b!r}", pi) for b, (pi, _) in risk.items()}
    sps = {b: probability(f"SP of {b!r}", sp) for b, (_, sp) in risk.items()}
    t = _open_accounts(state, annual_rate, remaining_days, interest)
    stage = ibis.cases(
        (t.status == WRITTEN_OFF, 3),
        (t.dpd >= staging.stage3_from_dpd, 3),
        (t.dpd > staging.stage2_after_dpd, 2),
        else_=1,
    )
    staged = t.select(
        *_KEYS, "dpd", stage=stage.cast("int32"), ei=_exposure(t, interest),
        annual_rate=t[annual_rate], remaining_days=t[remaining_days],
    )  # fmt: skip
    one = float_literal(1.0)

    def pi(s: ir.Table) -> ir.FloatingValue:
        return ibis.ifelse(s.stage == 3, one, _bucket_lookup(s, pis))

    def sp(s: ir.Table) -> ir.FloatingValue:
        return _bucket_lookup(s, sps)

    p, r = pi(staged), staged.annual_rate.cast("float64")
    days = staged.remaining_days
    years = ibis.ifelse(
        days.isnull(),
        one,
        ibis.greatest(days.cast("float64") / float_literal(float(staging.days_per_year)), one),
    )
    base = p * sp(staged)
    lifetime = base * (one - ((one - p) / (one + r)) ** years) / (r + p).nullif(0)
    stage2 = ibis.ifelse(p == 0, float_literal(0.0), ibis.greatest(base, lifetime))
    rate = ibis.ifelse(staged.stage == 2, stage2, base)
    priced = staged.mutate(rate=rate_decimal_expr(rate))
    return _finish(priced, "ifrs9", pi=pi, sp=sp)


def _logistic(z: ir.FloatingValue) -> ir.FloatingValue:
    """Twin of :func:`logistic_pi`: e = e^(−|z|); 1/(1+e) for z ≥ 0, e/(1+e) otherwise."""
    one = float_literal(1.0)
    e = (-(z.abs())).exp()
    return ibis.ifelse(z >= 0, one / (one + e), e / (one + e))


def _model_pi(s: ir.Table, model: LogitModel, variables: Mapping[str, str]) -> ir.FloatingValue:
    z = float_literal(model.intercept)
    for name, coefficient in model.coefficients.items():
        value = s.atr if name == "ATR" else s[variables[name]]
        z = z + float_literal(coefficient) * value.cast("float64")
    return ibis.ifelse(s.atr >= model.pi_one_from_atr, float_literal(1.0), _logistic(z))


def _segment_sp(s: ir.Table, segment: CnbvSegment) -> ir.FloatingValue:
    bands = reversed(segment.sp)
    return ibis.cases(*[(s.atr >= band.from_atr, float_literal(band.sp)) for band in bands])


def _segment_grade(s: ir.Table, segment: CnbvSegment) -> ir.StringValue:
    bands = segment.grades
    return ibis.cases(*[(s.rate <= rate_literal(band.up_to), band.grade) for band in bands])


def cnbv_provisions(
    state: ir.Table,
    params: CnbvConsumer,
    *,
    variables: Mapping[str, str] | None = None,
    frequency: str = "frequency",
    interest: str | None = None,
) -> ir.Table:
    """CNBV consumer reserves and grades (twin of :func:`cnbv_reserve`).

        ATR     = ceil(dpd ÷ days per period) = ⌊(dpd·q + p − 1) ÷ p⌋ with days = p/q (30.4 = 152/5)
        PI      = 1 if ATR ≥ pi_one_from_atr else 1/(1 + e^(−z)), z from the segment's model
        SP      = SP band of the ATR; EI = outstanding principal (+ ``interest``)
        rate    = PI·SP (9 places); grade = grade band of the rate

    ``variables`` maps each model variable other than ATR (MAXATR, %PAGO, …) to a column.
    """
    variables = dict(variables or {})
    models = [params.revolving.model, *params.non_revolving.models.values()]
    needed = sorted({name for m in models for name in m.coefficients if name != "ATR"})
    unmapped = [name for name in needed if name not in variables]
    if unmapped:
        raise ProvisionInputError(
            f"parameters {params.name!r} use variable(s) {', '.join(unmapped)}: map each to a "
            "column with variables={'NAME': 'column'}"
        )
    columns = sorted({variables[name] for name in needed})
    t = _open_accounts(state, frequency, interest, *columns)
    ratios = {f: days.as_integer_ratio() for f, days in DAYS_PER_PERIOD.items()}
    atr = ibis.cases(
        *[(t[frequency] == f, (t.dpd * q + (p - 1)) // p) for f, (p, q) in ratios.items()]
    )
    staged = t.select(
        *_KEYS, *columns, "product", frequency=t[frequency], atr=atr.cast("int32"),
        stage=ibis.null("int32"), ei=_exposure(t, interest),
    )  # fmt: skip
    revolving = params.revolving
    non_revolving = params.non_revolving

    def pi(s: ir.Table) -> ir.FloatingValue:
        by_frequency = [
            (s.frequency == f, _model_pi(s, model, variables))
            for f, model in non_revolving.models.items()
        ]
        return ibis.cases(
            (s.product == REVOLVING, _model_pi(s, revolving.model, variables)), *by_frequency
        )

    def sp(s: ir.Table) -> ir.FloatingValue:
        is_revolving = s.product == REVOLVING
        return ibis.ifelse(is_revolving, _segment_sp(s, revolving), _segment_sp(s, non_revolving))

    def grade(s: ir.Table) -> ir.StringValue:
        is_revolving = s.product == REVOLVING
        return ibis.ifelse(
            is_revolving, _segment_grade(s, revolving), _segment_grade(s, non_revolving)
        )

    priced = staged.mutate(rate=rate_decimal_expr(pi(staged) * sp(staged)))
    return _finish(priced, f"cnbv:{params.name}", pi=pi, sp=sp, grade=grade)
