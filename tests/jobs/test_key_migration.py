"""Migration 0014 dropped ``job_key``'s foreign key to ``job``; going back restores it even when
keys of a job that no longer exists were written in between."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from advanced_alchemy.alembic.commands import AlembicCommands
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from domain.db import make_db_config, make_engine
from domain.migrate import migrate
from domain.models import JobKey, table
from tests.privacy.scratch import drop_scratch_database, scratch_database

KEY = table(JobKey)


async def test_downgrading_0014_drops_orphan_keys_and_restores_the_foreign_key(settings, tmp_path) -> None:
    scratch = await scratch_database(settings, tmp_path)
    try:
        await asyncio.to_thread(migrate, scratch)
        engine = make_engine(scratch)
        async with engine.begin() as connection:  # no job has this id: allowed without the constraint
            await connection.execute(insert(KEY).values(job_id=uuid.uuid4(), key="9434765919"))
        await engine.dispose()

        await asyncio.to_thread(AlembicCommands(make_db_config(scratch)).downgrade, "0013")

        engine = make_engine(scratch)
        try:
            async with engine.connect() as connection:
                assert (await connection.execute(select(KEY))).all() == []
                with pytest.raises(IntegrityError):
                    await connection.execute(insert(KEY).values(job_id=uuid.uuid4(), key="9434765919"))
                await connection.rollback()
        finally:
            await engine.dispose()
        await asyncio.to_thread(migrate, scratch)  # and up again
    finally:
        await drop_scratch_database(scratch)
