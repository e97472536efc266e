"""``python -m sandbox --host 127.0.0.1 --port 8900 [--world world.json] [--state-file path]``."""

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from sandbox.app import SandboxApp


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--world", type=Path, help="world fixture JSON loaded at start")
    parser.add_argument("--state-file", type=Path, help="save state here and reload it on start")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")

    app = SandboxApp(world_file=args.world, state_file=args.state_file)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level=args.log_level,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    original_startup = server.startup

    async def startup(sockets: object = None) -> None:
        await original_startup(sockets=sockets)  # type: ignore[arg-type]
        if server.started:
            print(f"sandbox ready: http://{args.host}:{args.port}", flush=True)  # noqa: T201

    server.startup = startup  # type: ignore[method-assign]
    server.run()
    sys.exit(0 if server.started else 1)


if __name__ == "__main__":
    main()
