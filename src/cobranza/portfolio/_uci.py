"""The UCI "default of credit card clients" data set (Taiwan, 2005) as month-end snapshots.

Real accounts, so the same roll-rate code that runs on a lender's book can be checked on real
delinquency transitions. See ``docs/uci-roll-rates.md``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import ibis.expr.types as ir

from cobranza.contract import MONEY
from cobranza.engine import ROW_COLUMN, Engine
from cobranza.ledger import ACCOUNT_STATE_SCHEMA, DEFAULT_BUCKETS
from cobranza.portfolio._calendar import month_ends
from cobranza.portfolio._measures import ACTIVE

#: Month-end of each repayment-status month, oldest first, with its status and bill columns.
#: PAY_0 is September (the file has no PAY_1); BILL_AMT1 is September too.
UCI_MONTHS: tuple[tuple[dt.date, str, str], ...] = tuple(
    zip(
        month_ends(dt.date(2005, 9, 30), 6),
        ("PAY_6", "PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0"),
        ("BILL_AMT6", "BILL_AMT5", "BILL_AMT4", "BILL_AMT3", "BILL_AMT2", "BILL_AMT1"),
        strict=True,
    )
)


def uci_dpd(months_late: ir.IntegerValue) -> ir.IntegerValue:
    """A representative dpd for a UCI repayment status: 30·k − 15 for k ≥ 1 months of delay.

    −2 (no consumption), −1 (paid in full) and 0 (revolving) are 0 dpd. k months of delay sit
    in the middle of the k-th 30-day band, so the default buckets give 1 → 1-29, 2 → 30-59,
    3 → 60-89, 4 → 90-119, 5 and 6 → 120-179, ≥ 7 → 180+.
    """
    return ibis.ifelse(months_late >= 1, months_late * 30 - 15, 0).cast("int32")


def uci_snapshots(engine: Engine, path: str | Path, name: str = "uci_credit_card") -> ir.Table:
    """The UCI CSV at ``path`` as snapshots (``ACCOUNT_STATE_SCHEMA``), 30,000 × 6 month-ends.

    Registers the file as view ``name`` and unpivots its six months, April (PAY_6,
    BILL_AMT6) to September 2005 (PAY_0, BILL_AMT1), into one row per account and month-end:

        as_of                 = month-end of the month in 2005
        loan_id               = the account's 1-based row in the file, as a string
        status                = active (the data has no closures or write-offs)
        dpd                   = 30·k − 15 for k ≥ 1 months of delay, else 0
        bucket                = default bucket of dpd: −2, −1, 0 → current; 1 → 1-29;
                                2 → 30-59; 3 → 60-89; 4 → 90-119; 5, 6 → 120-179; ≥ 7 → 180+
        outstanding_principal = max(BILL_AMT, 0) as DECIMAL(18,2) (credit balances count as 0)

    and every other column null with its snapshot type. The result is an expression over the
    view; materialize it before running several analytics on it.
    """
    engine.register_file(name, Path(path))
    raw = engine.table(name)
    # One scan of the file: each row becomes an array of its six months, exploded.
    months = ibis.array(
        [
            ibis.struct({"as_of": ibis.literal(as_of, type="date"), "pay": raw[pay],
                         "bill": raw[bill]})
            for as_of, pay, bill in UCI_MONTHS
        ]
    )  # fmt: skip
    long = raw.select(ROW_COLUMN, month=months.unnest())
    month = long.select(
        ROW_COLUMN,
        as_of=long.month["as_of"],
        dpd=uci_dpd(long.month["pay"].cast("int32")),
        bill=long.month["bill"].cast(MONEY),
    )
    values = {
        "as_of": month.as_of,
        "loan_id": month[ROW_COLUMN].cast("string"),
        "status": ibis.literal(ACTIVE),
        "dpd": month.dpd,
        "bucket": DEFAULT_BUCKETS.expr(month.dpd),
        "outstanding_principal": ibis.greatest(month.bill, ibis.literal(0).cast(MONEY)),
    }
    return month.select(
        **{
            column: values.get(column, ibis.null()).cast(dtype)
            for column, dtype in ACCOUNT_STATE_SCHEMA.items()
        }
    )
