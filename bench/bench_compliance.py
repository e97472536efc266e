"""Compliance at country scale, in one run:

1. builds a week in its own database (default ``hub_bench``, dropped, created and migrated):
   150,000 organisations in 11 time zones, 450,000 channels, 2,000,000 publications, all with
   ``INSERT … SELECT generate_series`` (seeded, so every run builds the same rows);
2. measures, through the API (uvicorn subprocess, real HTTP over loopback with httpx), the week's
   report of every channel and the region summary for 3,000 organisations, against the bare SQL
   aggregate over the same rows (asyncpg, same database, same run);
3. runs the observation pass for 9,000 sandbox channels (3,000 VK, 3,000 OK, 3,000 Telegram) with
   the shared Redis rate limiter on, and reports requests made and minutes taken.

Last line: ``bench-compliance: report_ms=… bare_sql_ms=… ratio=… region_summary_ms=…``.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from sandbox.testing import free_port, running_sandbox  # noqa: E402

ZONES = [
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Chita",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
]
REGION = "Хабаровский край"
REGION_IDS = list(range(1, 3001))  # the region's organisations (see build_country)
WEEK = "2026-W48"

# What a DBA would write first: each channel's distinct items standing in its organisation's week.
BARE_SQL = """
SELECT o.id, c.id, count(DISTINCT COALESCE(p.material_id, -p.id)) AS counted
FROM organisation o
JOIN channel c ON c.organisation_id = o.id
LEFT JOIN publication p ON p.channel_id = c.id
     AND p.published_at >= ($1::date::timestamp AT TIME ZONE o.timezone)
     AND p.published_at < (($1::date + 7)::timestamp AT TIME ZONE o.timezone)
     AND p.deleted_at IS NULL
