"""Request dependencies: the unit-of-work session, the authenticated principal, role checks."""

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import Forbidden, NotAuthenticated
from services.api.security import key_matches, parse_prefix
from shared.db import get_sessionmaker
from shared.models import ApiKey
from shared.models.base import utcnow
from shared.models.enums import Role


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: committed when the endpoint returns, rolled back on any error."""
    maker = getattr(request.app.state, "sessionmaker", None) or get_sessionmaker()
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer hub_…` with an API key")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: hub_…`")


@dataclass(frozen=True)
class Principal:
    key_id: int
    name: str
    role: Role
    organisation_id: int | None

    @property
    def is_operator(self) -> bool:
        return self.role is Role.operator

    def can_access_organisation(self, organisation_id: int | None) -> bool:
        return not self.is_operator or organisation_id == self.organisation_id

    def ensure_organisation(self, organisation_id: int | None) -> None:
        """Operators are bound to one organisation: anything else is refused."""
        if not self.can_access_organisation(organisation_id):
            raise Forbidden(f"this key is bound to organisation {self.organisation_id}")


LAST_USED_RESOLUTION = timedelta(minutes=1)


async def get_principal(
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header_key: Annotated[str | None, Security(_header)],
) -> Principal:
    plaintext = bearer.credentials if bearer else header_key
    if not plaintext:
        raise NotAuthenticated(
            "send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    prefix = parse_prefix(plaintext)
    key = None
    if prefix is not None:
        key = (await session.exec(select(ApiKey).where(ApiKey.prefix == prefix))).one_or_none()
    if key is None or key.revoked_at is not None or not key_matches(plaintext, key.key_hash):
        raise NotAuthenticated("invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
    assert key.id is not None
    return Principal(key_id=key.id, name=key.name, role=Role(key.role), organisation_id=key.organisation_id)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    allowed = frozenset(roles)

    async def dependency(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(role.value for role in allowed))
            raise Forbidden(f"role '{principal.role.value}' cannot do this; allowed: {names}")
        return principal

    return dependency


ANY_ROLE = (Role.admin, Role.editor, Role.operator, Role.monitor)
# Who may read everything / write the registry / write content.
Reader = Annotated[Principal, Depends(require_roles(*ANY_ROLE))]
RegistryWriter = Annotated[Principal, Depends(require_roles(Role.admin, Role.editor, Role.operator))]
ContentReader = Annotated[
    Principal, Depends(require_roles(Role.admin, Role.editor, Role.monitor, Role.operator))
]
ContentWriter = Annotated[Principal, Depends(require_roles(Role.admin, Role.editor))]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
AuditReader = Annotated[Principal, Depends(require_roles(Role.admin, Role.monitor))]
