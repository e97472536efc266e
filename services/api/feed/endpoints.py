"""The organisation's feed (JSON, RSS, Atom) and its signed media links."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from services.api.deps import SessionDep
from services.api.errors import DomainError, Forbidden, NotFound, not_found
from services.api.feed.render import ATOM_TYPE, RSS_TYPE
from services.api.feed.schemas import FEED_EXAMPLE, FeedDocument
from services.api.feed.serving import serve_feed
from services.api.materials.weeks import WEEK_EXAMPLE
from services.api.media.deps import StorageDep
from shared.feed_links import valid_media_signature
from shared.models import Material, MediaAsset
from shared.models.enums import MaterialStatus
from shared.settings import get_settings

router = APIRouter(prefix="/feed", tags=["feed"])

SECURITY: list[dict[str, list[str]]] = [{"HTTPBearer": []}, {"APIKeyHeader": []}]
CONDITIONAL: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag (or `If-Modified-Since` date) is current"}
}
WeekQuery = Annotated[
    str | None,
    Query(
        description=f"ISO week to list, e.g. {WEEK_EXAMPLE}; default: this week in the organisation's zone"
    ),
]
CursorQuery = Annotated[
    str | None,
    Query(
        description="Changes mode: items changed after this cursor (a response's `next_cursor`), in "
        "change order; `start` reads from the very beginning. Not with `week`."
    ),
]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items per response (1–500)")]
OrganisationQuery = Annotated[
    int | None, Query(description="Whose feed: required for admin, editor and monitor keys")
]


class Gone(DomainError):
    status_code = 410
    error = "gone"


class RssResponse(Response):
    media_type = RSS_TYPE


class AtomResponse(Response):
    media_type = ATOM_TYPE


async def _serve(
    request: Request, fmt: str, week: str | None, cursor: str | None, limit: int, organisation_id: int | None
) -> Response:
    reply = await serve_feed(request.app.state, request.headers, fmt, week, cursor, limit, organisation_id)
    return Response(
        content=reply.body, status_code=reply.status, headers=reply.headers, media_type=reply.content_type
    )


@router.get(
    "",
    response_model=None,
    responses={
        200: {
            "model": FeedDocument,
            "description": "The feed (JSON, schema 1)",
            "content": {"application/json": {"example": FEED_EXAMPLE}},
        },
        **CONDITIONAL,
    },
    openapi_extra={"security": SECURITY},
)
async def get_feed(
    request: Request,
    week: WeekQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
    organisation_id: OrganisationQuery = None,
) -> Response:
    """The organisation's regional items, for its own systems to publish: approved materials that meet
    its subscriptions, and withdrawn ones flagged (`withdrawn: true`) so they can be taken down.

    **Week mode** (default): the items of this ISO week in the organisation's time zone (or `week`),
    urgent first, then in order of approval. **Changes mode** (`cursor`): items changed after the
    cursor, in change order, `limit` at a time; follow `next_cursor` while `has_more`. Paging never skips
    or repeats an item when materials are added or changed between pages: each change has a fixed place
    in the order, and a change becomes readable only when no transaction still running could place one
    before it. An item comes again only when it changed after you read it (a higher `version`).

    **Caching**: every response has a strong `ETag` and `Last-Modified`; send them back as
    `If-None-Match` / `If-Modified-Since` to get `304 Not Modified`. Media `url`s are signed and need no
    API key (valid one to two days: take the links from a recent response).

    Keys: `feed` and `operator` keys read their own organisation's feed; `admin`, `editor` and `monitor`
    keys name `organisation_id`."""
    return await _serve(request, "json", week, cursor, limit, organisation_id)


@router.get(
    "/rss",
    response_class=RssResponse,
    responses={
        200: {
            "description": "RSS 2.0 with `enclosure` and Media RSS `media:content` for each photo or video, "
            "and `hub:status` / `hub:id` / `hub:version` per item",
            "content": {
                RSS_TYPE: {"example": '<?xml version="1.0" encoding="utf-8"?><rss version="2.0">…</rss>'}
            },
        },
        **CONDITIONAL,
    },
    openapi_extra={"security": SECURITY},
)
async def get_feed_rss(
    request: Request,
    week: WeekQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
    organisation_id: OrganisationQuery = None,
) -> Response:
    """The same feed as RSS 2.0 (same parameters, caching and keys as `GET /api/v1/feed`). Withdrawn
    items carry the category `withdrawn` and `hub:status` `withdrawn`."""
    return await _serve(request, "rss", week, cursor, limit, organisation_id)


@router.get(
    "/atom",
    response_class=AtomResponse,
    responses={
        200: {
            "description": 'Atom 1.0 with a `link rel="enclosure"` for each photo or video',
            "content": {
                ATOM_TYPE: {
                    "example": '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">…</feed>'
                }
            },
        },
        **CONDITIONAL,
    },
    openapi_extra={"security": SECURITY},
)
async def get_feed_atom(
    request: Request,
    week: WeekQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
    organisation_id: OrganisationQuery = None,
) -> Response:
    """The same feed as Atom 1.0 (same parameters, caching and keys as `GET /api/v1/feed`). Withdrawn
    entries carry the category `withdrawn` and `hub:status` `withdrawn`."""
    return await _serve(request, "atom", week, cursor, limit, organisation_id)


@router.get(
    "/media/{media_id}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"image/jpeg": {}, "video/mp4": {}}, "description": "The file's bytes"},
        403: {
            "description": "The link's signature is wrong or it has expired: take a fresh link from the feed"
        },
        410: {"description": "The item was withdrawn"},
    },
)
async def get_feed_media(
    media_id: int,
    session: SessionDep,
    storage: StorageDep,
    expires: Annotated[int, Query(description="From the signed link")],
    signature: Annotated[str, Query(max_length=100, description="From the signed link")],
) -> Response:
    """A photo or video of a feed item, by the signed link the feed gave (no API key: feed readers may
    share links). Links expire after one to two days; a withdrawn item's media are gone (410)."""
    settings = get_settings()
    if not valid_media_signature(
        settings.resolved_feed_signing_key(), media_id, expires, signature, datetime.now(UTC)
    ):
        raise Forbidden("this media link is invalid or has expired; take a fresh one from the feed")
    asset = await session.get(MediaAsset, media_id)
    material = None if asset is None else await session.get(Material, asset.material_id)
    if asset is None or material is None:
        raise not_found("Media", media_id)
    if material.status == MaterialStatus.withdrawn.value:
        raise Gone(f"material {material.id} was withdrawn: {material.withdrawn_reason or 'no reason given'}")
    if material.status != MaterialStatus.approved.value:
        raise not_found("Media", media_id)
    if not await storage.exists(asset.storage_key):
        raise NotFound(f"the file of media {media_id} is missing from storage")
    headers = {
        "ETag": f'"{asset.sha256}"',
        "Content-Length": str(asset.size_bytes),
        "Cache-Control": "public, max-age=86400, immutable",
        "X-Content-Type-Options": "nosniff",
    }

    async def body() -> AsyncIterator[bytes]:
        async for chunk in storage.open(asset.storage_key):
            yield chunk

    return StreamingResponse(body(), media_type=asset.content_type, headers=headers)
