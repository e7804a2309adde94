"""Fixtures for bulk jobs: uploads in the test's own directory, small chunks, emptied job tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.config import Settings

# Small, so that even a short test file is split into several chunks.
CHUNK_ROWS = 7


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The backend's settings, with uploads under this test's directory and 7-row chunks."""
    return settings.model_copy(update={"upload_dir": tmp_path / "uploads", "job_chunk_rows": CHUNK_ROWS})
