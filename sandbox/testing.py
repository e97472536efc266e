"""Run the sandbox as a subprocess for tests, demos and benchmarks.

    from sandbox.testing import running_sandbox

    with running_sandbox(world="sandbox/worlds/demo.json") as sandbox:
        sandbox.base_url                      # "http://127.0.0.1:PORT"
        sandbox.vk_url                        # ".../method/"
        sandbox.control.create("vk/groups", {"name": "Obninsk"})
        sandbox.control.ledger(network="vk")
        await sandbox.acontrol.ledger(network="telegram")   # the async twin

The subprocess listens on a free loopback port and is killed on exit, whatever happens inside.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

STARTUP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _ControlCalls:
    """Shared wording of the control calls; subclasses supply ``_call``."""

    def _path(self, route: str) -> str:
        return f"/_control/{route.strip('/')}"


class ControlClient(_ControlCalls):
    """Synchronous control client. Each method returns the decoded JSON reply; errors raise."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def _call(self, method: str, route: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
        params = {k: v for k, v in query.items() if v is not None}
        reply = self.http.request(method, self._path(route), json=body, params=params)
        if reply.status_code >= 400:
            raise RuntimeError(f"sandbox control {method} {route}: {reply.status_code} {reply.text}")
        return reply.json()

    def create(self, route: str, body: dict[str, Any]) -> Any:
        """POST to a control route, e.g. ``create("vk/groups", {...})``."""
        return self._call("POST", route, body)

    def load_world(self, world: dict[str, Any]) -> Any:
        return self._call("POST", "world", world)

    def world(self) -> Any:
        return self._call("GET", "world")

    def ledger(self, **filters: Any) -> list[dict[str, Any]]:
        """Entries filtered by network, channel, token, action, post_id, source, after_seq."""
        return self._call("GET", "ledger", **filters)["entries"]  # type: ignore[no-any-return]

    def set_faults(self, network: str, token: str | None = None, **config: Any) -> Any:
        return self._call("POST", "faults", {"network": network, "token": token, **config})

    def clear_faults(self) -> Any:
        return self._call("DELETE", "faults")

    def revoke(self, network: str, token: str, *, restore: bool = False) -> Any:
        return self._call("POST", "revoke", {"network": network, "token": token, "restore": restore})

    def reset(self, world: dict[str, Any] | None = None) -> Any:
        return self._call("POST", "reset", {"world": world} if world else {})

    def close(self) -> None:
        self.http.close()


class AsyncControlClient(_ControlCalls):
    """Async twin of :class:`ControlClient`, for async tests."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def _call(self, method: str, route: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
        params = {k: v for k, v in query.items() if v is not None}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            reply = await http.request(method, self._path(route), json=body, params=params)
        if reply.status_code >= 400:
            raise RuntimeError(f"sandbox control {method} {route}: {reply.status_code} {reply.text}")
        return reply.json()

    async def create(self, route: str, body: dict[str, Any]) -> Any:
        return await self._call("POST", route, body)

    async def load_world(self, world: dict[str, Any]) -> Any:
        return await self._call("POST", "world", world)

    async def world(self) -> Any:
        return await self._call("GET", "world")

    async def ledger(self, **filters: Any) -> list[dict[str, Any]]:
        return (await self._call("GET", "ledger", **filters))["entries"]  # type: ignore[no-any-return]

    async def set_faults(self, network: str, token: str | None = None, **config: Any) -> Any:
        return await self._call("POST", "faults", {"network": network, "token": token, **config})

    async def clear_faults(self) -> Any:
        return await self._call("DELETE", "faults")

    async def revoke(self, network: str, token: str, *, restore: bool = False) -> Any:
        return await self._call("POST", "revoke", {"network": network, "token": token, "restore": restore})

    async def reset(self, world: dict[str, Any] | None = None) -> Any:
        return await self._call("POST", "reset", {"world": world} if world else {})


@dataclass
class RunningSandbox:
    base_url: str
    process: subprocess.Popen[bytes]
    control: ControlClient = field(init=False)
    acontrol: AsyncControlClient = field(init=False)

    def __post_init__(self) -> None:
        self.control = ControlClient(self.base_url)
        self.acontrol = AsyncControlClient(self.base_url)

    @property
    def vk_url(self) -> str:
        return f"{self.base_url}/method/"

    @property
    def telegram_url(self) -> str:
        return f"{self.base_url}/bot"

    @property
    def telegram_file_url(self) -> str:
        return f"{self.base_url}/file/bot"

    @property
    def ok_url(self) -> str:
        return f"{self.base_url}/fb.do"


def _wait_ready(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sandbox exited with code {process.returncode} before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/_control/health", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError("sandbox did not become ready in time")


@contextlib.contextmanager
def running_sandbox(
    world: str | Path | None = None,
    state_file: str | Path | None = None,
    port: int | None = None,
    log_level: str = "warning",
) -> Iterator[RunningSandbox]:
    """Start ``python -m sandbox`` on a free loopback port; yield it ready; stop it on exit."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        log_level,
    ]
    if world:
        command += ["--world", str(world)]
    if state_file:
        command += ["--state-file", str(state_file)]
    project_root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(project_root), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(command, cwd=project_root, env=env, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    sandbox = None
    try:
        _wait_ready(process, base_url)
        sandbox = RunningSandbox(base_url, process)
        yield sandbox
    finally:
        if sandbox is not None:
            sandbox.control.close()
        stop(process)


def stop(process: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """SIGTERM (lets the sandbox save its state), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
