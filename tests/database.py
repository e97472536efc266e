"""Create the test database from scratch and migrate it with Alembic, as production would be."""

import asyncio

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def _recreate(url: str) -> None:
    target = make_url(url)
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    await admin.dispose()


def recreate_test_database(url: str) -> None:
    asyncio.run(_recreate(url))
    config = Config("alembic.ini")
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
