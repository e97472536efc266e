"""How many posts a second the sandbox sustains per network.

Starts the sandbox as a subprocess, then drives it from a separate process with concurrent async httpx
clients: a fixed number of ``wall.post``, ``sendMessage`` and ``mediatopic.post`` calls. The last line is
``bench-sandbox: vk_posts_per_s=… telegram_posts_per_s=… ok_posts_per_s=…``.

    .venv/bin/python bench/bench_sandbox.py [--posts 5000] [--concurrency 64]
"""

import argparse
import asyncio
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.testing import running_sandbox  # noqa: E402

VK_TOKEN, VK_GROUP = "vk-user-irina", 200001
BOT_TOKEN, CHANNEL = "7000000001:AAregional-bot-demo-token-0000000001", -1001000000001
OK_APP, OK_SECRET, OK_TOKEN, OK_GROUP = (
    "CDEMOAPPKEY",
    "DEMOSECRETKEY0000000000000000000",
    "ok-token-irina",
    "70000000000001",
)


def ok_params(number: int) -> dict[str, str]:
    params = {
        "method": "mediatopic.post",
        "application_key": OK_APP,
        "format": "json",
        "type": "GROUP_THEME",
        "gid": OK_GROUP,
        "attachment": json.dumps({"media": [{"type": "text", "text": f"bench topic {number}"}]}),
    }
    secret = hashlib.md5((OK_TOKEN + OK_SECRET).encode()).hexdigest()
    pairs = "".join(f"{k}={params[k]}" for k in sorted(params))
    params["sig"] = hashlib.md5((pairs + secret).encode()).hexdigest()
    params["access_token"] = OK_TOKEN
    return params


def request_for(network: str, base: str, number: int) -> tuple[str, dict[str, str]]:
    if network == "vk":
        return f"{base}/method/wall.post", {
            "access_token": VK_TOKEN,
            "v": "5.199",
            "owner_id": str(-VK_GROUP),
            "from_group": "1",
            "message": f"bench post {number}",
            "guid": f"bench-{number}",
        }
    if network == "telegram":
        return f"{base}/bot{BOT_TOKEN}/sendMessage", {
            "chat_id": str(CHANNEL),
            "text": f"bench message {number}",
        }
    return f"{base}/fb.do", ok_params(number)


def ok_reply(network: str, reply: httpx.Response) -> bool:
    body = reply.json()
    if network == "vk":
        return "response" in body
    if network == "telegram":
        return bool(body.get("ok"))
    return isinstance(body, str)


async def drive_network(
    network: str, base: str, first: int, posts: int, concurrency: int
) -> tuple[float, float]:
    numbers = iter(range(first, first + posts))
    failures = 0

    # One client (one keep-alive connection) per worker: httpx's shared pool serialises on its lock
    # and becomes the bottleneck long before the sandbox does.
    async def worker() -> None:
        nonlocal failures
        async with httpx.AsyncClient(timeout=30) as client:
            for number in numbers:
                url, data = request_for(network, base, number)
                if not ok_reply(network, await client.post(url, data=data)):
                    failures += 1

    started = time.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    finished = time.time()
    if failures:
        raise SystemExit(f"{network}: {failures} of {posts} posts failed")
    return started, finished


def drive(network: str, base: str, first: int, posts: int, concurrency: int) -> None:
    """The client side, run in processes of its own so httpx does not share the sandbox's core."""
    started, finished = asyncio.run(drive_network(network, base, first, posts, concurrency))
    print(json.dumps({"started": started, "finished": finished}))  # noqa: T201


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def measure(network: str, base: str, posts: int, processes: int, concurrency: int) -> float:
    share = posts // processes
    drivers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--drive",
                base,
                "--network",
                network,
                "--first",
                str(i * share),
                "--posts",
                str(share),
                "--concurrency",
                str(concurrency),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    spans = []
    for driver in drivers:
        output, _ = driver.communicate()
        if driver.returncode:
            raise SystemExit(f"{network} driver failed")
        spans.append(json.loads(output.strip().splitlines()[-1]))
    elapsed = max(s["finished"] for s in spans) - min(s["started"] for s in spans)
    return share * processes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=6000, help="posts per network")
    parser.add_argument("--processes", type=int, default=2, help="client processes per network")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients per process")
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    parser.add_argument("--network", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args.network, args.drive, args.first, args.posts, args.concurrency)
        return
    results = {}
    with running_sandbox(world=ROOT / "sandbox" / "worlds" / "demo.json") as sandbox:
        cpu_before = cpu_seconds(sandbox.process.pid)
        for network in ("vk", "telegram", "ok"):
            results[network] = measure(
                network, sandbox.base_url, args.posts, args.processes, args.concurrency
            )
        cpu_per_post_ms = (cpu_seconds(sandbox.process.pid) - cpu_before) * 1000 / (3 * args.posts)
        recorded = len(sandbox.control.ledger(action="post"))
    print(  # noqa: T201
        f"posts per network: {args.posts}, "
        f"client processes: {args.processes} x {args.concurrency} concurrent, "
        f"ledger posts: {recorded}, sandbox CPU per post: {cpu_per_post_ms:.2f} ms "
        f"(about {1000 / cpu_per_post_ms:.0f} posts/s per core when clients are not the limit)"
    )
    print(  # noqa: T201
        f"bench-sandbox: vk_posts_per_s={results['vk']:.0f} telegram_posts_per_s={results['telegram']:.0f} "
        f"ok_posts_per_s={results['ok']:.0f}"
    )


if __name__ == "__main__":
    main()
