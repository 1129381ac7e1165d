"""Write the feature table of a portfolio folder to one Parquet file, atomically."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from pathlib import Path

from cobranza.contract import discover, load_valid
from cobranza.engine import Engine, connect
from cobranza.features._compute import compute_features
from cobranza.features._targets import labelled
from cobranza.ledger import account_states

#: The engine view holding the account states the features read.
STATES_VIEW = "features_states"


def write_features(
    data: str | Path,
    as_of: dt.date,
    out: str | Path,
    engine: str | Engine = "duckdb",
    *,
    with_targets: bool = False,
) -> Path:
    """Validate the portfolio in ``data``, compute :func:`compute_features` at ``as_of`` (and
    the :func:`targets` columns when ``with_targets``) and write them to the Parquet file
    ``out``, sorted by ``loan_id``.

    The account state is computed once and kept in the engine. The file is written beside
    ``out`` under a temporary name and renamed into place, so ``out`` is the previous file or
    the new one, never half-written. Raises :class:`~cobranza.InvalidPortfolio` for bad input.
    """
    out = Path(out).resolve()
    files = discover(data)
    eng = connect(engine)
    try:
        tables = load_valid(eng, files)
        eng.materialize(
            STATES_VIEW,
            account_states(tables["loans"], tables["installments"], tables["payments"], as_of),
        )
        states = eng.table(STATES_VIEW)
        if with_targets:
            table = labelled(tables, as_of, states=states)
        else:
            table = compute_features(tables, as_of, states)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
        staging = Path(name)
        try:
            staging.unlink()  # the engines create the file themselves
            eng.write_parquet(table.order_by("loan_id"), staging)
            staging.chmod(0o644)
            staging.replace(out)
        finally:
            with contextlib.suppress(FileNotFoundError):
                staging.unlink()
        return out
    finally:
        if not isinstance(engine, Engine):
            eng.close()