WHERE o.id BETWEEN $2 AND $3
GROUP BY o.id, c.id
ORDER BY o.id, c.id
"""


def log(message: str) -> None:
    print(message, flush=True)  # noqa: T201


async def build_country(dsn: str, organisations: int, publications: int, monday: date) -> None:
    connection = await asyncpg.connect(dsn)
    zones = "ARRAY[" + ",".join(f"'{zone}'" for zone in ZONES) + "]"
    monday_utc = datetime.combine(monday, datetime.min.time(), tzinfo=UTC)
    try:
        started = time.perf_counter()
        # Bulk load without per-row triggers (the feed's change tracking bumps a counter per row; a
        # generated country has no feed history to track). Needs a superuser, as the bench database has.
        await connection.execute("SET session_replication_role = replica")
        await connection.execute("SELECT setseed(0.48)")
        await connection.execute(
            f"""
            INSERT INTO organisation (id, name, kind, region, timezone, is_active, created_at, updated_at)
            SELECT g, 'Организация ' || g, 'municipal_district',
                   CASE WHEN g <= 3000 THEN '{REGION}' ELSE 'Регион ' || (g % 49 + 1) END,
                   ({zones})[g % 11 + 1], true, now() - interval '90 days', now() - interval '90 days'
            FROM generate_series(1, $1) g""",
            organisations,
        )
        await connection.execute("SELECT setval('organisation_id_seq', $1)", organisations)
        await connection.execute(
            """
            INSERT INTO channel (id, organisation_id, platform, external_id, url, status, status_changed_at,
                                 created_at, updated_at)
            SELECT (o - 1) * 3 + k, o, (ARRAY['vk','ok','telegram'])[k], ((o - 1) * 3 + k)::text,
                   'https://example.ru/c/' || ((o - 1) * 3 + k),
                   CASE WHEN ((o - 1) * 3 + k) % 97 = 0 THEN 'credentials_invalid' ELSE 'active' END,
                   now() - interval '3 days', now() - interval '90 days', now() - interval '90 days'
            FROM generate_series(1, $1) o, generate_series(1, 3) k""",
            organisations,
        )
        await connection.execute("SELECT setval('channel_id_seq', $1)", organisations * 3)
        await connection.execute(
            """
            INSERT INTO subscription (organisation_id, topics, channel_ids, mode, items_per_week,
                                      window_start,
                                      window_end, weekdays, is_active, created_at, updated_at)
            SELECT o, '{}', '{}', 'auto', 3, '09:00', '20:00', '{1,2,3,4,5}', o % 50 <> 0, now(), now()
            FROM generate_series(1, $1) o""",
            organisations,
        )
        await connection.execute(
            """
            INSERT INTO material (id, title, body, hashtags, topics, priority, week, status, approved_at,
                                  version,
                                  created_at, updated_at)
            SELECT g, 'Материал ' || g, 'Текст материала ' || g, '{}', '{}', 'normal', $1,
                   CASE WHEN g <= 11 THEN 'approved' ELSE 'withdrawn' END, $2, 1, $2, $2
            FROM generate_series(1, 12) g""",
            WEEK,
            monday_utc - timedelta(days=3),
        )
        await connection.execute("SELECT setval('material_id_seq', 12)")
        await connection.execute(
            """
            INSERT INTO publication (channel_id, organisation_id, external_post_id, url, published_at, text,
                                     has_photo, has_video, source, material_id, match_method, deleted_at,
                                     confirmed_at, created_at, updated_at)
            SELECT ch, (ch - 1) / 3 + 1, g::text, 'https://example.ru/p/' || g, at, '',
                   r1 < 0.7, r1 > 0.95, src,
                   CASE WHEN r2 < 0.75 THEN 1 + (r2 * 15)::int % 12 END,
                   CASE WHEN r2 < 0.75
                        THEN (ARRAY['post_id','repost','link','text_similarity'])[1 + g % 4] END,
                   CASE WHEN r3 < 0.02 THEN at + interval '1 day' END,
                   CASE WHEN src = 'reported' AND r3 < 0.8 THEN at END, at, at
            FROM (
                SELECT g, 1 + (random() * ($1 - 1))::int AS ch,
                       random() AS r1, random() AS r2, random() AS r3,
                       $3::timestamptz - interval '14 hours' + random() * interval '7 days 26 hours' AS at,
                       (ARRAY['distributor','observed','observed','reported'])[1 + (random() * 3)::int] AS src
                FROM generate_series(1, $2) g
            ) s""",
            organisations * 3,
            publications,
            monday_utc,
        )
        await connection.execute("ANALYZE")
        log(
            f"built {organisations} organisations, {organisations * 3} channels, {publications} publications "
            f"in {time.perf_counter() - started:.0f} s"
        )
    finally:
        await connection.close()


async def close_due(async_url: str) -> str:
    """Close the region's weeks that are due now, as the scheduler's closer would (``close_week``,
    idempotent: a later run with ``--skip-build`` closes only what fell due since), so the summary's
    past weeks read frozen rows. Only the region's organisations: closing the whole country through
    ``close_week`` takes minutes a week (its ``= ANY`` of 150,000 ids), which is not what is measured."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel.ext.asyncio.session import AsyncSession

    from shared.compliance import shift_week
    from shared.compliance_close import close_week

    engine = create_async_engine(async_url)
    started, totals = time.perf_counter(), [0, 0, 0]
    try:
        async with AsyncSession(engine) as session:
            for back in range(5, 0, -1):
                closed = await close_week(
                    session, shift_week(WEEK, -back), datetime.now(UTC), organisation_ids=REGION_IDS
                )
                totals = [a + b for a, b in zip(totals, closed, strict=True)]
            await session.commit()
    finally:
        await engine.dispose()
    return (
        f"closed the region's due weeks ({shift_week(WEEK, -5)}..{shift_week(WEEK, -1)}): "
        f"{totals[0]} organisation-weeks, {totals[1]} channel rows, {totals[2]} evidence rows in "
        f"{time.perf_counter() - started:.0f} s"
    )


async def create_admin_key(dsn: str) -> str:
    from services.api.security import generate_key

    key = generate_key()
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO api_key (name, role, prefix, key_hash, created_at) "
            "VALUES ('bench', 'admin', $1, $2, now())",
            key.prefix,
            key.key_hash,
        )
    finally:
        await connection.close()
    return key.plaintext


async def time_bare(
    dsn: str, monday: date, runs: int, first: int = 0, last: int = 2**31 - 1
) -> tuple[float, int]:
    """The bare aggregate over organisations ``first``..``last`` (by default all of them)."""
    connection = await asyncpg.connect(dsn)
    # The same planner settings the report's transaction uses (work_mem, no JIT), so the comparison is fair.
    await connection.execute("SET work_mem = '256MB'; SET jit = off")
    try:
        timings, rows = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            rows = len(await connection.fetch(BARE_SQL, monday, first, last))
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        await connection.close()
    return statistics.median(timings), rows


