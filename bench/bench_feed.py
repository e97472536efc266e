"""The JSON feed under load: 1,000 polling organisations against a bare Starlette endpoint.

Builds a database of its own (``hub_bench_feed``) with 1,000 organisations, each with a subscription and
a ``feed`` key, and a week of approved materials with media; starts the API with uvicorn in a
subprocess and warms each organisation's feed once; then drives it with ``wrk`` from a separate process,
every request with the next organisation's key (a Lua script cycles through the 1,000 keys):

1. ``GET /api/v1/feed`` — the full 200 path (auth, generation check, cached body);
2. the same with each organisation's ``If-None-Match`` — the 304 path;
3. a bare Starlette app serving the same bytes from memory, under the same uvicorn settings.

The last line is ``bench-feed: feed_rps=… bare_rps=… ratio=… p99_ms=…`` (p99 of the 200 path).

    .venv/bin/python bench/bench_feed.py [--organisations 1000] [--duration 10] [--connections 32]
"""

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/hub_bench_feed"
BENCH_REDIS = "redis://127.0.0.1:6379/13"
BODY_ENV = "HUB_BENCH_FEED_BODY"

SEED_MATERIAL = """
INSERT INTO material (title, body, hashtags, topics, priority, week, status, approved_at, version,
created_at, updated_at) VALUES (:title, :body, '{#СДЕЛАЕМВМЕСТЕ}', :topics, :priority, :week,
'approved', now(), 1, now(), now()) RETURNING id
"""
SEED_MEDIA = """
INSERT INTO media_asset (material_id, kind, content_type, size_bytes, sha256, width, height,
storage_key, position, created_at) VALUES (:material_id, 'photo', 'image/jpeg', 2481042, :sha, 2048,
1365, :key, 0, now())
"""
SEED_ORGANISATION = """
INSERT INTO organisation (name, kind, region, timezone, is_active, created_at, updated_at) VALUES
(:name, 'settlement', 'Калужская область', 'Europe/Moscow', true, now(), now()) RETURNING id
"""
SEED_SUBSCRIPTION = """
INSERT INTO subscription (organisation_id, topics, channel_ids, mode, items_per_week, window_start,
window_end, weekdays, is_active, created_at, updated_at) VALUES (:organisation_id, :topics, '{}',
'feed', 3, '09:00', '20:00', '{1,2,3,4,5}', true, now(), now())
"""
SEED_KEY = """
INSERT INTO api_key (name, role, organisation_id, prefix, key_hash, created_at) VALUES (:name,
'feed', :organisation_id, :prefix, :hash, now())
"""

WRK_SCRIPT = """
local lines = {}
for line in io.lines("%(keys)s") do lines[#lines + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  local key, etag = lines[(counter %% #lines) + 1]:match("([^ ]+) ?(.*)")
  local headers = {["Authorization"] = "Bearer " .. key}
  if %(conditional)s and etag ~= "" then headers["If-None-Match"] = etag end
  return wrk.format("GET", "%(path)s", headers)
end
"""


def bare_app():  # type: ignore[no-untyped-def]
    """The reference: a bare Starlette endpoint returning, from memory, the bytes the feed returns to
    the same key (organisations get different bodies, by their subscriptions)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    directory = Path(os.environ[BODY_ENV])
    bodies = {path.stem: path.read_bytes() for path in directory.glob("*.json")}
    by_key = {}
    for line in (directory / "keys.txt").read_text().splitlines():
        key, etag = line.split(" ", 1)
        by_key[key] = bodies[etag.strip('"')]

    async def feed(request: Request) -> Response:
        return Response(by_key[request.headers["authorization"][7:]], media_type="application/json")

    return Starlette(routes=[Route("/api/v1/feed", feed)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(organisations: int, items: int) -> list[str]:
    """Organisations, subscriptions, feed keys and this week's materials; returns the keys."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.api.security import generate_key
    from shared.calendar import week_label

    week = week_label(datetime.now(UTC), "Europe/Moscow")
    topics = ["культура", "спорт", "образование", "здоровье"]
    engine = create_async_engine(BENCH_DATABASE)
    keys = []
    async with engine.begin() as connection:
        for number in range(items):
            material_id = (
                await connection.execute(
                    text(SEED_MATERIAL),
                    {
                        "title": f"Региональная новость {number}",
                        "body": "Текст новости для публикации в официальных сообществах. " * 8,
                        "topics": [topics[number % len(topics)]],
                        "priority": "urgent" if number % 10 == 0 else "normal",
                        "week": week,
                    },
                )
            ).scalar_one()
            await connection.execute(
                text(SEED_MEDIA),
                {
                    "material_id": material_id,
                    "sha": f"{material_id:064x}",
                    "key": f"sha256/bench/{material_id}",
                },
            )
        for number in range(organisations):
            organisation_id = (
                await connection.execute(
                    text(SEED_ORGANISATION),
                    {"name": f"Администрация поселения {number}"},
                )
            ).scalar_one()
            await connection.execute(
                text(SEED_SUBSCRIPTION),
                {"organisation_id": organisation_id, "topics": topics[: 1 + number % len(topics)]},
            )
            key = generate_key()
            await connection.execute(
                text(SEED_KEY),
                {
                    "name": f"bench {number}",
                    "organisation_id": organisation_id,
                    "prefix": key.prefix,
                    "hash": key.key_hash,
                },
            )
            keys.append(key.plaintext)
    await engine.dispose()
    return keys


