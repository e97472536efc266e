"""Small async factories: rows straight into the test's transaction, returning what tests need."""

import itertools
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.security import generate_key
from shared.crypto import encrypt_secret, fingerprint
from shared.models import Account, ApiKey, Channel, Organisation
from shared.models.enums import Role

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


async def make_key(
    session: AsyncSession, role: Role | str, organisation_id: int | None = None
) -> dict[str, str]:
    """An API key of ``role``; returns the headers that authenticate with it."""
    new = generate_key()
    session.add(
        ApiKey(
            name=unique(f"{role}-key"),
            role=str(role),
            organisation_id=organisation_id,
            prefix=new.prefix,
            key_hash=new.key_hash,
        )
    )
    await session.flush()
    return {"Authorization": f"Bearer {new.plaintext}"}


async def make_organisation(session: AsyncSession, **fields: Any) -> Organisation:
    values: dict[str, Any] = {
        "name": unique("Администрация"),
        "kind": "municipal_district",
        "region": "Хабаровский край",
        "timezone": "Asia/Vladivostok",
    }
    values.update(fields)
    organisation = Organisation(**values)
    session.add(organisation)
    await session.flush()
    return organisation


async def make_account(session: AsyncSession, platform: str = "telegram", **fields: Any) -> Account:
    secrets = (
        fields.pop("credentials", None)
        or {
            "telegram": {"bot_token": "123456:sandbox-token"},
            "vk": {"access_token": "vk1.a.user-token"},
            "ok": {"access_token": "ok-token", "application_key": "CBA", "application_secret_key": "secret"},
        }[platform]
    )
    account = Account(
        platform=platform,
        name=unique("account"),
        secret=encrypt_secret(secrets),
        secret_fingerprint=fingerprint(secrets),
        **fields,
    )
    session.add(account)
    await session.flush()
    return account


async def make_channel(
    session: AsyncSession, organisation: Organisation, platform: str = "telegram", **fields: Any
) -> Channel:
    external_id = fields.pop("external_id", None) or str(next(_counter) + 100000)
    url = {
        "vk": f"https://vk.com/club{external_id}",
        "ok": f"https://ok.ru/group/{external_id}",
        "telegram": f"https://t.me/c/{external_id}",
    }[platform]
    channel = Channel(
        organisation_id=organisation.id,
        platform=platform,
        external_id=external_id,
        url=fields.pop("url", url),
        **fields,
    )  # type: ignore[arg-type]
    session.add(channel)
    await session.flush()
    return channel


from shared.models import Material  # noqa: E402  (appended with the content factories)


async def make_material(session: AsyncSession, **fields: Any) -> Material:
    """A material straight into the database (default: a draft of week 2026-W48)."""
    values: dict[str, Any] = {
        "title": unique("Новость"),
        "body": "Текст новости",
        "week": "2026-W48",
        "hashtags": ["#СДЕЛАЕМВМЕСТЕ"],
        "topics": ["культура"],
    }
    values.update(fields)
    material = Material(**values)
    session.add(material)
    await session.flush()
    return material


from shared.models import MediaAsset, Subscription  # noqa: E402  (appended with the feed factories)


async def make_subscription(session: AsyncSession, organisation: Organisation, **fields: Any) -> Subscription:
    """An active subscription of ``organisation`` (default: every topic, feed mode)."""
    values: dict[str, Any] = {"organisation_id": organisation.id, "mode": "feed", "topics": []}
    values.update(fields)
    subscription = Subscription(**values)
    session.add(subscription)
    await session.flush()
    return subscription


async def make_media(
    session: AsyncSession, material: Material, data: bytes | None = None, **fields: Any
) -> MediaAsset:
    """A photo of ``material`` whose bytes really are in the media storage (default: a tiny JPEG-like
    blob)."""
    import hashlib
    import io

    from shared.storage import local_storage

    content = data if data is not None else b"\xff\xd8\xff\xe0" + unique("photo").encode() * 10
    digest = hashlib.sha256(content).hexdigest()
    storage_key = await local_storage().put(io.BytesIO(content), sha256=digest)
    values: dict[str, Any] = {
        "material_id": material.id,
        "kind": "photo",
        "content_type": "image/jpeg",
        "size_bytes": len(content),
        "sha256": digest,
        "storage_key": storage_key,
        "width": 640,
        "height": 480,
    }
    values.update(fields)
    asset = MediaAsset(**values)
    session.add(asset)
    await session.flush()
    return asset


from datetime import UTC, datetime  # noqa: E402  (appended with the compliance factories)

from shared.models import Publication, ResponsiblePerson  # noqa: E402


async def make_publication(
    session: AsyncSession, channel: Channel, published_at: datetime, **fields: Any
) -> Publication:
    """A publication on ``channel`` (default: observed own news, no media)."""
    values: dict[str, Any] = {
        "channel_id": channel.id,
        "organisation_id": channel.organisation_id,
        "external_post_id": unique("post"),
        "url": f"{channel.url}/post",
        "published_at": published_at,
        "text": "Пост",
        "source": "observed",
    }
    values.update(fields)
    publication = Publication(**values)
    session.add(publication)
    await session.flush()
    return publication


async def make_person(session: AsyncSession, organisation: Organisation, **fields: Any) -> ResponsiblePerson:
    values: dict[str, Any] = {
        "organisation_id": organisation.id,
        "name": unique("Ответственный"),
        "email": "person@example.ru",
        "confirmed_at": datetime.now(UTC),
    }
    values.update(fields)
    person = ResponsiblePerson(**values)
    session.add(person)
    await session.flush()
    return person
