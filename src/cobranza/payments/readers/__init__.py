"""One reader per partner format, each returning a ``partner_transactions`` table.

``detect_format`` tells the format from a file's first bytes and name; ``read_partner_file``
dispatches to the reader. Every reader raises :class:`~cobranza.payments.PartnerFileError`,
naming the file and the line or element, rather than return part of a malformed file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from cobranza._errors import ConfigError
from cobranza.payments.readers._camt import read_camt
from cobranza.payments.readers._common import WARNINGS_KEY, fail
from cobranza.payments.readers._conekta import read_conekta
from cobranza.payments.readers._csv import CsvColumns, CsvMapping, load_csv_mapping, read_csv
from cobranza.payments.readers._mt940 import read_mt940
from cobranza.payments.readers._stp import read_stp

__all__ = [
    "FORMATS",
    "WARNINGS_KEY",
    "CsvColumns",
    "CsvMapping",
    "detect_format",
    "load_csv_mapping",
    "read_camt",
    "read_conekta",
    "read_csv",
    "read_mt940",
    "read_partner_file",
    "read_stp",
]

#: Format name -> reader (the CSV reader also needs a mapping).
FORMATS: dict[str, Callable[..., pa.Table]] = {
    "stp": read_stp,
    "conekta": read_conekta,
    "mt940": read_mt940,
    "camt": read_camt,
    "csv": read_csv,
}

_MT940_FIELD = re.compile(rb"^(:20:|\{1:F01)", re.MULTILINE)
_STATEMENT_SUFFIXES = {".sta", ".mt940", ".940", ".942", ".swi"}


def detect_format(path: Path) -> str:
    """Name the format of ``path`` (a key of :data:`FORMATS`) from its first bytes and suffix.

    Detection only routes the file: the chosen reader still checks it fully. Raises
    PartnerFileError when nothing matches.
    """
    head = path.read_bytes()[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = path.suffix.lower()
    if head.startswith(b"<"):
        return "camt"
    if suffix in _STATEMENT_SUFFIXES or _MT940_FIELD.search(head):
        return "mt940"
    if head.startswith((b"{", b"[")):
        return "stp" if b'"resultado"' in head else "conekta"
    if suffix in (".yml", ".yaml"):
        return "conekta"
    if suffix in (".csv", ".tsv"):
        return "csv"
    fail(
        path,
        "cannot tell the format: not camt XML, MT940, STP or Conekta JSON/YAML, nor CSV",
        line=1,
    )


def read_partner_file(
    path: Path,
    partner_id: str,
    format: str | None = None,
    *,
    mapping: CsvMapping | Path | None = None,
) -> pa.Table:
    """Read ``path`` with the reader of ``format`` (detected when None)."""
    name = format or detect_format(path)
    if name not in FORMATS:
        raise ConfigError(f"unknown partner format {name!r}; expected one of {sorted(FORMATS)}")
    if name == "csv":
        if mapping is None:
            raise ConfigError(f"{path.name}: reading a CSV needs a column mapping (YAML)")
        return read_csv(path, partner_id, mapping)
    return FORMATS[name](path, partner_id)