def start_server(app: str, port: int, env: dict[str, str], factory: bool = False) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"{app} exited with {process.returncode}") from None
            time.sleep(0.1)  # waiting for the server socket to open, not measuring anything
    process.terminate()
    raise SystemExit(f"{app} did not start listening on {port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def run_wrk(url: str, script: Path, duration: int, connections: int, threads: int) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    assert p99 is not None, output
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if errors or socket_errors:
        print(output)  # noqa: T201
        raise SystemExit("wrk saw errors: the numbers would not mean anything")
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale}


def write_script(directory: Path, name: str, keys_file: Path, conditional: bool) -> Path:
    script = directory / f"{name}.lua"
    script.write_text(
        WRK_SCRIPT
        % {"keys": keys_file, "conditional": "true" if conditional else "false", "path": "/api/v1/feed"}
    )
    return script


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--organisations", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30, help="approved materials this week")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--app",
        default="services.api.feed.asgi:app",
        help="the API's ASGI app (default: with the lean feed path)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    from shared.migrate import migrate

    migrate(BENCH_DATABASE, recreate=True)
    keys = asyncio.run(seed(args.organisations, args.items))
    work = Path(tempfile.mkdtemp(prefix="bench-feed-"))
    env = {
        "HUB_DATABASE_URL": BENCH_DATABASE,
        "HUB_REDIS_URL": BENCH_REDIS,
        "HUB_DATA_DIR": str(work / "data"),
        "HUB_LOG_LEVEL": "WARNING",
        BODY_ENV: str(work / "bodies"),
    }
    api_port, bare_port = free_port(), free_port()
    api = start_server(args.app, api_port, env)
    try:
        lines, sizes = [], []
        (work / "bodies").mkdir()
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as http:
            http.get("/api/v1/feed", headers={"Authorization": f"Bearer {keys[0]}"})
            started = time.perf_counter()
            for key in keys:  # one cold render per organisation: fills the caches
                response = http.get("/api/v1/feed", headers={"Authorization": f"Bearer {key}"})
                response.raise_for_status()
                lines.append(f"{key} {response.headers['etag']}")
                sizes.append(len(response.content))
                (work / "bodies" / f"{response.headers['etag'].strip(chr(34))}.json").write_bytes(
                    response.content
                )
            cold_ms = (time.perf_counter() - started) * 1000 / len(keys)
        keys_file = work / "bodies" / "keys.txt"
        keys_file.write_text("\n".join(lines) + "\n")
        full = write_script(work, "full", keys_file, conditional=False)
        conditional = write_script(work, "conditional", keys_file, conditional=True)
        url = f"http://127.0.0.1:{api_port}/api/v1/feed"
        run_wrk(url, full, 2, args.connections, args.threads)  # warm-up: connection pools, memory cache
        feed = run_wrk(url, full, args.duration, args.connections, args.threads)
        not_modified = run_wrk(url, conditional, args.duration, args.connections, args.threads)
    finally:
        stop(api)
    bare = start_server(
        "bench_feed:bare_app", bare_port, {**env, "PYTHONPATH": str(ROOT / "bench")}, factory=True
    )
    try:
        url = f"http://127.0.0.1:{bare_port}/api/v1/feed"
        run_wrk(url, full, 2, args.connections, args.threads)
        reference = run_wrk(url, full, args.duration, args.connections, args.threads)
    finally:
        stop(bare)
    ratio = feed["rps"] / reference["rps"]
    print(  # noqa: T201
        f"organisations: {len(keys)}, items this week: {args.items}, body: {min(sizes)}–{max(sizes)} bytes, "
        f"wrk: {args.threads} thread(s) x {args.connections} connections x {args.duration} s, "
        f"uvicorn: 1 worker, app: {args.app}"
    )
    print(f"first (uncached) render per organisation: {cold_ms:.1f} ms")  # noqa: T201
    print(f"feed 200: {feed['rps']:.0f} req/s, p99 {feed['p99_ms']:.1f} ms")  # noqa: T201
    print(f"feed 304 (If-None-Match): {not_modified['rps']:.0f} req/s, p99 {not_modified['p99_ms']:.1f} ms")  # noqa: T201
    print(f"bare Starlette, same bytes: {reference['rps']:.0f} req/s, p99 {reference['p99_ms']:.1f} ms")  # noqa: T201
    print(  # noqa: T201
        f"bench-feed: feed_rps={feed['rps']:.0f} bare_rps={reference['rps']:.0f} ratio={ratio:.2f} "
        f"p99_ms={feed['p99_ms']:.1f}"
    )


if __name__ == "__main__":
    main()
