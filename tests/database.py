"""Create the test database from scratch and migrate it with Alembic, as production would be."""

from shared.migrate import migrate


def recreate_test_database(url: str) -> None:
    migrate(url, recreate=True)
