"""Writing, reviewing and approving materials. Every change locks the row, checks the version the
client read, bumps it and leaves an audit event."""

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.crud import apply_update
from services.api.deps import Principal
from services.api.errors import Conflict, InvalidField, not_found
from services.api.materials.concurrency import check_version
from services.api.materials.schemas import MaterialCreate, MaterialUpdate
from services.api.pagination import PageParams, paginate
from shared.models import Material
from shared.models.base import utcnow
from shared.models.enums import MaterialPriority, MaterialStatus, Role

# What an operator key may see: what the center released, and what it took back.
OPERATOR_VISIBLE = (MaterialStatus.approved.value, MaterialStatus.withdrawn.value)


def _check_window(publish_not_before: datetime | None, expires_at: datetime | None) -> None:
    if publish_not_before is not None and expires_at is not None and expires_at <= publish_not_before:
        raise InvalidField("body.expires_at", "expires_at must be later than publish_not_before")


def can_see(principal: Principal, material: Material) -> bool:
    return principal.role is not Role.operator or material.status in OPERATOR_VISIBLE


async def get_visible_material(session: AsyncSession, principal: Principal, material_id: int) -> Material:
    """The material, or 404 — also when an operator asks for one not yet approved (its existence is
    the center's business until then)."""
    material = await session.get(Material, material_id)
    if material is None or not can_see(principal, material):
        raise not_found("Material", material_id)
    return material


async def lock_material(session: AsyncSession, material_id: int, expected_version: int | None) -> Material:
    """Load the material FOR UPDATE and check the client's version against it under the lock."""
    query = (
        select(Material)
        .where(Material.id == material_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    material = (await session.exec(query)).one_or_none()
    if material is None:
        raise not_found("Material", material_id)
    check_version(material, expected_version)
    return material


def ensure_editable(material: Material) -> None:
    if material.status == MaterialStatus.withdrawn.value:
        raise Conflict(f"material {material.id} is withdrawn and can no longer be changed")


def mark_content_changed(material: Material) -> dict[str, Any]:
    """Bump the version; an approved material whose content changed must be approved again.
    Returns the workflow fields that changed, for the audit record."""
    material.version += 1
    if material.status != MaterialStatus.approved.value:
        return {}
    changes = {
        "status": [material.status, MaterialStatus.review.value],
        "approved_by": [material.approved_by, None],
    }
    material.status = MaterialStatus.review.value
    material.approved_by = None
    material.approved_at = None
    return changes


async def create_material(session: AsyncSession, principal: Principal, data: MaterialCreate) -> Material:
    _check_window(data.publish_not_before, data.expires_at)
    values = data.model_dump()
    values["priority"] = data.priority.value
    material = Material(**values, created_by=principal.key_id)
    session.add(material)
    await session.flush()
    audit.record(
        session, principal, "material.create", "material", material.id, changes=data.model_dump(mode="json")
    )
    return material


async def update_material(
    session: AsyncSession,
    principal: Principal,
    material_id: int,
    data: MaterialUpdate,
    expected_version: int | None,
) -> Material:
    material = await lock_material(session, material_id, expected_version)
    ensure_editable(material)
    fields = data.model_fields_set - {"version"}
    publish_not_before = (
        data.publish_not_before if "publish_not_before" in fields else material.publish_not_before
    )
    expires_at = data.expires_at if "expires_at" in fields else material.expires_at
    _check_window(publish_not_before, expires_at)
    diff = apply_update(material, data, exclude={"version"})
    if "priority" in diff:
        material.priority = MaterialPriority(material.priority).value
    if diff:
        diff.update(mark_content_changed(material))
        await session.flush()
        audit.record(session, principal, "material.update", "material", material_id, changes=diff)
    return material


# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[MaterialStatus, ...], MaterialStatus]] = {
    "submit": ((MaterialStatus.draft,), MaterialStatus.review),
    "approve": ((MaterialStatus.review,), MaterialStatus.approved),
    "return_to_draft": ((MaterialStatus.review,), MaterialStatus.draft),
    "withdraw": (
        (MaterialStatus.draft, MaterialStatus.review, MaterialStatus.approved),
        MaterialStatus.withdrawn,
    ),
}


def _check_approvable(material: Material) -> None:
    """What approval requires: a non-blank title and body, and an expiry still in the future."""
    problems = []
    if not material.body.strip():
        problems.append("the body is empty")
    if material.expires_at is not None and material.expires_at <= utcnow():
        problems.append("it has already expired (expires_at is in the past)")
    if problems:
        raise Conflict(f"material {material.id} cannot be approved: " + "; ".join(problems))


async def change_status(
    session: AsyncSession,
    principal: Principal,
    material_id: int,
    action: str,
    expected_version: int | None,
    *,
    reason: str | None = None,
) -> Material:
    """Move the material along the workflow ``draft → review → approved`` (or back to draft from
    review, or to withdrawn from anywhere); anything else is a 409 that says what is allowed."""
    sources, target = TRANSITIONS[action]
    material = await lock_material(session, material_id, expected_version)
    current = MaterialStatus(material.status)
    if current not in sources:
        allowed = " or ".join(status.value for status in sources)
        raise Conflict(
            f"cannot {action.replace('_', ' ')} material {material_id}: it is '{current.value}', "
            f"and this action needs it to be {allowed}"
        )
    now = utcnow()
    changes: dict[str, Any] = {"status": [current.value, target.value]}
    if target is MaterialStatus.approved:
        _check_approvable(material)
        material.approved_by = principal.key_id
        material.approved_at = now
    if target is MaterialStatus.withdrawn:
        material.withdrawn_reason = reason
        material.withdrawn_at = now
        changes["reason"] = reason
    if action == "return_to_draft" and reason:
        changes["comment"] = reason
    material.status = target.value
    material.version += 1
    await session.flush()
    audit.record(session, principal, f"material.{action}", "material", material_id, changes=changes)
    return material


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_materials(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    status: MaterialStatus | None,
    week: str | None,
    priority: MaterialPriority | None,
    topic: str | None,
    hashtag: str | None,
    q: str | None,
) -> tuple[list[Material], int]:
    query = select(Material).order_by(col(Material.id).desc())
    if principal.role is Role.operator:
        query = query.where(col(Material.status).in_(OPERATOR_VISIBLE))
    if status is not None:
        query = query.where(Material.status == status.value)
    if week is not None:
        query = query.where(Material.week == week)
    if priority is not None:
        query = query.where(Material.priority == priority.value)
    if topic is not None:
        query = query.where(col(Material.topics).contains([topic]))
    if hashtag is not None:
        query = query.where(col(Material.hashtags).contains([hashtag]))
    if q:
        query = query.where(col(Material.title).ilike(f"%{_escape_like(q)}%", escape="\\"))
    return await paginate(session, query, page)
