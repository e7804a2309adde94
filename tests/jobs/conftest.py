"""Fixtures for bulk jobs: uploads in the test's own directory, small chunks, emptied job tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.config import Settings

JOB_TABLES = ("job_key", "job_error", "job_chunk", "job")
# Small, so that even a short test file is split into several chunks.
CHUNK_ROWS = 7


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The backend's settings, with uploads under this test's directory and 7-row chunks."""
    return settings.model_copy(update={"upload_dir": tmp_path / "uploads", "job_chunk_rows": CHUNK_ROWS})


@pytest.fixture
async def engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The emptied database, job tables included."""
    async with engine.begin() as connection:
        for table in JOB_TABLES:
            await connection.execute(text(f"DELETE FROM {table}"))
    yield engine
