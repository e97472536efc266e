"""Who may read which organisation's feed. One query finds the key, the organisation and the feed
generation together; the feed's cache is keyed by that generation.

- ``feed`` and ``operator`` keys read their own organisation's feed (``organisation_id`` may be
  omitted; another organisation's is 403);
- ``admin``, ``editor`` and ``monitor`` keys read any organisation's feed, named by ``organisation_id``.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from services.api.errors import Forbidden, InvalidField, NotAuthenticated, not_found
from services.api.security import key_matches, parse_prefix
from shared.models.enums import Role

ORGANISATION_BOUND = frozenset({Role.feed, Role.operator})
ANY_ORGANISATION = frozenset({Role.admin, Role.editor, Role.monitor})

ACCESS = """
SELECT k.id AS key_id, k.role, k.organisation_id AS key_organisation_id, k.key_hash, k.revoked_at,
       k.last_used_at > now() - interval '1 minute' AS recently_used,
       o.id AS organisation_id, o.name AS organisation_name, o.timezone,
       s.generation, s.epoch
FROM api_key k
CROSS JOIN feed_state s
LEFT JOIN organisation o ON o.id = COALESCE(k.organisation_id, $2::int)
WHERE k.prefix = $1
"""
TOUCH = "UPDATE api_key SET last_used_at = now() WHERE id = $1"


@dataclass(frozen=True)
class FeedAccess:
    key_id: int
    role: Role
    organisation_id: int
    organisation_name: str
    timezone: str
    generation: int
    epoch: str


def presented_key(headers: Mapping[str, str]) -> str:
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    header = headers.get("x-api-key")
    if header:
        return header.strip()
    raise NotAuthenticated(
        "send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def access_row(
    connection: asyncpg.Connection, prefix: str, organisation_id: int | None
) -> asyncpg.Record | None:
    return await connection.fetchrow(ACCESS, prefix, organisation_id)


def decide(row: asyncpg.Record | None, plaintext: str, organisation_id: int | None) -> FeedAccess:
    """The access a looked-up key row grants for this request, or the DomainError why not."""
    if row is None or row["revoked_at"] is not None or not key_matches(plaintext, row["key_hash"]):
        raise NotAuthenticated("invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    role = Role(row["role"])
    if role in ORGANISATION_BOUND:
        if row["key_organisation_id"] is None:
            raise Forbidden("this key is not bound to an organisation; issue one with POST /api/v1/feed/keys")
        if organisation_id is not None and organisation_id != row["key_organisation_id"]:
            raise Forbidden(f"this key is bound to organisation {row['key_organisation_id']}")
    elif role in ANY_ORGANISATION:
        if organisation_id is None:
            raise InvalidField("query.organisation_id", f"a {role.value} key must name the organisation_id")
    else:
        raise Forbidden(f"role '{role.value}' cannot read feeds")
    if row["organisation_id"] is None:
        raise not_found("Organisation", organisation_id)
    return FeedAccess(
        key_id=row["key_id"],
        role=role,
        organisation_id=row["organisation_id"],
        organisation_name=row["organisation_name"],
        timezone=row["timezone"],
        generation=row["generation"],
        epoch=row["epoch"],
    )


async def feed_access(
    connection: asyncpg.Connection, plaintext: str, organisation_id: int | None
) -> FeedAccess:
    """Look the key up and decide, in one query (also marks the key used, once a minute at most)."""
    prefix = parse_prefix(plaintext)
    row = None if prefix is None else await access_row(connection, prefix, organisation_id)
    access = decide(row, plaintext, organisation_id)
    assert row is not None
    if not row["recently_used"]:
        await connection.execute(TOUCH, row["key_id"])
    return access
