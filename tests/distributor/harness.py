"""End-to-end harness: a generated sandbox world, the same region in PostgreSQL (committed, since
real worker processes read it), and real distributor processes pointed at the sandbox."""

import asyncio
import collections
import io
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PIL import Image
from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sandbox.testing import RunningSandbox
from services.scheduler.planning import plan_week_deliveries
from services.scheduler.sweep import sweep
from shared.calendar import week_label
from shared.crypto import encrypt_secret, fingerprint
from shared.db import get_sessionmaker
from shared.models import (
    Account,
    Channel,
    Delivery,
    Material,
    MediaAsset,
    Organisation,
    ResponsiblePerson,
    Subscription,
)
from shared.queue import connect
from shared.storage import local_storage
from tests.processes import drain, start, wait_for_line

BOT = "7100000001:AAdistributor-bot-token-0000000001"
COLLECTOR = "7100000002:AAcollector-bot-token-00000000002"
OK_APP, OK_SECRET = "CDISTAPPKEY", "DISTSECRET000000000000000000000"
TIMEZONE = "Europe/Moscow"
TABLES = (
    "publication",
    "delivery",
    "notification",
    "media_asset",
    "material",
    "subscription",
    "responsible_person",
    "channel",
    "account",
    "audit_event",
    "api_key",
    "organisation",
)


@dataclass
class Region:
    organisations: list[int] = field(default_factory=list)
    channels: dict[str, list[int]] = field(default_factory=dict)  # platform -> channel ids
    vk_tokens: dict[int, str] = field(default_factory=dict)  # organisation -> its VK admin token
    materials: list[int] = field(default_factory=list)


def world(organisations: int) -> dict[str, Any]:
    vk_users = [{"id": 110000 + index} for index in range(organisations)]
    return {
        "vk": {
            "users": vk_users,
            "groups": [
                {"id": 210000 + i, "name": f"Org {i}", "screen_name": f"org{i}", "admins": [110000 + i]}
                for i in range(organisations)
            ],
            "tokens": [
                {"token": f"vk-user-{i}", "type": "user", "user_id": 110000 + i} for i in range(organisations)
            ],
        },
        "telegram": {
            "bots": [
                {"token": BOT, "username": "region_bot"},
                {"token": COLLECTOR, "username": "collector_bot"},
            ],
            "channels": [
                {
                    "id": -1001100000000 - i,
                    "title": f"Org {i}",
                    "username": f"org_channel_{i}",
                    "admin_bots": [BOT, COLLECTOR],
                }
                for i in range(organisations)
            ],
        },
        "ok": {
            "apps": [{"application_key": OK_APP, "secret_key": OK_SECRET}],
            "users": [{"uid": "571000000001", "name": "Editor", "access_token": "ok-token-editor"}],
            "groups": [
                {"gid": str(71000000000000 + i), "name": f"Org {i}", "admins": ["571000000001"]}
                for i in range(organisations)
            ],
        },
    }


def sandbox_env(sandbox: RunningSandbox, **extra: str) -> dict[str, str]:
    return {
        "HUB_VK_API_URL": sandbox.vk_url,
        "HUB_TELEGRAM_API_URL": sandbox.telegram_url,
        "HUB_TELEGRAM_FILE_URL": sandbox.telegram_file_url,
        "HUB_OK_API_URL": sandbox.ok_url,
        "HUB_RETRY_BACKOFF_BASE_S": "0.2",
        "HUB_RETRY_BACKOFF_MAX_S": "2",
        "HUB_OUTCOME_LOOKUP_DELAY_S": "2",
        "HUB_DELIVERY_LEASE_S": "4",
        "HUB_DELIVERY_BATCH_SIZE": "10",
        "HUB_TELEGRAM_CHAT_RATE_PER_MIN": "6000",
        **extra,
    }


async def reset_database() -> None:
    async with get_sessionmaker()() as session:
        await session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        await session.commit()