async def time_api(
    base_url: str, key: str, path: str, params: dict[str, Any], runs: int
) -> tuple[float, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=600, headers={"X-API-Key": key}) as http:
        timings, reply = [], None
        for _ in range(runs):
            started = time.perf_counter()
            reply = await http.get(path, params=params)
            body = reply.content
            timings.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 200, reply.text[:500]
        assert reply is not None
        return statistics.median(timings), (reply, len(body))


async def walk_report(base_url: str, key: str, path: str, limit: int) -> tuple[float, int, int]:
    """Every page of the report, one after another, as a client would read it: (ms, rows, pages)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=600, headers={"X-API-Key": key}) as http:
        started, rows, pages, after = time.perf_counter(), 0, 0, 0
        while True:
            reply = await http.get(path, params={"after": after, "limit": limit})
            assert reply.status_code == 200, reply.text[:500]
            page = reply.json()
            rows, pages = rows + page["channels"], pages + 1
            if page["next_after"] is None:
                return (time.perf_counter() - started) * 1000, rows, pages
            after = page["next_after"]


def start_api(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "services.api.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the API did not start")


async def observation_pass(dsn: str, per_network: int, redis_url: str) -> dict[str, Any]:
    """9,000 sandbox channels (VK, OK, Telegram in thirds), 30 VK/OK tokens and 10 bots; one post each."""
    vk_tokens, bots = 30, 10
    groups = list(range(1_000_001, 1_000_001 + per_network))  # above the generated country ids
    ok_groups = [str(80000000000001 + n) for n in range(per_network)]
    tg_channels = [-1002000000001 - n for n in range(per_network)]
    world = {
        "vk": {
            "users": [{"id": 110001 + t} for t in range(vk_tokens)],
            "groups": [
                {"id": g, "name": f"g{g}", "admins": [110001 + n % vk_tokens]} for n, g in enumerate(groups)
            ],
            "tokens": [
                {"token": f"vk-bench-{t}", "type": "user", "user_id": 110001 + t} for t in range(vk_tokens)
            ],
        },
        "telegram": {
            "bots": [{"token": f"70000100{b:02d}:AAbench-observe-bot-token-{b:08d}"} for b in range(bots)],
            "users": [{"id": 510001}],
            "channels": [
                {
                    "id": c,
                    "title": f"c{c}",
                    "admin_users": [510001],
                    "admin_bots": [f"70000100{n % bots:02d}:AAbench-observe-bot-token-{n % bots:08d}"],
                }
                for n, c in enumerate(tg_channels)
            ],
        },
        "ok": {
            "apps": [{"application_key": "CBENCHKEY", "secret_key": "BENCHSECRET00000000000000000000"}],
            "users": [
                {"uid": str(580000000001 + t), "access_token": f"ok-bench-{t}"} for t in range(vk_tokens)
            ],
            "groups": [
                {"gid": gid, "name": gid, "admins": [str(580000000001 + n % vk_tokens)]}
                for n, gid in enumerate(ok_groups)
            ],
        },
    }
    with running_sandbox() as sandbox:
        await sandbox.acontrol.load_world(world)
        started = time.perf_counter()
        async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=60) as http:
            semaphore = asyncio.Semaphore(32)

            async def create(route: str, body: dict[str, Any]) -> None:
                async with semaphore:
                    (await http.post(f"/_control/{route}", json=body)).raise_for_status()

            await asyncio.gather(
                *(
                    create(
                        "vk/posts", {"owner_id": -g, "user_id": 110001 + n % vk_tokens, "text": f"Пост {g}"}
                    )
                    for n, g in enumerate(groups)
                ),
                *(
                    create(
                        "ok/topics",
                        {"gid": gid, "uid": str(580000000001 + n % vk_tokens), "text": f"Тема {gid}"},
                    )
                    for n, gid in enumerate(ok_groups)
                ),
                *(
                    create("telegram/posts", {"chat_id": c, "user_id": 510001, "text": f"Пост {c}"})
                    for c in tg_channels
                ),
            )
        log(
            f"sandbox world: {3 * per_network} channels with one post each, made in "
            f"{time.perf_counter() - started:.0f} s"
        )
        os.environ.update(
            {
                "HUB_VK_API_URL": sandbox.vk_url,
                "HUB_TELEGRAM_API_URL": sandbox.telegram_url,
                "HUB_TELEGRAM_FILE_URL": sandbox.telegram_file_url,
                "HUB_OK_API_URL": sandbox.ok_url,
                "HUB_DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://"),
                "HUB_REDIS_URL": redis_url,
            }
        )
        return await _observe(per_network, groups, ok_groups, tg_channels, vk_tokens, bots)


async def _observe(
    per_network: int,
    groups: list[int],
    ok_groups: list[str],
    tg_channels: list[int],
    vk_tokens: int,
    bots: int,
) -> dict[str, Any]:
    from redis.asyncio import Redis

    from services.scheduler.observe import observe_ok, observe_vk, poll_telegram
    from shared.adapters.observe_vk import VkWallReader
    from shared.adapters.ok import OkAdapter
    from shared.adapters.telegram import TelegramAdapter
    from shared.crypto import encrypt_secret, fingerprint
    from shared.db import get_sessionmaker
    from shared.models import Account, Channel, Organisation
    from shared.ratelimit import RateLimiter
    from shared.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    async with get_sessionmaker()() as session:
        accounts: dict[str, list[int]] = {"vk": [], "ok": [], "telegram": []}
        secrets = {
            "vk": [{"access_token": f"vk-bench-{t}"} for t in range(vk_tokens)],
            "ok": [
                {
                    "access_token": f"ok-bench-{t}",
                    "application_key": "CBENCHKEY",
                    "application_secret_key": "BENCHSECRET00000000000000000000",
                }
                for t in range(vk_tokens)
            ],
            "telegram": [
                {"bot_token": f"70000100{b:02d}:AAbench-observe-bot-token-{b:08d}"} for b in range(bots)
            ],
        }
        for platform, values in secrets.items():
            for value in values:
                account = Account(
                    platform=platform,
                    name=f"bench {platform}",
                    secret=encrypt_secret(value),
                    secret_fingerprint=fingerprint(value),
                )
                session.add(account)
                await session.flush()
                accounts[platform].append(account.id)  # type: ignore[arg-type]
        organisations = []
        for n in range(per_network):
            organisation = Organisation(
                name=f"Песочница {n}", kind="settlement", region="Песочница", timezone=ZONES[n % len(ZONES)]
            )
            organisations.append(organisation)
        session.add_all(organisations)
        await session.flush()
        for n, organisation in enumerate(organisations):
            session.add_all(
                [
                    Channel(
                        organisation_id=organisation.id,
                        platform="vk",
                        external_id=str(groups[n]),  # type: ignore[arg-type]
                        url=f"https://vk.com/club{groups[n]}",
                        account_id=accounts["vk"][n % vk_tokens],
                    ),
                    Channel(
                        organisation_id=organisation.id,
                        platform="ok",
                        external_id=ok_groups[n],  # type: ignore[arg-type]
                        url=f"https://ok.ru/group/{ok_groups[n]}",
                        account_id=accounts["ok"][n % vk_tokens],
                    ),
                    Channel(
                        organisation_id=organisation.id,
                        platform="telegram",
                        external_id=str(tg_channels[n]),  # type: ignore[arg-type]
                        url=f"https://t.me/c/{tg_channels[n]}",
                        account_id=accounts["telegram"][n % bots],
                    ),
                ]
            )
        await session.commit()
        redis = Redis.from_url(settings.redis_url)
        await redis.flushdb()
        limiter = RateLimiter(redis, prefix="hub:bench-observe:", max_wait_s=600)
        reader, ok, telegram = VkWallReader(settings), OkAdapter(settings), TelegramAdapter(settings)
        now = datetime.now(UTC)
        figures: dict[str, Any] = {}
        total_started = time.perf_counter()
        for name, run in (
            ("vk", lambda: observe_vk(session, now, limiter=limiter, reader=reader, settings=settings)),
            ("ok", lambda: observe_ok(session, now, limiter=limiter, adapter=ok, settings=settings)),
            ("telegram", lambda: poll_telegram(session, now, adapter=telegram, settings=settings)),
        ):
            started = time.perf_counter()
            result = await run()
            await session.commit()
            figures[name] = {
                "requests": result.requests,
                "channels": result.channels,
                "posts": result.posts,
                "errors": result.errors,
                "seconds": round(time.perf_counter() - started, 1),
            }
        figures["minutes"] = round((time.perf_counter() - total_started) / 60, 2)
        await reader.aclose()
        await ok.aclose()
        await telegram.aclose()
        await redis.aclose()
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="hub_bench")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--organisations", type=int, default=150_000)
    parser.add_argument("--publications", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=500, help="organisations in the timed page")
    parser.add_argument("--walk-page-size", type=int, default=5000, help="page size of the full walk")
    parser.add_argument("--observe-per-network", type=int, default=3000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--skip-build", action="store_true", help="reuse the database of an earlier run")
    args = parser.parse_args()
    dsn = f"{args.server}/{args.database}"
    async_url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    monday = date.fromisocalendar(2026, 48, 1)
    if not args.skip_build:
        from shared.migrate import migrate

        await asyncio.to_thread(migrate, async_url, recreate=True)
        await build_country(dsn, args.organisations, args.publications, monday)
    log(await close_due(async_url))
    key = await create_admin_key(dsn)
    port = free_port()
    env = {**os.environ, "HUB_DATABASE_URL": async_url, "HUB_REDIS_URL": args.redis, "PYTHONPATH": str(ROOT)}
    api = start_api(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        report = f"/api/v1/compliance/weeks/{WEEK}/report"
        # One page of the report (the first `--page-size` organisations) against the bare aggregate
        # over the same organisations. Warm both paths once (caches, prepared statements), then time.
        page_params = {"after": 0, "limit": args.page_size}
        await time_api(base, key, report, page_params, 1)
        report_ms, (reply, size) = await time_api(base, key, report, page_params, args.runs)
        page = reply.json()
        first, last = page["rows"][0]["organisation_id"], page["rows"][-1]["organisation_id"]
        await time_bare(dsn, monday, 1, first, last)
        bare_ms, bare_rows = await time_bare(dsn, monday, args.runs, first, last)
        log(
            f"week report, one page: organisations {first}..{last}, {page['channels']} rows, "
            f"{size / 1e6:.1f} MB of JSON, median of {args.runs}: {report_ms:.0f} ms through the API "
            f"(uvicorn + httpx over loopback); bare SQL over the same organisations ({bare_rows} rows "
            f"via asyncpg): {bare_ms:.0f} ms"
        )
        walk_ms, walk_rows, walk_pages = await walk_report(base, key, report, args.walk_page_size)
        full_ms, full_rows = await time_bare(dsn, monday, 1)
        log(
            f"week report, every page: {walk_pages} pages of {args.walk_page_size} organisations, "
            f"{walk_rows} rows in {walk_ms:.0f} ms through the API; bare SQL over the country "
            f"({full_rows} rows): {full_ms:.0f} ms; ratio {walk_ms / full_ms:.2f}"
        )
        summary_ms, (summary, _) = await time_api(
            base, key, f"/api/v1/compliance/weeks/{WEEK}/summary", {"region": REGION, "weeks": 6}, args.runs
        )
        latest = summary.json()["weeks"][-1]
        log(
            f"region summary ({REGION}: {latest['organisations']} organisations, "
            f"{latest['channels']} channels, "
            f"6 weeks): {summary_ms:.0f} ms"
        )
    finally:
        api.terminate()
        api.wait(timeout=10)
    if args.observe_per_network:
        figures = await observation_pass(dsn, args.observe_per_network, args.redis)
        requests = sum(figures[name]["requests"] for name in ("vk", "ok", "telegram"))
        log(
            f"observation of {3 * args.observe_per_network} sandbox channels with the rate limits on: "
            f"{requests} requests in {figures['minutes']} min; "
            + "; ".join(
                f"{name}: {figures[name]['requests']} requests, {figures[name]['posts']} posts, "
                f"{figures[name]['seconds']} s"
                for name in ("vk", "ok", "telegram")
            )
        )
    log(
        f"bench-compliance: report_ms={report_ms:.0f} bare_sql_ms={bare_ms:.0f} "
        f"ratio={report_ms / bare_ms:.2f} "
        f"region_summary_ms={summary_ms:.0f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
