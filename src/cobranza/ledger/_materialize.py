"""Account states of many dates kept on an engine, in as few queries as memory allows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir

from cobranza.engine import Engine
from cobranza.ledger._buckets import DEFAULT_BUCKETS, Buckets
from cobranza.ledger._state import DATES_PER_QUERY, account_states


def materialize_states(
    engine: Engine,
    tables: Mapping[str, ir.Table],
    dates: Sequence[dt.date],
    name: str,
    buckets: Buckets = DEFAULT_BUCKETS,
) -> ir.Table:
    """The account states of ``dates`` as temporary tables ``{name}_0``, ``{name}_1``, … of
    ``engine``, at most :data:`DATES_PER_QUERY` dates each (memory grows with loans × dates);
    returns their union. ``tables`` are the contract tables (loans, installments, payments).
    """
    wanted = sorted(set(dates))
    if not wanted:
        raise ValueError("at least one as-of date is needed")
    batches = -(-len(wanted) // DATES_PER_QUERY)
    parts = []
    for i in range(batches):
        engine.materialize(
            f"{name}_{i}",
            account_states(
                tables["loans"], tables["installments"], tables["payments"],
                wanted[i::batches], buckets,
            ),
        )  # fmt: skip
        parts.append(engine.table(f"{name}_{i}"))
    return ibis.union(*parts) if len(parts) > 1 else parts[0]
