"""Partner payment files: readers for bank and processor formats, and the ingestion store.

Every reader returns a ``partner_transactions`` table (see :data:`PARTNER_TRANSACTIONS` and
``docs/payments-ingestion.md``); :func:`ingest` stores files whole, once each.
"""

from __future__ import annotations

from cobranza.payments._errors import PartnerFileError
from cobranza.payments._ingest import (
    MANIFEST_SCHEMA,
    IngestedFile,
    IngestResult,
    ingest,
    read_manifest,
    read_store,
)
from cobranza.payments._schema import (
    MONEY_TYPE,
    PARTNER_TRANSACTIONS,
    RAILS,
    STATUSES,
    partner_transactions_table,
)
from cobranza.payments.readers import (
    FORMATS,
    WARNINGS_KEY,
    CsvColumns,
    CsvMapping,
    detect_format,
    load_csv_mapping,
    read_camt,
    read_conekta,
    read_csv,
    read_mt940,
    read_partner_file,
    read_stp,
)

__all__ = [
    "FORMATS",
    "MANIFEST_SCHEMA",
    "MONEY_TYPE",
    "PARTNER_TRANSACTIONS",
    "RAILS",
    "STATUSES",
    "WARNINGS_KEY",
    "CsvColumns",
    "CsvMapping",
    "IngestResult",
    "IngestedFile",
    "PartnerFileError",
    "detect_format",
    "ingest",
    "load_csv_mapping",
    "partner_transactions_table",
    "read_camt",
    "read_conekta",
    "read_csv",
    "read_manifest",
    "read_mt940",
    "read_partner_file",
    "read_store",
    "read_stp",
]
