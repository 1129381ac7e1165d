"""``cobranza validate``: check a portfolio against the data contract before every run.

Each check is an Ibis relation of the rows that break it, with four columns: ``row`` (the
file's data row), ``key``, ``value`` (as written; never for personal data) and ``extra`` (what
the message needs besides the value). Counting comes first, table by table, each file read
once: the few typed columns that key, reference and cross-table checks read are kept in a
small temporary table, beside the flags of the per-column and same-row checks (bits of one
integer), which are summed from it. The table's key, reference and cross-table checks are
then counted in one query, and kept tables no later check reads are let go. Examples are
fetched, in one more query, only for the checks that failed, first rows first.

A value passes only when it has a strict, engine-neutral syntax *and* the engine's
``try_cast`` reads it. The engines' casts disagree on loose input (DuckDB reads ``12.5`` as
the integer 13, Spark reads ``2026`` as a date), so both engines give the same report, and a
valid portfolio loads the same on both.
"""

from cobranza.contract._validation._checks import SYNTAX
from cobranza.contract._validation._run import RULES, validate

__all__ = ["RULES", "SYNTAX", "validate"]
