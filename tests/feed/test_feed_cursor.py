"""Changes mode: paging never skips or repeats an item, whatever is added or changed between pages."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.security import generate_key
from tests.conftest import TEST_DATABASE_URL
from tests.feed.helpers import FeedOrganisation, approved, feed_organisation


async def page(
    client: httpx.AsyncClient, org: FeedOrganisation, cursor: str, limit: int = 2
) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/feed", headers=org.headers, params={"cursor": cursor, "limit": limit}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_pages_neither_skip_nor_repeat_when_items_are_added_and_changed_between_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    topic = f"cursor-{uuid.uuid4().hex[:8]}"
    org = await feed_organisation(session, topics=[topic])
    materials = [await approved(session, topics=[topic], week=f"2031-W{week:02d}") for week in range(1, 6)]
    first = await page(client, org, "start")
    seen = [(item["id"], item["version"]) for item in first["items"]]
    assert [item_id for item_id, _ in seen] == [materials[0].id, materials[1].id]
    assert first["has_more"] is True

    # Between pages: a new item, a change to an item already read, a change to one not yet read.
    added = await approved(session, topics=[topic], week="2031-W09")
    for material in (materials[0], materials[3]):
        material.title, material.version = material.title + " (исправлено)", material.version + 1
        session.add(material)
    await session.flush()

    cursor = first["next_cursor"]
    while True:
        body = await page(client, org, cursor)
        seen += [(item["id"], item["version"]) for item in body["items"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    ids = [item_id for item_id, _ in seen]
    assert sorted(set(ids)) == sorted([m.id for m in materials] + [added.id])
    # Only the item changed after it was read comes again — with its new version; nothing else repeats.
    assert ids.count(materials[0].id) == 2
    assert [version for item_id, version in seen if item_id == materials[0].id] == [1, 2]
    assert ids.count(materials[3].id) == 1
    assert len(ids) == len(set(ids)) + 1
    assert (await page(client, org, cursor))["items"] == []


async def test_week_mode_gives_a_cursor_to_follow_changes_from(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    await approved(session)
    week = (await client.get("/api/v1/feed", headers=org.headers)).json()
    assert (await page(client, org, week["next_cursor"]))["items"] == []
    later = await approved(session)
    assert [item["id"] for item in (await page(client, org, week["next_cursor"]))["items"]] == [later.id]


@pytest.fixture
async def production_client(migrated_database: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app as production runs it: no injected session, the feed's own asyncpg pool, real commits."""
    from services.api.app import create_app

    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
        yield http
    directory = getattr(app.state, "feed_directory", None)
    if directory is not None:
        await directory.close()
    pool = getattr(app.state, "feed_pool", None)
    if pool is not None:
        await pool.close()


@pytest.fixture
async def committing(migrated_database: None) -> AsyncIterator[list[AsyncConnection]]:
    """Connections outside the test's rolled-back transaction; whatever they commit is removed after."""
    engine = create_async_engine(TEST_DATABASE_URL)
    connections: list[AsyncConnection] = []

    async def cleanup() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM material WHERE 'concurrent-cursor' = ANY(topics)"))
            await connection.execute(text("DELETE FROM organisation WHERE name LIKE 'concurrent-cursor-%'"))

    await cleanup()
    try:
        for _ in range(2):
            connections.append(await engine.connect())
        yield connections
    finally:
        for connection in connections:
            await connection.close()
        await cleanup()
        await engine.dispose()


INSERT_MATERIAL = text(
    "INSERT INTO material (title, body, hashtags, topics, priority, week, status, approved_at, version, "
    "created_at, updated_at) VALUES (:title, 'Текст', '{}', '{concurrent-cursor}', 'normal', '2031-W20', "
    "'approved', now(), 1, now(), now()) RETURNING id"
)


async def test_a_transaction_that_commits_late_never_slips_behind_a_cursor(
    production_client: httpx.AsyncClient, committing: list[AsyncConnection]
) -> None:
    """Transaction A writes first and commits last; B writes later and commits at once. A reader must not
    get B's item before A's is readable — or A's item would land behind the reader's cursor and be lost."""
    slow, fast = committing
    setup = await fast.begin()
    organisation_id = (
        await fast.execute(
            text(
                "INSERT INTO organisation (name, kind, region, timezone, is_active, created_at, updated_at) "
                "VALUES (:name, 'settlement', 'Калужская область', 'Europe/Moscow', true, now(), now()) RETURNING id"
            ),
            {"name": f"concurrent-cursor-{uuid.uuid4().hex[:8]}"},
        )
    ).scalar_one()
    await fast.execute(
        text(
            "INSERT INTO subscription (organisation_id, topics, channel_ids, mode, items_per_week, window_start, "
            "window_end, weekdays, is_active, created_at, updated_at) VALUES (:organisation_id, "
            "'{concurrent-cursor}', '{}', 'feed', 3, '09:00', '20:00', '{1,2,3,4,5}', true, now(), now())"
        ),
        {"organisation_id": organisation_id},
    )
    key = generate_key()
    await fast.execute(
        text(
            "INSERT INTO api_key (name, role, organisation_id, prefix, key_hash, created_at) "
            "VALUES ('feed', 'feed', :organisation_id, :prefix, :hash, now())"
        ),
        {"organisation_id": organisation_id, "prefix": key.prefix, "hash": key.key_hash},
    )
    await setup.commit()
    org = FeedOrganisation(organisation=None, headers={"X-API-Key": key.plaintext})  # type: ignore[arg-type]
    org_params = {"organisation_id": organisation_id}
    start = await production_client.get(
        "/api/v1/feed", headers=org.headers, params={**org_params, "cursor": "start"}
    )
    assert start.json()["items"] == []
    cursor = start.json()["next_cursor"]

    a = await slow.begin()
    late = (await slow.execute(INSERT_MATERIAL, {"title": "A: записан первым"})).scalar_one()
    directory = production_client._transport.app.state.feed_directory  # type: ignore[attr-defined]
    before_b = directory.version
    b = await fast.begin()
    early = (await fast.execute(INSERT_MATERIAL, {"title": "B: записан вторым"})).scalar_one()
    await b.commit()
    # API processes learn of commits by notification: wait for it, as a poll a moment later would.
    await asyncio.wait_for(directory.wait_past(before_b), timeout=10)

    while_a_runs = await page(production_client, org, cursor, limit=10)
    assert while_a_runs["items"] == [], "B's item must wait until A's fate is known"
    assert while_a_runs["next_cursor"] == cursor

    before_a = directory.version
    await a.commit()
    await asyncio.wait_for(directory.wait_past(before_a), timeout=10)
    after = await page(production_client, org, cursor, limit=10)
    assert [item["id"] for item in after["items"]] == [late, early]
