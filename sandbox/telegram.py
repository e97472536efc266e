"""Telegram Bot API: ``/bot<token>/<method>`` with ``{"ok", "result"}`` envelopes."""

import asyncio
import html
import json
import re
import secrets
import time
from typing import Any

import httpx

from sandbox.http import Request, UploadedFile
from sandbox.ledger import Ledger, sha256_hex

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_MEDIA_GROUP = 10
UPDATE_RETENTION_S = 24 * 3600
PHOTO_LIMIT = 10 * 1024 * 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
POSTING_METHODS = frozenset(
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


class TgError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> TgError:
    return TgError(400, f"Bad Request: {detail}")


def visible_length(text: str, parse_mode: str) -> int:
    """Length after entity parsing, counted in characters (Unicode code points)."""
    mode = parse_mode.lower()
    if mode == "html":
        text = html.unescape(re.sub(r"<[^>]*>", "", text))
    elif mode == "markdownv2":
        text = re.sub(r"\\(.)", r"\1", re.sub(r"(?<!\\)[*_~|`]", "", text))
    elif mode == "markdown":
        text = re.sub(r"[*_`]", "", text)
    return len(text)


class TelegramNetwork:
    name = "telegram"

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.bots: dict[str, dict[str, Any]] = {}
        self.bot_ids: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        self.updates: dict[int, list[dict[str, Any]]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.blobs: dict[str, bytes] = {}
        self.counters = {"update": 0, "file": 0, "media_group": 13000000000000000, "channel": 1000000000000}
        self.wakeups: dict[int, asyncio.Event] = {}
        self.poll_generation: dict[int, int] = {}
        self.polling: dict[int, bool] = {}
        self.webhook_tasks: dict[int, asyncio.Task[None]] = {}
        self.methods = {
            "getme": self.get_me,
            "getchat": self.get_chat,
            "sendmessage": self.send_message,
            "sendphoto": self.send_photo,
            "sendvideo": self.send_video,
            "sendmediagroup": self.send_media_group,
            "editmessagetext": self.edit_message_text,
            "editmessagecaption": self.edit_message_caption,
            "deletemessage": self.delete_message,
            "getupdates": self.get_updates,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "getfile": self.get_file,
        }

    # ----- world ---------------------------------------------------------------------------------

    def _next(self, counter: str) -> int:
        self.counters[counter] += 1
        return self.counters[counter]

    def add_bot(self, data: dict[str, Any]) -> dict[str, Any]:
        token = data.get("token") or f"{7000000000 + len(self.bots) + 1}:{secrets.token_urlsafe(26)}"
        if not TOKEN_RE.match(token):
            raise ValueError("a bot token looks like 123456789:AAE...")
        bot_id = int(token.split(":", 1)[0])
        bot = {
            "id": bot_id,
            "token": token,
            "username": data.get("username") or f"sandbox{bot_id}_bot",
            "first_name": data.get("first_name") or "Sandbox bot",
            "revoked": bool(data.get("revoked", False)),
            "webhook_url": data.get("webhook_url", ""),
            "secret_token": data.get("secret_token", ""),
            "allowed_updates": data.get("allowed_updates", []),
        }
        self.bots[token] = bot
        self.bot_ids[bot_id] = bot
        self.updates.setdefault(bot_id, [])
        return dict(bot)

    def add_user(self, data: dict[str, Any]) -> dict[str, Any]:
        user_id = int(data.get("id") or 500000 + len(self.users) + 1)
        user = {"id": user_id, "is_bot": False, "first_name": data.get("first_name", f"User{user_id}")}
        if data.get("username"):
            user["username"] = data["username"]
        self.users[user_id] = user
        return user

    def _bot_ref(self, ref: Any) -> dict[str, Any]:
        bot = self.bots.get(str(ref))
        if bot is None and str(ref).split(":")[0].isdigit():
            bot = self.bot_ids.get(int(str(ref).split(":")[0]))
        if bot is None:
            raise KeyError(f"no Telegram bot {ref}")
        return bot

    def add_channel(self, data: dict[str, Any]) -> dict[str, Any]:
        channel_id = int(data.get("id") or -(self._next("channel")))
        if channel_id > -1000000000000:
            raise ValueError("channel ids look like -100xxxxxxxxxx")
        channel = {
            "id": channel_id,
            "title": data.get("title", f"Channel {channel_id}"),
            "username": data.get("username", ""),
            "admin_bots": [],
            "admin_users": [],
            "next_message_id": int(data.get("next_message_id", 1)),
        }
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, {})
        for bot in data.get("admin_bots", []):
            self.set_bot_admin(channel_id, bot, True)
        for user in data.get("admin_users", []):
            self.set_user_admin(channel_id, int(user), True)
        return dict(channel)

    def set_bot_admin(self, channel_id: int, bot_ref: Any, admin: bool) -> dict[str, Any]:
        channel = self.channels[channel_id]
        bot_id = self._bot_ref(bot_ref)["id"]
        if admin and bot_id not in channel["admin_bots"]:
            channel["admin_bots"].append(bot_id)
        if not admin and bot_id in channel["admin_bots"]:
            channel["admin_bots"].remove(bot_id)
        return dict(channel)

    def set_user_admin(self, channel_id: int, user_id: int, admin: bool) -> dict[str, Any]:
        channel = self.channels[channel_id]
        if user_id not in self.users:
            self.add_user({"id": user_id})
        if admin and user_id not in channel["admin_users"]:
            channel["admin_users"].append(user_id)
        if not admin and user_id in channel["admin_users"]:
            channel["admin_users"].remove(user_id)
        return dict(channel)

    def dump(self) -> dict[str, Any]:
        return {
            "bots": list(self.bots.values()),
            "users": list(self.users.values()),
            "channels": list(self.channels.values()),
            "messages": [m for chat in self.messages.values() for m in chat.values()],
            "updates": {str(bot_id): items for bot_id, items in self.updates.items()},
            "files": list(self.files.values()),
            "counters": self.counters,
        }

    def load(self, data: dict[str, Any]) -> None:
        for bot in data.get("bots", []):
            self.add_bot(bot)
        for user in data.get("users", []):
            self.add_user(user)
        for channel in data.get("channels", []):
            self.add_channel(channel)
        for message in data.get("messages", []):
            self.messages.setdefault(message["chat"]["id"], {})[message["message_id"]] = message
        for bot_id, items in data.get("updates", {}).items():
            self.updates[int(bot_id)] = items
        for file in data.get("files", []):
            self.files[file["file_id"]] = file
        self.counters.update(data.get("counters", {}))

    # ----- protocol --------------------------------------------------------------------------------

    async def handle(self, token: str, method: str, request: Request) -> tuple[int, dict[str, Any]]:
        try:
            if not TOKEN_RE.match(token):
                raise TgError(404, "Not Found")
            bot = self.bots.get(token)
            if bot is None or bot["revoked"]:
                raise TgError(401, "Unauthorized")
            handler = self.methods.get(method.lower())
            if handler is None:
                raise TgError(404, "Not Found")
            result = handler(bot, request)
            if asyncio.iscoroutine(result):
                result = await result
            return 200, {"ok": True, "result": result}
        except TgError as error:
            return error.status, error.payload()

    @staticmethod
    def rate_limited(wait: int) -> tuple[int, dict[str, Any]]:
        error = TgError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        return 429, error.payload()

    def get_me(self, bot: dict[str, Any], request: Request) -> Any:
        return {
            "id": bot["id"],
            "is_bot": True,
            "first_name": bot["first_name"],
            "username": bot["username"],
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _channel(self, raw: Any) -> dict[str, Any]:
        text = str(raw or "").strip()
        if not text:
            raise bad_request("chat_id is empty")
        if text.startswith("@"):
            for channel in self.channels.values():
                if channel["username"] and channel["username"].lower() == text[1:].lower():
                    return channel
        elif text.lstrip("-").isdigit() and int(text) in self.channels:
            return self.channels[int(text)]
        raise bad_request("chat not found")

    def _admin_channel(self, bot: dict[str, Any], raw: Any) -> dict[str, Any]:
        channel = self._channel(raw)
        if bot["id"] not in channel["admin_bots"]:
            raise TgError(403, "Forbidden: bot is not a member of the channel chat")
        return channel

    @staticmethod
    def _chat(channel: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": channel["id"], "type": "channel", "title": channel["title"]}
        if channel["username"]:
            chat["username"] = channel["username"]
        return chat

    def get_chat(self, bot: dict[str, Any], request: Request) -> Any:
        channel = self._channel(request.params.get("chat_id"))
        return {
            **self._chat(channel),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    # ----- messages ---------------------------------------------------------------------------------

    def _new_message(self, channel: dict[str, Any], author: str | None = None) -> dict[str, Any]:
        message_id = channel["next_message_id"]
        channel["next_message_id"] += 1
        chat = self._chat(channel)
        message: dict[str, Any] = {
            "message_id": message_id,
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
        }
        if author:
            message["author_signature"] = author
        return message

    @staticmethod
    def _public(message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if not k.startswith("_")}

    def _store(
        self,
        channel: dict[str, Any],
        message: dict[str, Any],
        token: str | None,
        by_bot: int | None,
        source: str,
    ) -> dict[str, Any]:
        self.messages[channel["id"]][message["message_id"]] = message
        text = message.get("text") or message.get("caption") or ""
        extra = {"media_group_id": message["media_group_id"]} if "media_group_id" in message else None
        self.ledger.record(
            network="telegram",
            action="post",
            channel=str(channel["id"]),
            post_id=str(message["message_id"]),
            text=text,
            media=message.get("_media", []),
            token=token,
            source=source,
            extra=extra,
        )
        self._broadcast(channel, "channel_post", message, by_bot)
        return self._public(message)

    def _check_text(self, text: str, parse_mode: str) -> None:
        if not text.strip():
            raise bad_request("message text is empty")
        if visible_length(text, parse_mode) > MAX_TEXT:
            raise bad_request("message is too long")

    @staticmethod
    def _check_caption(caption: str, parse_mode: str) -> None:
        if visible_length(caption, parse_mode) > MAX_CAPTION:
            raise bad_request("message caption is too long")

    def send_message(self, bot: dict[str, Any], request: Request) -> Any:
        params = request.params
        text = str(params.get("text", ""))
        self._check_text(text, str(params.get("parse_mode", "")))
        channel = self._admin_channel(bot, params.get("chat_id"))
        message = self._new_message(channel)
        message["text"] = text
        message["_media"] = []
        return self._store(channel, message, bot["token"], bot["id"], "api")

    def _file(self, kind: str, ref: Any, files: dict[str, UploadedFile], field: str) -> dict[str, Any]:
        """Resolve an upload (multipart field or ``attach://name``), a known ``file_id`` or a URL."""
        upload = None
        if isinstance(ref, str) and ref.startswith("attach://"):
            upload = files.get(ref[len("attach://") :])
            if upload is None:
                raise bad_request("can't parse InputMedia: media not found")
        elif not ref and field in files:
            upload = files[field]
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            if kind == "photo" and len(upload.data) > PHOTO_LIMIT:
                raise bad_request("file is too big")
            return self._save_file(kind, upload.data)
        if not ref:
            raise bad_request(f"there is no {kind} in the request")
        ref = str(ref)
        if ref in self.files:
            if self.files[ref]["_kind"] != kind:
                raise bad_request(
                    f"can't use file of type {self.files[ref]['_kind'].title()} as {kind.title()}"
                )
            return self.files[ref]
        if ref.startswith(("http://", "https://")):
            # The sandbox never fetches URLs: it records the URL's hash so the ledger stays comparable.
            return self._save_file(kind, ref.encode(), url=ref)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _save_file(self, kind: str, data: bytes, url: str = "") -> dict[str, Any]:
        number = self._next("file")
        file_id = f"{'AgAC' if kind == 'photo' else 'BAAC'}{secrets.token_urlsafe(24)}{number}"
        record = {
            "file_id": file_id,
            "file_unique_id": f"AQAD{number}",
            "file_size": len(data),
            "file_path": f"{kind}s/file_{number}.{'jpg' if kind == 'photo' else 'mp4'}",
            "_kind": kind,
            "_sha256": sha256_hex(data),
            "_url": url,
        }
        self.files[file_id] = record
        if not url:
            self.blobs[file_id] = data
        return record

    @staticmethod
    def _media_field(kind: str, record: dict[str, Any]) -> Any:
        base = {
            "file_id": record["file_id"],
            "file_unique_id": record["file_unique_id"],
            "file_size": record["file_size"],
        }
        if kind == "photo":
            return [{**base, "width": 1280, "height": 720}]
        return {**base, "width": 1280, "height": 720, "duration": 1, "mime_type": "video/mp4"}

    def _send_media(self, bot: dict[str, Any], request: Request, kind: str) -> Any:
        params = request.params
        caption = str(params.get("caption", ""))
        self._check_caption(caption, str(params.get("parse_mode", "")))
        record = self._file(kind, params.get(kind), request.files, kind)
        channel = self._admin_channel(bot, params.get("chat_id"))
        message = self._new_message(channel)
        message[kind] = self._media_field(kind, record)
        if caption:
            message["caption"] = caption
        message["_media"] = [record["_sha256"]]
        return self._store(channel, message, bot["token"], bot["id"], "api")

    def send_photo(self, bot: dict[str, Any], request: Request) -> Any:
        return self._send_media(bot, request, "photo")

    def send_video(self, bot: dict[str, Any], request: Request) -> Any:
        return self._send_media(bot, request, "video")

    def send_media_group(self, bot: dict[str, Any], request: Request) -> Any:
        params = request.params
        raw = params.get("media")
        if raw is None:
            raise bad_request('parameter "media" is required')
        try:
            items = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise bad_request("can't parse media JSON object") from None
        if not items:
            raise bad_request("there are no messages to send")
        if not isinstance(items, list):
            raise bad_request("can't parse media JSON object")
        if len(items) > MAX_MEDIA_GROUP:
            raise bad_request("too many messages to send as an album")
        prepared = []
        for item in items:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in ("photo", "video"):
                raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
            caption = str(item.get("caption", ""))
            self._check_caption(caption, str(item.get("parse_mode", "")))
            prepared.append((kind, caption, self._file(kind, item.get("media"), request.files, "")))
        channel = self._admin_channel(bot, params.get("chat_id"))
        # As the official server does, a single item is sent as an ordinary message, not an album.
        group_id = str(self._next("media_group")) if len(prepared) > 1 else None
        result = []
        for kind, caption, record in prepared:
            message = self._new_message(channel)
            if group_id:
                message["media_group_id"] = group_id
            message[kind] = self._media_field(kind, record)
            if caption:
                message["caption"] = caption
            message["_media"] = [record["_sha256"]]
            result.append(self._store(channel, message, bot["token"], bot["id"], "api"))
        return result

    def _message(self, channel: dict[str, Any], raw_id: Any, purpose: str) -> dict[str, Any]:
        try:
            message = self.messages[channel["id"]].get(int(raw_id))
        except (TypeError, ValueError):
            message = None
        if message is None or message.get("_deleted"):
            raise bad_request(f"message to {purpose} not found")
        return message

    def edit(
        self,
        channel: dict[str, Any],
        message: dict[str, Any],
        field: str,
        value: str,
        token: str | None,
        by_bot: int | None,
        source: str,
    ) -> dict[str, Any]:
        message[field] = value
        message["edit_date"] = int(time.time())
        self.ledger.record(
            network="telegram",
            action="edit",
            channel=str(channel["id"]),
            post_id=str(message["message_id"]),
            text=value,
            media=message.get("_media", []),
            token=token,
            source=source,
        )
        self._broadcast(channel, "edited_channel_post", message, by_bot)
        return self._public(message)

    def edit_message_text(self, bot: dict[str, Any], request: Request) -> Any:
        params = request.params
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        text = str(params.get("text", ""))
        self._check_text(text, str(params.get("parse_mode", "")))
        channel = self._admin_channel(bot, params.get("chat_id"))
        message = self._message(channel, params.get("message_id"), "edit")
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        if message["text"] == text:
            raise bad_request(NOT_MODIFIED)
        return self.edit(channel, message, "text", text, bot["token"], bot["id"], "api")

    def edit_message_caption(self, bot: dict[str, Any], request: Request) -> Any:
        params = request.params
        caption = str(params.get("caption", ""))
        self._check_caption(caption, str(params.get("parse_mode", "")))
        channel = self._admin_channel(bot, params.get("chat_id"))
        message = self._message(channel, params.get("message_id"), "edit")
        if "text" in message:
            raise bad_request("there is no caption in the message to edit")
        if message.get("caption", "") == caption:
            raise bad_request(NOT_MODIFIED)
        return self.edit(channel, message, "caption", caption, bot["token"], bot["id"], "api")

    def delete(
        self, channel: dict[str, Any], message: dict[str, Any], token: str | None, source: str
    ) -> None:
        message["_deleted"] = True
        self.ledger.record(
            network="telegram",
            action="delete",
            channel=str(channel["id"]),
            post_id=str(message["message_id"]),
            text=message.get("text") or message.get("caption") or "",
            media=message.get("_media", []),
            token=token,
            source=source,
        )

    def delete_message(self, bot: dict[str, Any], request: Request) -> Any:
        params = request.params
        channel = self._admin_channel(bot, params.get("chat_id"))
        message = self._message(channel, params.get("message_id"), "delete")
        self.delete(channel, message, bot["token"], "api")
        return True

    def publish_by_hand(self, data: dict[str, Any]) -> dict[str, Any]:
        """A channel admin (a person, or another bot) posts; admin bots receive ``channel_post``."""
        channel = self._channel(data.get("chat_id"))
        by_bot = None
        token = None
        if data.get("bot"):
            bot = self._bot_ref(data["bot"])
            by_bot, token = bot["id"], bot["token"]
        author = data.get("author_signature")
        if author is None and data.get("user_id"):
            author = self.users.get(int(data["user_id"]), {}).get("first_name")
        message = self._new_message(channel, author)
        if data.get("photo_base64") or data.get("photo_file_id"):
            import base64

            if data.get("photo_file_id"):
                record = self.files[data["photo_file_id"]]
            else:
                record = self._save_file("photo", base64.b64decode(data["photo_base64"]))
            message["photo"] = self._media_field("photo", record)
            message["_media"] = [record["_sha256"]]
            if data.get("text"):
                message["caption"] = data["text"]
        else:
            message["text"] = str(data.get("text", ""))
            message["_media"] = []
        return self._store(channel, message, token, by_bot, "manual")

    def edit_by_hand(self, data: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(data.get("chat_id"))
        message = self._message(channel, data.get("message_id"), "edit")
        field = "text" if "text" in message else "caption"
        return self.edit(channel, message, field, str(data.get("text", "")), None, None, "manual")

    # ----- updates ---------------------------------------------------------------------------------

    def _broadcast(
        self, channel: dict[str, Any], kind: str, message: dict[str, Any], by_bot: int | None
    ) -> None:
        public = self._public(message)
        for bot_id in channel["admin_bots"]:
            if bot_id == by_bot:
                continue
            bot = self.bot_ids.get(bot_id)
            if bot is None or (bot["allowed_updates"] and kind not in bot["allowed_updates"]):
                continue
            update = {"update_id": self._next("update"), kind: public, "_time": time.time()}
            self.updates.setdefault(bot_id, []).append(update)
            event = self.wakeups.get(bot_id)
            if event is not None:
                event.set()
            if bot["webhook_url"]:
                self._ensure_webhook_task(bot)

    def _pending(self, bot_id: int, offset: int | None) -> list[dict[str, Any]]:
        queue = self.updates.setdefault(bot_id, [])
        horizon = time.time() - UPDATE_RETENTION_S
        if offset is not None:
            if offset < 0:
                queue[:] = queue[offset:]
            else:
                queue[:] = [u for u in queue if u["update_id"] >= offset]
        if queue and queue[0]["_time"] < horizon:
            queue[:] = [u for u in queue if u["_time"] >= horizon]
        return queue

    async def get_updates(self, bot: dict[str, Any], request: Request) -> Any:
        params = request.params
        if bot["webhook_url"]:
            raise TgError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        bot_id = bot["id"]
        offset = int(params["offset"]) if params.get("offset") not in (None, "") else None
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0)
        if params.get("allowed_updates"):
            allowed = json.loads(params["allowed_updates"])
            bot["allowed_updates"] = allowed if isinstance(allowed, list) else []
        generation = self.poll_generation.get(bot_id, 0) + 1
        self.poll_generation[bot_id] = generation
        event = self.wakeups.get(bot_id)
        if event is not None:
            event.set()  # wake the previous long poll so it can report the conflict
        deadline = time.monotonic() + timeout
        while True:
            if self.poll_generation.get(bot_id) != generation:
                raise TgError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            pending = self._pending(bot_id, offset)
            offset = None
            if pending:
                return [self._public(u) for u in pending[:limit]]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            event = asyncio.Event()
            self.wakeups[bot_id] = event
            self.polling[bot_id] = True
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                if self.poll_generation.get(bot_id) == generation:
                    self.polling[bot_id] = False

    def set_webhook(self, bot: dict[str, Any], request: Request) -> Any:
        params = request.params
        url = str(params.get("url", ""))
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if str(params.get("drop_pending_updates", "")).lower() in ("1", "true"):
            self.updates[bot["id"]] = []
        bot["webhook_url"] = url
        bot["secret_token"] = str(params.get("secret_token", ""))
        if params.get("allowed_updates"):
            bot["allowed_updates"] = json.loads(params["allowed_updates"])
        if url:
            self.poll_generation[bot["id"]] = self.poll_generation.get(bot["id"], 0) + 1
            self._ensure_webhook_task(bot)
        return True

    def delete_webhook(self, bot: dict[str, Any], request: Request) -> Any:
        if str(request.params.get("drop_pending_updates", "")).lower() in ("1", "true"):
            self.updates[bot["id"]] = []
        bot["webhook_url"] = ""
        return True

    def get_webhook_info(self, bot: dict[str, Any], request: Request) -> Any:
        info: dict[str, Any] = {
            "url": bot["webhook_url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending(bot["id"], None)),
        }
        if bot["allowed_updates"]:
            info["allowed_updates"] = bot["allowed_updates"]
        return info

    def get_file(self, bot: dict[str, Any], request: Request) -> Any:
        record = self.files.get(str(request.params.get("file_id", "")))
        if record is None:
            raise bad_request("invalid file_id")
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def download(self, token: str, path: str) -> bytes | None:
        if token not in self.bots:
            return None
        for file_id, record in self.files.items():
            if record["file_path"] == path:
                return self.blobs.get(file_id)
        return None

    def _ensure_webhook_task(self, bot: dict[str, Any]) -> None:
        task = self.webhook_tasks.get(bot["id"])
        if task is None or task.done():
            self.webhook_tasks[bot["id"]] = asyncio.get_running_loop().create_task(self._deliver(bot))

    async def _deliver(self, bot: dict[str, Any]) -> None:
        """Push pending updates to the webhook one by one; a failed delivery is retried later."""
        delay = 0.1
        async with httpx.AsyncClient(timeout=10) as client:
            while bot["webhook_url"]:
                queue = self._pending(bot["id"], None)
                if not queue:
                    return
                update = queue[0]
                headers = (
                    {"X-Telegram-Bot-Api-Secret-Token": bot["secret_token"]} if bot["secret_token"] else {}
                )
                try:
                    reply = await client.post(bot["webhook_url"], json=self._public(update), headers=headers)
                    delivered = reply.is_success
                except httpx.HTTPError:
                    delivered = False
                if delivered:
                    if queue and queue[0] is update:
                        queue.pop(0)
                    delay = 0.1
                else:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60)
