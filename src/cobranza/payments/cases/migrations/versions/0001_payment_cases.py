"""Payment cases, their notes and their audit trail.

Revision ID: 0001_payment_cases
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_payment_cases"
down_revision = None
branch_labels = None
depends_on = None


def _money() -> sa.types.TypeEngine:
    # SQLite's NUMERIC affinity stores a binary float: keep the decimal's text there instead.
    if op.get_bind().dialect.name == "sqlite":
        return sa.String(40)
    return sa.Numeric(20, 5)


def upgrade() -> None:
    op.create_table(
        "payment_cases",
        sa.Column("case_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("exception_id", sa.String(200), nullable=False),
        sa.Column("root_cause", sa.String(40), nullable=False),
        sa.Column("partner_id", sa.String(100)),
        sa.Column("rail", sa.String(40)),
        sa.Column("external_id", sa.String(200)),
        sa.Column("payment_id", sa.String(200)),
        sa.Column("loan_id", sa.String(200)),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("difference", _money()),
        sa.Column("detail", sa.Text),
        sa.Column("value_date", sa.Date),
        sa.Column("detected_on", sa.Date),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("aclaracion_on", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("assignee", sa.String(100)),
        sa.Column("resolution", sa.Text),
        sa.Column("resolved_on", sa.Date),
        sa.Column("closed_on", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        # The same exception never opens two cases, even from two processes at once.
        sa.UniqueConstraint("exception_id", name="uq_payment_cases_exception_id"),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'waiting_customer', 'waiting_partner', "
            "'resolved', 'closed')",
            name="ck_payment_cases_status",
        ),
    )
    op.create_index("ix_payment_cases_status", "payment_cases", ["status"])
    op.create_index("ix_payment_cases_loan_id", "payment_cases", ["loan_id"])
    op.create_table(
        "payment_case_notes",
        sa.Column("note_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("payment_cases.case_id"), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_payment_case_notes_case_id", "payment_case_notes", ["case_id"])
    op.create_table(
        "payment_case_events",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("payment_cases.case_id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_payment_case_events_case_id", "payment_case_events", ["case_id"])


def downgrade() -> None:
    op.drop_table("payment_case_events")
    op.drop_table("payment_case_notes")
    op.drop_table("payment_cases")
