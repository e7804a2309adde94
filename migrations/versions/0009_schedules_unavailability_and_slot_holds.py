"""Schedules, unavailability and slot holds (SPEC §10).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """No change yet: the revision is reserved so the three features' migrations chain in order."""


def downgrade() -> None:
    """Nothing to undo."""
