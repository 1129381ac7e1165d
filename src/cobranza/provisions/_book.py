"""``cobranza provisions``: the provisions of a portfolio folder written to an output folder."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import ibis

from cobranza._atomic import atomic_directory
from cobranza._version import __version__
from cobranza.contract import discover, load_valid
from cobranza.engine import Engine, connect
from cobranza.ledger import DEFAULT_BUCKETS, Buckets, account_states
from cobranza.portfolio import month_ends
from cobranza.provisions._checks import ProvisionInputError
from cobranza.provisions._params import ParameterFile
from cobranza.provisions._run import (
    ROLLRATE_MONTHS,
    compute_provisions,
    provision_summary,
    resolve_params,
)
from cobranza.provisions._walk import allowance_movements, allowance_walk, stage_transfers

#: Files ``write_provisions`` writes (the walk files only with an opening date).
PROVISION_OUTPUTS = ("provisions", "provision_summary")
WALK_OUTPUTS = ("allowance_movements", "allowance_walk", "stage_transfers")


@dataclass
class ProvisionsResult:
    """What ``write_provisions`` wrote."""

    out: Path
    as_of: dt.date
    method: str
    outputs: dict[str, Path] = field(default_factory=dict)


def _date(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def write_provisions(
    data: str | Path,
    as_of: dt.date | str,
    out: str | Path,
    method: str,
    params: str | Path | ParameterFile | None = None,
    engine: str | Engine = "duckdb",
    *,
    opening: dt.date | str | None = None,
    buckets: Buckets = DEFAULT_BUCKETS,
) -> ProvisionsResult:
    """Validate ``data``, compute the provisions at ``as_of`` and write them to ``out``.

    Writes ``provisions.parquet`` (one row per open loan), ``provision_summary.parquet`` and
    ``provisions.json`` (method, parameter file, its source and whether it is an example);
    with ``opening`` (a date before ``as_of``) also the walk from ``opening`` to ``as_of``:
    ``allowance_movements.parquet`` (per loan), ``allowance_walk.parquet`` (per stage) and
    ``stage_transfers.parquet``. The folder appears atomically, or not at all.
    """
    as_of = _date(as_of)
    start = _date(opening) if opening is not None else None
    if start is not None and start >= as_of:
        raise ProvisionInputError(f"the opening date {start} must be before the as-of date {as_of}")
    loaded = resolve_params(method, params)
    files = discover(data)
    eng = connect(engine)
    try:
        tables = load_valid(eng, files)
        dates = sorted({as_of, *month_ends(as_of, ROLLRATE_MONTHS), *([start] if start else [])})
        eng.materialize(
            "provisions_states",
            account_states(
                tables["loans"], tables["installments"], tables["payments"], dates, buckets
            ),
        )
        states = eng.table("provisions_states")
        closing = compute_provisions(eng, tables, states, as_of, method, loaded, buckets=buckets)
        eng.materialize("provisions_closing", closing)
        closing = eng.table("provisions_closing")
        exprs: dict[str, ibis.Table] = {
            "provisions": closing.order_by("loan_id"),
            "provision_summary": provision_summary(closing).order_by("dimension_order", "value"),
        }
        if start is not None:
            # The opening book only sees states up to its own date (point in time).
            earlier = states.filter(states.as_of <= ibis.date(start))
            opening_book = compute_provisions(
                eng, tables, earlier, start, method, loaded, buckets=buckets
            )
            eng.materialize("provisions_opening", opening_book)
            movements = allowance_movements(
                eng.table("provisions_opening"), closing, tables["loans"], as_of
            )
            eng.materialize("provisions_movements", movements)
            movements = eng.table("provisions_movements")
            exprs["allowance_movements"] = movements.order_by("loan_id")
            exprs["allowance_walk"] = allowance_walk(movements).order_by("stage")
            exprs["stage_transfers"] = stage_transfers(movements).order_by("from_stage", "to_stage")
        with atomic_directory(out, replace=True) as staging:
            for name, expr in exprs.items():
                eng.write_parquet(expr, staging / f"{name}.parquet")
            manifest = {
                "cobranza_version": __version__,
                "as_of": as_of.isoformat(),
                "opening": start.isoformat() if start else None,
                "method": method,
                "engine": eng.name,
                "data": str(files.root.resolve()),
                "params": {
                    "kind": loaded.kind,
                    "name": loaded.name,
                    "version": loaded.version,
                    "example": loaded.example,
                    "source": loaded.source.model_dump(mode="json", exclude_none=True),
                },
                "outputs": sorted(f"{name}.parquet" for name in exprs),
            }
            (staging / "provisions.json").write_text(json.dumps(manifest, indent=2) + "\n")
        out_path = Path(out).resolve()
        return ProvisionsResult(
            out=out_path,
            as_of=as_of,
            method=method,
            outputs={name: out_path / f"{name}.parquet" for name in exprs},
        )
    finally:
        if not isinstance(engine, Engine):
            eng.close()
