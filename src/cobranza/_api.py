"""The Python API mirroring the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from cobranza.engine import Engine, connect

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from cobranza.contract import ValidationReport
    from cobranza.pipeline import RunResult
    from cobranza.strategy import Decision, Strategy


def run(
    data: str | Path,
    as_of: dt.date | str,
    out: str | Path,
    engine: str | Engine = "duckdb",
    **options: object,
) -> RunResult:
    """Run the nightly job; see :func:`cobranza.pipeline.run` for the options."""
    from cobranza.pipeline import run as _run

    return _run(data, as_of, out, engine, **options)  # type: ignore[arg-type]


def validate(data: str | Path, engine: str | Engine = "duckdb") -> ValidationReport:
    """Check a portfolio folder against the data contract and return the report."""
    from cobranza.contract import discover
    from cobranza.contract import validate as _validate

    files = discover(data)
    eng = connect(engine)
    try:
        return _validate(eng, files)
    finally:
        if not isinstance(engine, Engine):
            eng.close()


def generate(out: str | Path, loans: int, seed: int = 0, **options: object) -> Path:
    """Write a synthetic Mexican consumer portfolio; see :func:`cobranza.synthetic.generate`."""
    from cobranza.synthetic import generate as _generate

    return _generate(out, loans, seed, **options)  # type: ignore[arg-type]


def decide_one(
    account: Mapping[str, Any], strategy: Strategy | str | Path, **options: Any
) -> Decision:
    """Today's decision for one account, in pure Python; see :func:`cobranza.strategy.decide_one`
    (``options``: ``context``, ``full_channels``).

    ``strategy`` is a loaded :class:`~cobranza.strategy.Strategy` (load it once with
    :func:`cobranza.strategy.load_strategy` when deciding many accounts), a YAML path or a
    bundled name such as ``"mx_default"``.
    """
    from cobranza.strategy import decide_one as _decide_one
    from cobranza.strategy import load_strategy

    return _decide_one(account, load_strategy(strategy), **options)
