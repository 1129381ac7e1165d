"""Variables derived from the six months of history in the UCI credit-card data set.

The UCI file (Taiwan, 2005; 30,000 real card accounts) has per account a credit limit, four
demographic columns and six months of repayment status (``PAY_0`` = September … ``PAY_6`` =
April), bill amounts (``BILL_AMT1`` = September … ``BILL_AMT6``) and payments
(``PAY_AMT1`` = paid in September towards the August bill … ``PAY_AMT6``). The variables below
are computed in the engine, so the same expression feeds training and in-engine scoring.
"""

from __future__ import annotations

import functools
import operator
from pathlib import Path

import ibis
import ibis.expr.types as ir

from cobranza.engine import ROW_COLUMN, Engine

__all__ = ["UCI_PATH", "UCI_TARGET", "UCI_VARIABLES", "uci_features"]

#: The real data beside the project (``/work/shared/data`` from a worktree or checkout).
UCI_PATH = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "uci_credit_card"
    / "UCI_Credit_Card.csv"
)  # fmt: skip

#: 1 when the account defaulted the month after the history (October 2005).
UCI_TARGET = "default_next_month"

_STATUS = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")  # newest first
_BILL = tuple(f"BILL_AMT{i}" for i in range(1, 7))
_PAID = tuple(f"PAY_AMT{i}" for i in range(1, 7))
_RAW = ("LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE")

#: name → description of every variable :func:`uci_features` adds to the raw columns.
UCI_VARIABLES: dict[str, str] = {
    "max_delay": "max(PAY_0 … PAY_6): worst months of delay in the six months",
    "max_delay_3m": "max(PAY_0, PAY_2, PAY_3): worst delay in the last three months",
    "months_late": "number of months with PAY_k ≥ 1 (at least one month of delay)",
    "months_late_3m": "number of the last three months with PAY_k ≥ 1",
    "months_paid_full": "number of months with PAY_k = −1 (paid in full)",
    "months_no_use": "number of months with PAY_k = −2 (no consumption)",
    "delay_trend": "PAY_0 − PAY_3: delay now against three months ago",
    "util_1": "BILL_AMT1 ÷ LIMIT_BAL: utilisation in September",
    "util_mean": "mean over the six months of BILL_AMTk ÷ LIMIT_BAL",
    "util_max": "max over the six months of BILL_AMTk ÷ LIMIT_BAL",
    "util_trend": "(BILL_AMT1 − BILL_AMT6) ÷ LIMIT_BAL: change of utilisation since April",
    "pay_ratio_1": "PAY_AMT1 ÷ BILL_AMT2 (null when BILL_AMT2 ≤ 0): last payment over its bill",
    "pay_ratio_mean": "mean of PAY_AMTk ÷ BILL_AMT(k+1) over the months with a positive bill",
    "pay_ratio_min": "min of PAY_AMTk ÷ BILL_AMT(k+1) over the months with a positive bill",
    "pay_ratio_total": "ΣPAY_AMT1..5 ÷ ΣBILL_AMT2..6 (null when the bills sum to ≤ 0)",
    "paid_total": "ΣPAY_AMT1..6: amount paid in the six months",
    "bill_trend": "BILL_AMT1 − BILL_AMT3: growth of the bill over two months",
    "headroom": "LIMIT_BAL − BILL_AMT1: credit left in September",
}


def _total(values: list[ir.NumericValue]) -> ir.NumericValue:
    return functools.reduce(operator.add, values)


def uci_features(engine: Engine, path: str | Path, name: str = "uci_credit_card") -> ir.Table:
    """The UCI CSV at ``path`` as one row per account: ``loan_id``, raw columns, variables.

    ``loan_id`` is the account's 1-based row in the file; the raw columns keep their names
    (as float64), :data:`UCI_VARIABLES` are added, and ``default_next_month`` (int8) is the
    target. Ratios whose denominator is not positive are null (missing), not zero.
    """
    engine.register_file(name, Path(path))
    raw = engine.table(name)
    num = {c: raw[c].cast("float64") for c in (*_RAW, *_STATUS, *_BILL, *_PAID)}
    status = [num[c] for c in _STATUS]
    bill = [num[c] for c in _BILL]
    paid = [num[c] for c in _PAID]
    limit = num["LIMIT_BAL"]
    util = [b / limit for b in bill]

    def count(values: list[ir.NumericValue], test: object) -> ir.NumericValue:
        return _total([test(v).cast("float64") for v in values])  # type: ignore[operator]

    # PAY_AMTk pays the bill of the month before: BILL_AMT(k+1).
    ratios = [
        ibis.ifelse(bill[k + 1] > 0, paid[k] / bill[k + 1], ibis.null("float64")) for k in range(5)
    ]
    known = [r.notnull().cast("float64") for r in ratios]
    n_known = _total(known)
    ratio_sum = _total([r.fill_null(0.0) for r in ratios])
    big = ibis.literal(float("inf"))
    ratio_min = ibis.least(*[r.fill_null(big) for r in ratios])
    billed = _total(bill[1:6])
    derived = {
        "max_delay": ibis.greatest(*status),
        "max_delay_3m": ibis.greatest(*status[:3]),
        "months_late": count(status, lambda v: v >= 1),
        "months_late_3m": count(status[:3], lambda v: v >= 1),
        "months_paid_full": count(status, lambda v: v == -1),
        "months_no_use": count(status, lambda v: v == -2),
        "delay_trend": status[0] - status[3],
        "util_1": util[0],
        "util_mean": _total(util) / 6.0,
        "util_max": ibis.greatest(*util),
        "util_trend": (bill[0] - bill[5]) / limit,
        "pay_ratio_1": ratios[0],
        "pay_ratio_mean": ibis.ifelse(n_known > 0, ratio_sum / n_known, ibis.null("float64")),
        "pay_ratio_min": ibis.ifelse(n_known > 0, ratio_min, ibis.null("float64")),
        "pay_ratio_total": ibis.ifelse(
            billed > 0, _total(paid[0:5]) / billed, ibis.null("float64")
        ),
        "paid_total": _total(paid),
        "bill_trend": bill[0] - bill[2],
        "headroom": limit - bill[0],
    }
    # Row order is the file's, so a seeded split of the fetched rows is reproducible.
    return raw.order_by(ROW_COLUMN).select(
        loan_id=raw[ROW_COLUMN].cast("string"),
        **num,
        **{k: v.cast("float64") for k, v in derived.items()},
        **{UCI_TARGET: raw["default.payment.next.month"].cast("int8")},
    )
