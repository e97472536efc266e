"""The sandbox suite: one sandbox subprocess per run, reset to a small known world before each test."""

from collections.abc import Iterator

import pytest
from sandbox_test_clients import WORLD

from sandbox.testing import RunningSandbox, running_sandbox


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[None]:
    """The sandbox needs no database: override the project-wide PostgreSQL setup for this suite."""
    return


@pytest.fixture(scope="session")
def sandbox_process() -> Iterator[RunningSandbox]:
    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(sandbox_process: RunningSandbox) -> RunningSandbox:
    sandbox_process.control.reset(WORLD)
    return sandbox_process
