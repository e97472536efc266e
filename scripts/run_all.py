"""Run the hub's processes together with prefixed, readable logs; Ctrl-C (or SIGTERM) stops them all.

    python scripts/run_all.py [--sandbox]

With --sandbox the network sandbox runs too (demo world, state kept in var/sandbox-state.json) and
the services are pointed at it through their base-URL settings."""

import argparse
import asyncio
import os
import signal
import sys

COLOURS = {"api": 36, "distributor": 35, "scheduler": 33, "sandbox": 32}
SANDBOX_PORT = int(os.environ.get("HUB_SANDBOX_PORT", "8900"))


def sandbox_environment() -> dict[str, str]:
    base = f"http://127.0.0.1:{SANDBOX_PORT}"
    return {
        "HUB_VK_API_URL": f"{base}/method/",
        "HUB_TELEGRAM_API_URL": f"{base}/bot",
        "HUB_TELEGRAM_FILE_URL": f"{base}/file/bot",
        "HUB_OK_API_URL": f"{base}/fb.do",
    }


async def pump(name: str, stream: asyncio.StreamReader) -> None:
    colour = COLOURS.get(name, 37) if sys.stdout.isatty() else None
    label = f"\033[{colour}m{name:<11}\033[0m|" if colour else f"{name:<11}|"
    while line := await stream.readline():
        sys.stdout.write(f"{label} {line.decode(errors='replace')}")
        sys.stdout.flush()


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sandbox", action="store_true", help="also run the network sandbox and use it")
    args = parser.parse_args()
    python = sys.executable
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    commands: dict[str, list[str]] = {}
    if args.sandbox:
        os.makedirs("var", exist_ok=True)
        commands["sandbox"] = [
            python,
            "-m",
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(SANDBOX_PORT),
            "--world",
            "sandbox/worlds/demo.json",
            "--state-file",
            "var/sandbox-state.json",
        ]
        env.update(sandbox_environment())
    commands.update(
        {
            "api": [python, "-m", "services.api"],
            "distributor": [python, "-m", "services.distributor"],
            "scheduler": [python, "-m", "services.scheduler"],
        }
    )
    processes: dict[str, asyncio.subprocess.Process] = {}
    pumps = []
    for name, command in commands.items():
        process = await asyncio.create_subprocess_exec(
            *command,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order
        )
        processes[name] = process
        assert process.stdout is not None
        pumps.append(asyncio.create_task(pump(name, process.stdout)))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    waiters = {asyncio.create_task(process.wait()): name for name, process in processes.items()}
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *waiters], return_when=asyncio.FIRST_COMPLETED)
    exit_code = 0
    for task in done:
        if task in waiters:
            exit_code = task.result() or 1
            print(f"run: {waiters[task]} exited with code {task.result()}; stopping the others", flush=True)
    for process in processes.values():
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(
            asyncio.gather(*(process.wait() for process in processes.values())), timeout=15
        )
    except TimeoutError:
        for name, process in processes.items():
            if process.returncode is None:
                print(f"run: {name} did not stop in 15 s; killing it", flush=True)
                process.kill()
    await asyncio.gather(*pumps, return_exceptions=True)
    print("run: all stopped", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
