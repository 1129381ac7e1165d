"""``cobranza validate``: check a portfolio against the data contract before every run.

Each check is an Ibis relation of the rows that break it, with four columns: ``row`` (the
file's data row), ``key``, ``value`` (as written; never for personal data) and ``extra`` (what
the message needs besides the value). Counting comes first: the per-column and same-row checks
of a table are flags summed in one aggregate over its file. Key, reference and cross-table
checks read the table several times, so the few typed columns they need are kept once in a
small temporary table, and they are counted together in one union query. Examples are
fetched, in one more query, only for the checks that failed, first rows first.

A value passes only when it has a strict, engine-neutral syntax *and* the engine's
``try_cast`` reads it. The engines' casts disagree on loose input (DuckDB reads ``12.5`` as
the integer 13, Spark reads ``2026`` as a date), so both engines give the same report, and a
valid portfolio loads the same on both.
"""

from cobranza.contract._validation._checks import SYNTAX
from cobranza.contract._validation._run import RULES, validate

__all__ = ["RULES", "SYNTAX", "validate"]
