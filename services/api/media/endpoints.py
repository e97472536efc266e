from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from services.api.deps import ContentReader, ContentWriter, SessionDep
from services.api.errors import ErrorBody, NotFound
from services.api.materials.concurrency import IfMatchHeader, parse_if_match
from services.api.media import service
from services.api.media.deps import LimitsDep, StagingDep, StorageDep
from services.api.media.schemas import MediaOrder, MediaPublic
from shared.media_types import ACCEPTED_DESCRIPTION
from shared.models import MediaAsset

router = APIRouter(tags=["media"])

UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": ACCEPTED_DESCRIPTION}
                },
            }
        }
    },
}

UPLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "The material already has this file, or is withdrawn"},
    412: {"model": ErrorBody, "description": "If-Match names an old version of the material"},
    413: {"model": ErrorBody, "description": "Larger than the limit for its kind (photo or video)"},
    415: {"model": ErrorBody, "description": "The bytes are not an accepted photo or video type"},
}
CHANGE_RESPONSES: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "The material is withdrawn"},
    412: {"model": ErrorBody, "description": "If-Match names an old version of the material"},
}


@router.post(
    "/materials/{material_id}/media",
    status_code=status.HTTP_201_CREATED,
    response_model=MediaPublic,
    responses=UPLOAD_RESPONSES,
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload_media(
    material_id: int,
    request: Request,
    session: SessionDep,
    principal: ContentWriter,
    storage: StorageDep,
    limits: LimitsDep,
    staging_dir: StagingDep,
    if_match: IfMatchHeader = None,
) -> MediaAsset:
    """Attach a photo or video to a material: `multipart/form-data` with the file in the field `file`.

    Accepted: JPEG, PNG, WebP, GIF photos; MP4, QuickTime, WebM videos. The type is detected from the
    file's bytes, never from its name (415 otherwise); an empty file is 422; photos and videos have
    their own size limits (413). Photo width and height are recorded. The same file twice on one
    material is 409. The material's version grows (an `approved` material goes back to `review`); a
    withdrawn material takes no media (409). `If-Match` with the material's ETag is checked when sent.
    Roles: admin, editor."""
    return await service.add_media(
        session, principal, storage, material_id, request, limits, staging_dir, parse_if_match(if_match)
    )


@router.get("/materials/{material_id}/media", response_model=list[MediaPublic])
async def list_material_media(
    material_id: int, session: SessionDep, principal: ContentReader
) -> list[MediaAsset]:
    """The material's photos and videos, in post order. Roles: admin, editor, monitor; operators only
    for approved or withdrawn materials."""
    return await service.list_media(session, principal, material_id)


@router.put(
    "/materials/{material_id}/media/order", response_model=list[MediaPublic], responses=CHANGE_RESPONSES
)
async def reorder_material_media(
    material_id: int,
    data: MediaOrder,
    session: SessionDep,
    principal: ContentWriter,
    if_match: IfMatchHeader = None,
) -> list[MediaAsset]:
    """Set the order of the material's media: `media_ids` lists every one of them exactly once. A new
    order is a change of the material (its version grows; approved goes back to review). `If-Match` is
    checked when sent. Roles: admin, editor."""
    return await service.reorder_media(
        session, principal, material_id, data.media_ids, parse_if_match(if_match)
    )


@router.get("/media/{media_id}", response_model=MediaPublic)
async def get_media(media_id: int, session: SessionDep, principal: ContentReader) -> MediaAsset:
    """A media asset's metadata: detected type, size, SHA-256, photo dimensions, position. Roles: admin,
    editor, monitor; operators only for media of approved or withdrawn materials."""
    return await service.get_visible_media(session, principal, media_id)


@router.get(
    "/media/{media_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"image/jpeg": {}, "video/mp4": {}}, "description": "The file's bytes"},
        304: {"description": "Unchanged (If-None-Match matched)"},
    },
)
async def get_media_content(
    media_id: int, request: Request, session: SessionDep, principal: ContentReader, storage: StorageDep
) -> Response:
    """The file itself, with its detected `Content-Type` and `ETag: "<sha256>"` (send it as
    `If-None-Match` to get 304). Roles: admin, editor, monitor; operators only for media of approved or
    withdrawn materials."""
    asset = await service.get_visible_media(session, principal, media_id)
    tag = f'"{asset.sha256}"'
    headers = {"ETag": tag, "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if tag in [value.strip() for value in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    if not await storage.exists(asset.storage_key):
        raise NotFound(f"the file of media {media_id} is missing from storage")
    if asset.original_filename:
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(asset.original_filename)}"
    headers["Content-Length"] = str(asset.size_bytes)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in storage.open(asset.storage_key):
            yield chunk

    return StreamingResponse(body(), media_type=asset.content_type, headers=headers)


@router.delete("/media/{media_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGE_RESPONSES)
async def delete_media(
    media_id: int, session: SessionDep, principal: ContentWriter, if_match: IfMatchHeader = None
) -> Response:
    """Remove a photo or video from its material. The material's version grows (approved goes back to
    review); a withdrawn material's media cannot be removed (409). `If-Match` with the material's ETag
    is checked when sent. Roles: admin, editor."""
    await service.delete_media(session, principal, media_id, parse_if_match(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
