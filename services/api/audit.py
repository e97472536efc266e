"""Every write leaves an AuditEvent in the same transaction as the change itself."""

from contextvars import ContextVar
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import Principal
from shared.models import AuditEvent

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{field: [old, new]}`` for the fields that differ (values made JSON-friendly)."""
    diff = {}
    for field, new in after.items():
        old = before.get(field)
        if old != new:
            diff[field] = [_jsonable(old), _jsonable(new)]
    return diff


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return str(value)


def record(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    entity_type: str,
    entity_id: int | None,
    *,
    organisation_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            actor_key_id=principal.key_id if principal else None,
            actor_name=principal.name if principal else "system",
            actor_role=principal.role.value if principal else None,
            organisation_id=organisation_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            changes={key: _jsonable(value) for key, value in (changes or {}).items()},
            request_id=request_id_var.get(),
        )
    )
