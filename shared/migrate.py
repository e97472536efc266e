"""Create the database when it does not exist yet, then apply every Alembic migration."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from shared.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent


async def _ensure_database(url: str, *, recreate: bool) -> bool:
    target = make_url(url)
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            if recreate:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )
            if not exists:
                await connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
                return True
    finally:
        await admin.dispose()
    return False


def migrate(url: str | None = None, *, recreate: bool = False) -> bool:
    """Bring the database at ``url`` (default: settings) to the newest schema; True if it was created."""
    url = url or get_settings().database_url
    created = asyncio.run(_ensure_database(url, recreate=recreate))
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    return created
