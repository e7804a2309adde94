"""Reminder preference, language and Notify delivery receipts (SPEC §11).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """No change yet: the revision is reserved so the three features' migrations chain in order."""


def downgrade() -> None:
    """Nothing to undo."""
