"""Access control and the audit trail (SPEC §9).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """No change yet: the revision is reserved so the three features' migrations chain in order."""


def downgrade() -> None:
    """Nothing to undo."""