def png_bytes(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    return buffer.getvalue()


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


async def _add_media(
    session: AsyncSession, material_id: int, kind: str, data: bytes, content_type: str
) -> None:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    key = await local_storage().put(io.BytesIO(data), sha256=digest)
    session.add(
        MediaAsset(
            material_id=material_id,
            kind=kind,
            content_type=content_type,
            size_bytes=len(data),
            sha256=digest,
            storage_key=key,
            width=64 if kind == "photo" else None,
            height=48 if kind == "photo" else None,
        )
    )


async def seed_region(
    organisations: int,
    materials: int = 3,
    *,
    with_media: bool = True,
    platforms: tuple[str, ...] = ("vk", "telegram", "ok"),
    items_per_week: int | None = None,
) -> Region:
    region = Region(channels={platform: [] for platform in platforms})
    now = datetime.now(UTC)
    async with get_sessionmaker()() as session:
        tg_secret = {"bot_token": BOT}
        ok_secret = {
            "access_token": "ok-token-editor",
            "application_key": OK_APP,
            "application_secret_key": OK_SECRET,
        }
        observer_secret = {"bot_token": COLLECTOR}
        session.add(
            Account(
                platform="telegram",
                name="observer bot",
                secret=encrypt_secret(observer_secret),
                secret_fingerprint=fingerprint(observer_secret),
            )
        )
        telegram = Account(
            platform="telegram",
            name="bot",
            secret=encrypt_secret(tg_secret),
            secret_fingerprint=fingerprint(tg_secret),
        )
        ok = Account(
            platform="ok",
            name="ok",
            secret=encrypt_secret(ok_secret),
            secret_fingerprint=fingerprint(ok_secret),
        )
        session.add_all([telegram, ok])
        await session.flush()
        for index in range(organisations):
            organisation = Organisation(
                name=f"Организация {index}", kind="settlement", region="Тест", timezone=TIMEZONE
            )
            session.add(organisation)
            await session.flush()
            assert organisation.id is not None
            region.organisations.append(organisation.id)
            vk_secret = {"access_token": f"vk-user-{index}"}
            vk = Account(
                platform="vk",
                name=f"vk {index}",
                organisation_id=organisation.id,
                secret=encrypt_secret(vk_secret),
                secret_fingerprint=fingerprint(vk_secret),
            )
            session.add(vk)
            await session.flush()
            region.vk_tokens[organisation.id] = f"vk-user-{index}"
            specs = {
                "vk": (str(210000 + index), f"https://vk.com/org{index}", vk.id),
                "telegram": (str(-1001100000000 - index), f"https://t.me/org_channel_{index}", telegram.id),
                "ok": (str(71000000000000 + index), f"https://ok.ru/group/{71000000000000 + index}", ok.id),
            }
            for platform in platforms:
                external_id, url, account_id = specs[platform]
                channel = Channel(
                    organisation_id=organisation.id,
                    platform=platform,
                    external_id=external_id,
                    url=url,
                    title=f"Org {index} {platform}",
                    account_id=account_id,
                )
                session.add(channel)
                await session.flush()
                assert channel.id is not None
                region.channels[platform].append(channel.id)
            session.add(
                ResponsiblePerson(
                    organisation_id=organisation.id,
                    name=f"Ответственный {index}",
                    telegram_username=f"smm_person_{index}",
                    confirmed_at=now,
                )
            )
            session.add(
                Subscription(organisation_id=organisation.id, items_per_week=items_per_week or materials)
            )
        region.materials.extend(await add_materials(session, materials, now, with_media=with_media))
        await session.commit()
    return region


async def add_materials(
    session: AsyncSession, count: int, now: datetime, *, with_media: bool = False, first_index: int = 0
) -> list[int]:
    """Approved materials of this week; returns their ids (the caller commits)."""
    ids = []
    for index in range(first_index, first_index + count):
        material = Material(
            title=f"Региональная новость {index} {now.timestamp()}",
            body=f"Текст новости номер {index}. " * 5,
            hashtags=["#НашРегион"],
            topics=["общество"],
            link=f"https://region.example/news/{index}",
            week=week_label(now, TIMEZONE),
            status="approved",
            approved_at=now,
        )
        session.add(material)
        await session.flush()
        assert material.id is not None
        ids.append(material.id)
        if with_media:
            await _add_media(
                session, material.id, "photo", png_bytes((index * 40 % 255, 90, 160)), "image/png"
            )
            if index == 0:
                await _add_media(session, material.id, "video", MP4, "video/mp4")
    return ids


async def plan_and_make_due() -> int:
    """Plan the week, then pretend every planned time has come."""
    async with get_sessionmaker()() as session:
        result = await plan_week_deliveries(session, datetime.now(UTC))
        await session.execute(text("UPDATE delivery SET due_at = now(), next_attempt_at = now()"))
        await session.commit()
    return result.planned


async def wake(bucket: int) -> None:
    pool = await connect()
    try:
        async with get_sessionmaker()() as session:
            await sweep(session, pool, datetime.now(UTC), batch_size=10, bucket=bucket)
    finally:
        await pool.aclose()


async def deliveries() -> list[Delivery]:
    async with get_sessionmaker()() as session:
        return list((await session.exec(select(Delivery).order_by(col(Delivery.id)))).all())


async def wait_until(
    condition: Callable[[], Awaitable[bool]], within_s: float = 90.0, what: str = ""
) -> None:
    """Poll the database until ``condition`` holds (waiting for work, not timing it)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    rows = await deliveries()
    summary = {}
    for row in rows:
        summary[row.status] = summary.get(row.status, 0) + 1
    errors = {row.last_error for row in rows if row.last_error}
    raise AssertionError(f"timed out waiting for {what}: {summary}; errors: {sorted(errors)[:5]}")


async def all_settled() -> bool:
    rows = await deliveries()
    return bool(rows) and all(row.status in ("sent", "failed", "cancelled", "retracted") for row in rows)


class Workers:
    """Real ``python -m services.distributor`` processes, and the scheduler whose sweep wakes them."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.processes: list[subprocess.Popen[str]] = []
        self.scheduler: subprocess.Popen[str] | None = None
        self.logs: list[collections.deque[str]] = []

    def start_scheduler(self) -> None:
        """The real scheduler with a fast sweep (the planner is driven by the tests themselves)."""
        self.scheduler = start(
            "services.scheduler",
            env={
                **self.env,
                "HUB_SWEEP_INTERVAL_S": "0.5",
                "HUB_PLAN_INTERVAL_S": "86400",
                "HUB_TELEGRAM_POLL_INTERVAL_S": "0.3",
                # The distributor's part of the system: planning is driven by the tests themselves.
                "HUB_SCHEDULER_JOBS": "sweep,poll_telegram",
            },
        )
        wait_for_line(self.scheduler, "scheduler ready")
        self.logs.append(drain(self.scheduler))

    def stop_scheduler(self) -> None:
        if self.scheduler is not None and self.scheduler.poll() is None:
            self.scheduler.send_signal(signal.SIGTERM)
            try:
                self.scheduler.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.scheduler.kill()
        self.scheduler = None

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            process = start("services.distributor", env=self.env)
            wait_for_line(process, "distributor ready")
            self.logs.append(drain(process))
            self.processes.append(process)

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()


def environment_for_workers(sandbox: RunningSandbox, **extra: str) -> dict[str, str]:
    return {**os.environ, **sandbox_env(sandbox, **extra)}
