"""The raw ASGI application: one port, all three networks, uploads, files and the control API.

Paths do not collide: VK ``/method/<name>``, Telegram ``/bot<token>/<method>`` and
``/file/bot<token>/<path>``, OK ``/fb.do``, uploads ``/upload/...``, control ``/_control/...``.
"""

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from sandbox.control import Control
from sandbox.faults import Decision, retry_after_seconds
from sandbox.http import Request, Response, json_response, parse_body, text_response
from sandbox.ok import OkError
from sandbox.vk import VkError
from sandbox.world import World, read_json

log = logging.getLogger("sandbox")

VK_POSTING = frozenset({"wall.post", "wall.edit", "wall.delete"})
OK_POSTING = frozenset({"mediatopic.post", "mediatopic.deletetopic"})
TG_POSTING = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "sendvideo",
        "sendmediagroup",
        "editmessagetext",
        "editmessagecaption",
        "deletemessage",
    }
)
AUTOSAVE_INTERVAL_S = 2.0


class SandboxApp:
    def __init__(self, world_file: Path | None = None, state_file: Path | None = None) -> None:
        self.world_file = world_file
        self.state_file = state_file
        self.state: dict[str, Any] = {"world": self._initial_world(), "dirty": False}
        self.control = Control(World, self.state)
        self._saved_ledger_size = -1
        self._autosave: asyncio.Task[None] | None = None

    def _initial_world(self) -> World:
        world = World()
        if self.state_file and self.state_file.exists():
            world.load(read_json(self.state_file))
            log.info("state loaded from %s", self.state_file)
        elif self.world_file:
            world.load(read_json(self.world_file))
        return world

    @property
    def world(self) -> World:
        return self.state["world"]  # type: ignore[no-any-return]

    # ----- persistence -------------------------------------------------------------------------------

    def save_if_changed(self) -> None:
        if not self.state_file:
            return
        size = len(self.world.ledger.entries)
        if self.state["dirty"] or size != self._saved_ledger_size:
            self.world.save(self.state_file)
            self.state["dirty"] = False
            self._saved_ledger_size = size

    async def _autosave_loop(self) -> None:
        while True:
            await asyncio.sleep(AUTOSAVE_INTERVAL_S)
            try:
                self.save_if_changed()
            except OSError:
                log.exception("state save failed")

    # ----- ASGI --------------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        request = Request(scope["method"], scope["path"], query, headers, body)
        response = await self.route(request, receive)
        if response is not None:
            await _send(send, response)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.state_file:
                    self._autosave = asyncio.get_running_loop().create_task(self._autosave_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._autosave:
                    self._autosave.cancel()
                self.save_if_changed()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def base_url(self, request: Request) -> str:
        return f"http://{request.header('host', '127.0.0.1')}"

    async def route(self, request: Request, receive: Any) -> Response | None:
        path = request.path
        if path.startswith("/method/"):
            return await self.vk(request, path[len("/method/") :], receive)
        if path.startswith("/bot"):
            token, _, method = path[len("/bot") :].partition("/")
            return await self.telegram(request, token, method, receive)
        if path == "/fb.do" or path == "/api/fb.do":
            return await self.ok(request, receive)
        if path.startswith("/_control/"):
            parse_body(request)
            status, payload = self.control.handle(request.method, path[len("/_control/") :], request)
            if path.endswith("/reset"):
                self._saved_ledger_size = -1
            return json_response(payload, status)
        if path.startswith("/upload/"):
            return self.upload(request, path[len("/upload/") :])
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot") :].partition("/")
            data = self.world.telegram.download(token, file_path)
            if data is None:
                return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
            return Response(200, data, b"application/octet-stream")
        if path == "/":
            return json_response({"sandbox": "vk, telegram, ok", "control": "/_control/health"})
        return text_response("not found", 404)

    def upload(self, request: Request, rest: str) -> Response:
        parse_body(request)
        world = self.world
        if rest.startswith("vk/photo/"):
            return json_response(world.vk.receive_photo_upload(rest[len("vk/photo/") :], request.files))
        if rest.startswith("vk/video/"):
            return json_response(world.vk.receive_video_upload(rest[len("vk/video/") :], request.files))
        if rest == "ok/photos":
            ids = [i for i in request.query.get("ids", "").split(",") if i]
            return json_response(world.ok.receive_photo_upload(ids, request.files))
        return text_response("not found", 404)

    # ----- networks ----------------------------------------------------------------------------------

    async def _pre(self, decision: Decision | None, receive: Any) -> str:
        """Apply latency, drops and 5xx; return "drop", "5xx" or ""."""
        if decision is None:
            return ""
        if decision.latency:
            await asyncio.sleep(decision.latency)
        if decision.drop:
            await _drop(receive)
            return "drop"
        if decision.error_5xx:
            return "5xx"
        return ""

    async def _post_record(self, decision: Decision | None, mark: int, receive: Any) -> bool:
        """Outcome unknown: the post is recorded, then the reply never comes."""
        if decision is None or not decision.hang_after_record or len(self.world.ledger.entries) <= mark:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_wait_disconnect(receive), decision.hang_after_record)
        await _drop(receive)
        return True

    async def vk(self, request: Request, method: str, receive: Any) -> Response | None:
        parse_body(request)
        world = self.world
        token = world.vk.token_of(request)
        decision = world.faults.decide("vk", token, method in VK_POSTING)
        outcome = await self._pre(decision, receive)
        if outcome == "drop":
            return None
        if outcome == "5xx":
            return text_response("<html><body><h1>502 Bad Gateway</h1></body></html>", decision.error_5xx)  # type: ignore[union-attr]
        if decision is not None and decision.retry_after:
            error = VkError(6 if decision.limit_kind == "rate_limit" else 9)
            return json_response(
                {
                    "error": {
                        "error_code": error.code,
                        "error_msg": error.message,
                        "request_params": [
                            {"key": "method", "value": method},
                            {"key": "oauth", "value": "1"},
                        ],
                    }
                }
            )
        mark = len(world.ledger.entries)
        payload = world.vk.handle(method, request, self.base_url(request))
        if await self._post_record(decision, mark, receive):
            return None
        return json_response(payload)

    async def telegram(self, request: Request, token: str, method: str, receive: Any) -> Response | None:
        parse_body(request)
        world = self.world
        decision = world.faults.decide("telegram", token, method.lower() in TG_POSTING)
        outcome = await self._pre(decision, receive)
        if outcome == "drop":
            return None
        if outcome == "5xx":
            status = decision.error_5xx  # type: ignore[union-attr]
            return json_response({"ok": False, "error_code": status, "description": "Bad Gateway"}, status)
        if decision is not None and decision.retry_after:
            status, payload = world.telegram.rate_limited(retry_after_seconds(decision.retry_after))
            return json_response(payload, status)
        mark = len(world.ledger.entries)
        status, payload = await world.telegram.handle(token, method, request)
        if await self._post_record(decision, mark, receive):
            return None
        return json_response(payload, status)

    async def ok(self, request: Request, receive: Any) -> Response | None:
        parse_body(request)
        world = self.world
        params = request.params
        token = world.ok.token_of(params) or params.get("application_key")
        decision = world.faults.decide("ok", token, params.get("method", "").lower() in OK_POSTING)
        outcome = await self._pre(decision, receive)
        if outcome == "drop":
            return None
        if outcome == "5xx":
            return text_response("502 Bad Gateway", decision.error_5xx)  # type: ignore[union-attr]
        if decision is not None and decision.retry_after:
            return json_response(OkError(8, "FLOOD_BLOCKED : Flood control, retry later").payload())
        mark = len(world.ledger.entries)
        payload = world.ok.handle(params, self.base_url(request))
        if await self._post_record(decision, mark, receive):
            return None
        return json_response(payload)


async def _send(send: Any, response: Response) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [
                (b"content-type", response.content_type),
                (b"content-length", str(len(response.body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


async def _wait_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _drop(receive: Any) -> None:
    """Close the TCP connection without a reply, as a network failure would.

    uvicorn's request cycle (``receive.__self__``) owns the transport; closing it is the only way an
    ASGI app can make the client see a dropped connection rather than an HTTP error.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("sandbox fault: dropped connection")
    transport.close()
    if hasattr(cycle, "disconnected"):
        cycle.disconnected = True
    await asyncio.sleep(0)
