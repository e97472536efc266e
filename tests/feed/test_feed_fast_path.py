"""The lean ASGI path in front of the API answers feed polls exactly as the FastAPI endpoints do, and
hands everything else (errors included) to FastAPI."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.feed.asgi import with_fast_feed
from tests.feed.helpers import approved, feed_organisation


@pytest.fixture
async def fast_client(db_connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    from services.api.app import create_app

    app = create_app()
    app.state.sessionmaker = async_sessionmaker(
        bind=db_connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    transport = httpx.ASGITransport(app=with_fast_feed(app, app.state))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield http


async def test_fast_path_answers_like_the_endpoint(
    client: httpx.AsyncClient, fast_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    await approved(session)
    for path in ("/api/v1/feed", "/api/v1/feed/rss", "/api/v1/feed/atom"):
        for params in ({}, {"limit": "5"}, {"cursor": "start", "limit": "1"}):
            slow = await client.get(path, headers=org.headers, params=params)
            fast = await fast_client.get(path, headers=org.headers, params=params)
            assert (fast.status_code, fast.content) == (slow.status_code, slow.content)
            for header in ("etag", "last-modified", "content-type", "cache-control"):
                assert fast.headers[header] == slow.headers[header]
            assert "x-request-id" not in fast.headers  # answered before FastAPI's middleware
    conditional = await fast_client.get(
        "/api/v1/feed", headers={**org.headers, "If-None-Match": fast.headers["etag"]}
    )
    assert conditional.status_code in (200, 304)


async def test_fast_path_leaves_errors_and_other_requests_to_fastapi(
    fast_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    assert (await fast_client.get("/api/v1/feed")).json()["error"] == "not_authenticated"
    bad_week = await fast_client.get("/api/v1/feed", headers=org.headers, params={"week": "2026-48"})
    assert (bad_week.status_code, bad_week.json()["detail"][0]["field"]) == (422, "query.week")
    unknown = await fast_client.get("/api/v1/feed", headers=org.headers, params={"limit": "x"})
    assert unknown.status_code == 422
    assert (await fast_client.get("/healthz")).json() == {"status": "ok"}
    assert (
        "x-request-id"
        in (await fast_client.get("/api/v1/feed", headers=org.headers, params={"x": "1"})).headers
    )
