from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlmodel import col, select

from services.api.deps import AuditReader, SessionDep
from services.api.pagination import Page, PageDep, paginate
from shared.models import AuditEvent

router = APIRouter(prefix="/audit-events", tags=["audit"])


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 101,
                    "at": "2026-11-24T10:00:00Z",
                    "actor_key_id": 2,
                    "actor_name": "Редактор ЦУР",
                    "actor_role": "editor",
                    "organisation_id": None,
                    "action": "material.approve",
                    "entity_type": "material",
                    "entity_id": 55,
                    "changes": {"status": ["review", "approved"]},
                    "request_id": "5d1c…",
                }
            ]
        },
    )

    id: int
    at: datetime
    actor_key_id: int | None
    actor_name: str | None
    actor_role: str | None
    organisation_id: int | None
    action: str
    entity_type: str
    entity_id: int | None
    changes: dict[str, Any]
    request_id: str | None


@router.get("", response_model=Page[AuditEventPublic])
async def list_audit_events(
    session: SessionDep,
    principal: AuditReader,
    page: PageDep,
    entity_type: str | None = None,
    entity_id: int | None = None,
    organisation_id: int | None = None,
    actor_key_id: int | None = None,
    since: datetime | None = None,
) -> dict[str, object]:
    """Who changed what and when, newest first. Secrets and personal data are never in `changes`.
    Roles: admin, monitor."""
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc())
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == organisation_id)
    if actor_key_id is not None:
        query = query.where(AuditEvent.actor_key_id == actor_key_id)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    items, total = await paginate(session, query, page)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}
