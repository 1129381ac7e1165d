"""Case stores on both databases for the case tests: a SQLite file and a PostgreSQL schema."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cobranza.payments.cases import DEFAULT_RULES, CaseRules, CaseStore

POSTGRES_URL = os.environ.get(
    "COBRANZA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

#: payment_exceptions (INTERFACES §F), built by hand: the cases consume this table.
EXCEPTIONS = pa.schema(
    [
        ("exception_id", pa.string()), ("root_cause", pa.string()), ("partner_id", pa.string()),
        ("rail", pa.string()), ("external_id", pa.string()), ("payment_id", pa.string()),
        ("loan_id", pa.string()), ("amount", pa.decimal128(20, 5)),
        ("difference", pa.decimal128(20, 5)), ("detail", pa.string()),
        ("value_date", pa.date32()), ("detected_on", pa.date32()), ("age_days", pa.int32()),
        ("ageing_bucket", pa.string()), ("status", pa.string()), ("resolution", pa.string()),
    ]
)  # fmt: skip


def exceptions(rows: list[Mapping[str, Any]]) -> pa.Table:
    """A payment_exceptions table; defaults fill what a row does not say."""
    full = []
    for row in rows:
        value_date = row.get("value_date", dt.date(2026, 10, 30))
        full.append({
            "root_cause": "unapplied_credit", "partner_id": "stp", "rail": "spei",
            "external_id": None, "payment_id": None, "loan_id": None, "difference": None,
            "detail": "credit not applied", "value_date": value_date,
            "detected_on": dt.date(2026, 10, 31), "age_days": 1, "ageing_bucket": "0-2",
            "status": "open", "resolution": None,
            **{k: Decimal(v) if k in ("amount", "difference") and v is not None else v
               for k, v in row.items()},
        })  # fmt: skip
    return pa.Table.from_pylist(full, schema=EXCEPTIONS)


def _postgres_or_skip() -> None:
    import psycopg

    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(plain, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}")


def make_store(kind: str, tmp_path: Path, rules: CaseRules = DEFAULT_RULES) -> Iterator[CaseStore]:
    if kind == "sqlite":
        store = CaseStore(tmp_path / "cases.db", rules=rules)
        try:
            yield store
        finally:
            store.close()
        return
    _postgres_or_skip()
    from sqlalchemy import create_engine, text

    schema = f"cases_test_{uuid.uuid4().hex[:12]}"
    store = CaseStore(POSTGRES_URL, schema=schema, rules=rules)
    try:
        yield store
    finally:
        store.close()
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


DATABASES = [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql")]
