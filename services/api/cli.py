"""Operator commands: ``python -m services.api.cli <command>``.

migrate             create the database if needed and apply every migration
create-admin-key    issue an admin API key and print it once (the first key of a fresh install)
load-demo           load the demo region (idempotent)
"""

import argparse
import asyncio
import sys

from services.api.api_keys.schemas import ApiKeyCreate
from services.api.api_keys.service import issue_key
from services.api.demo import load_demo
from shared.db import get_engine, session_scope
from shared.migrate import migrate
from shared.models.enums import Role


async def _create_key(name: str, role: Role) -> str:
    async with session_scope() as session:
        created = await issue_key(session, None, ApiKeyCreate(name=name, role=role))
    await get_engine().dispose()
    return created.key


async def _load_demo() -> bool:
    async with session_scope() as session:
        loaded = await load_demo(session)
    await get_engine().dispose()
    return loaded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.api.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create the database if needed and apply migrations")
    key = commands.add_parser("create-admin-key", help="issue an admin API key and print it once")
    key.add_argument("--name", default="first admin", help="who the key is for")
    key.add_argument(
        "--role", default="admin", choices=[role.value for role in Role if role is not Role.operator]
    )
    commands.add_parser("load-demo", help="load the demo region (idempotent)")
    args = parser.parse_args(argv)

    if args.command == "migrate":  # noqa: SIM114
        created = migrate()
        print("migrate: database created and migrated" if created else "migrate: database is up to date")  # noqa: T201
    elif args.command == "create-admin-key":
        plaintext = asyncio.run(_create_key(args.name, Role(args.role)))
        print(f"New {args.role} key (shown once, store it now):\n{plaintext}")  # noqa: T201
    elif args.command == "load-demo":
        loaded = asyncio.run(_load_demo())
        print("load-demo: demo region loaded" if loaded else "load-demo: demo region already present")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
