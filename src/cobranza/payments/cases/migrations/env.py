"""Alembic environment of the case store: run programmatically by ``CaseStore`` on open.

The connection (already carrying the schema translation of a non-default PostgreSQL schema)
comes in ``config.attributes``; there is no ``alembic.ini``.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    # Its own version table, so the case store can share a database with other Alembic users.
    version_table="alembic_version_payment_cases",
    version_table_schema=config.attributes.get("schema"),
    transaction_per_migration=True,
)

with context.begin_transaction():
    context.run_migrations()
