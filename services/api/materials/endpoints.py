from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from services.api.deps import ContentReader, ContentWriter, SessionDep
from services.api.errors import ErrorBody, InvalidField
from services.api.materials import service
from services.api.materials.concurrency import IfMatchHeader, expected_version, set_etag
from services.api.materials.schemas import (
    MaterialCreate,
    MaterialPublic,
    MaterialUpdate,
    ReturnToDraftRequest,
    WithdrawRequest,
)
from services.api.materials.weeks import WEEK_EXAMPLE, valid_week
from services.api.pagination import Page, PageDep
from shared.models import Material
from shared.models.enums import MaterialPriority, MaterialStatus

router = APIRouter(prefix="/materials", tags=["materials"])

CHANGE_RESPONSES: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "The material's status does not allow this"},
    412: {"model": ErrorBody, "description": "If-Match names an old version: reload and retry"},
    428: {"model": ErrorBody, "description": "If-Match (or a body `version`) is missing"},
}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MaterialPublic)
async def create_material(
    data: MaterialCreate, session: SessionDep, principal: ContentWriter, response: Response
) -> Material:
    """Write a new regional material; it starts as a `draft` at version 1 (returned as `ETag`).

    `week` is the ISO week it belongs to (`2026-W48`); hashtags are `#` plus letters, digits or `_`
    (Cyrillic is fine); `publish_not_before` and `expires_at` need a time zone offset.
    Roles: admin, editor."""
    material = await service.create_material(session, principal, data)
    set_etag(response, material)
    return material


@router.get("", response_model=Page[MaterialPublic])
async def list_materials(
    session: SessionDep,
    principal: ContentReader,
    page: PageDep,
    status: MaterialStatus | None = None,
    week: Annotated[str | None, Query(description=f"ISO week, e.g. {WEEK_EXAMPLE}")] = None,
    priority: MaterialPriority | None = None,
    topic: Annotated[str | None, Query(max_length=100, description="Materials that have this topic")] = None,
    hashtag: Annotated[str | None, Query(max_length=100, description="Materials with this hashtag")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the title, case-insensitive")] = None,
) -> dict[str, object]:
    """List materials, newest first, filtered. Roles: admin, editor and monitor see every status;
    an operator key sees only `approved` and `withdrawn` materials."""
    if week is not None:
        try:
            valid_week(week)
        except ValueError as exc:
            raise InvalidField("query.week", str(exc)) from exc
    items, total = await service.list_materials(
        session,
        principal,
        page,
        status=status,
        week=week,
        priority=priority,
        topic=topic,
        hashtag=hashtag,
        q=q,
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/{material_id}", response_model=MaterialPublic)
async def get_material(
    material_id: int, session: SessionDep, principal: ContentReader, response: Response
) -> Material:
    """One material, with its version in the `ETag` header — send it back as `If-Match` when you change it.
    Roles: admin, editor, monitor; operators only for approved or withdrawn materials (otherwise 404)."""
    material = await service.get_visible_material(session, principal, material_id)
    set_etag(response, material)
    return material


@router.patch("/{material_id}", response_model=MaterialPublic, responses=CHANGE_RESPONSES)
async def update_material(
    material_id: int,
    data: MaterialUpdate,
    session: SessionDep,
    principal: ContentWriter,
    response: Response,
    if_match: IfMatchHeader = None,
) -> Material:
    """Change a material; send only what changes, with `If-Match: "<version>"` (or `version` in the body).

    Every change increments the version. Changing an `approved` material sends it back to `review`: it
    must be approved again. A `withdrawn` material cannot be changed (409). Roles: admin, editor."""
    expected = expected_version(if_match, data.version)
    material = await service.update_material(session, principal, material_id, data, expected)
    set_etag(response, material)
    return material


@router.post("/{material_id}/submit", response_model=MaterialPublic, responses=CHANGE_RESPONSES)
async def submit_material(
    material_id: int,
    session: SessionDep,
    principal: ContentWriter,
    response: Response,
    if_match: IfMatchHeader = None,
) -> Material:
    """Send a `draft` for review (`draft → review`). Needs `If-Match`. Roles: admin, editor."""
    material = await service.change_status(
        session, principal, material_id, "submit", expected_version(if_match)
    )
    set_etag(response, material)
    return material


@router.post("/{material_id}/approve", response_model=MaterialPublic, responses=CHANGE_RESPONSES)
async def approve_material(
    material_id: int,
    session: SessionDep,
    principal: ContentWriter,
    response: Response,
    if_match: IfMatchHeader = None,
) -> Material:
    """Approve a material in `review` (`review → approved`); it joins its week's package. Approval needs a
    non-blank body and an `expires_at` (if any) still in the future. Records who approved and when.
    Needs `If-Match`. Roles: admin, editor."""
    material = await service.change_status(
        session, principal, material_id, "approve", expected_version(if_match)
    )
    set_etag(response, material)
    return material


@router.post("/{material_id}/return-to-draft", response_model=MaterialPublic, responses=CHANGE_RESPONSES)
async def return_material_to_draft(
    material_id: int,
    session: SessionDep,
    principal: ContentWriter,
    response: Response,
    data: Annotated[
        ReturnToDraftRequest | None,
        Body(openapi_examples={"with a comment": {"value": {"comment": "Добавьте фото и ссылку на афишу"}}}),
    ] = None,
    if_match: IfMatchHeader = None,
) -> Material:
    """Send a material in `review` back to its author (`review → draft`), optionally with a `comment`
    (kept in the audit log). Needs `If-Match`. Roles: admin, editor."""
    material = await service.change_status(
        session,
        principal,
        material_id,
        "return_to_draft",
        expected_version(if_match),
        reason=data.comment if data else None,
    )
    set_etag(response, material)
    return material


@router.post("/{material_id}/withdraw", response_model=MaterialPublic, responses=CHANGE_RESPONSES)
async def withdraw_material(
    material_id: int,
    data: WithdrawRequest,
    session: SessionDep,
    principal: ContentWriter,
    response: Response,
    if_match: IfMatchHeader = None,
) -> Material:
    """Withdraw a material from any status, with a required `reason`; a withdrawn material can no longer
    be changed, and organisations are told to take it down. Needs `If-Match`. Roles: admin, editor."""
    material = await service.change_status(
        session, principal, material_id, "withdraw", expected_version(if_match), reason=data.reason
    )
    set_etag(response, material)
    return material
