"""VK API: ``/method/<name>`` with ``{"response"}`` / ``{"error"}`` envelopes and real error codes."""

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from sandbox.http import Request, UploadedFile
from sandbox.ledger import Ledger, sha256_hex
from sandbox.vkscript import ScriptError, run_script

USER, GROUP, SERVICE = "user", "group", "service"
POSTING_ROLES = {"creator", "administrator", "editor"}
MAX_ATTACHMENTS = 10
MAX_EXECUTE_CALLS = 25
WALL_ALBUM_ID = -14
UPLOAD_SECRET = secrets.token_bytes(16)

ERROR_MESSAGES = {
    3: "Unknown method passed.",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    8: "Invalid request: v (version) is required",
    9: "Flood control",
    12: "Unable to compile code",
    13: "Runtime error occurred during code invocation",
    15: "Access denied",
    27: "Group authorization failed: method is unavailable with group auth.",
    28: "Application authorization failed: method is unavailable with service token.",
    100: "One of the parameters specified was missing or invalid",
    121: "Invalid hash",
    214: "Access to adding post denied",
}


class VkError(Exception):
    def __init__(self, code: int, detail: str = "") -> None:
        message = ERROR_MESSAGES.get(code, "Unknown error occurred")
        self.code = code
        self.message = f"{message}: {detail}" if detail else message
        super().__init__(self.message)


def _int(params: dict[str, Any], key: str, default: int | None = None) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        if default is None:
            raise VkError(100, f"{key} is undefined")
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise VkError(100, f"{key} not integer") from None


def _flag(params: dict[str, Any], key: str) -> bool:
    return str(params.get(key, "0")).lower() in ("1", "true")


class VkNetwork:
    name = "vk"

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.users: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.walls: dict[int, dict[int, dict[str, Any]]] = {}
        self.guids: dict[tuple[int, int, str], int] = {}
        self.photos: dict[str, dict[str, Any]] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, list[dict[str, Any]]] = {}
        self.counters = {"photo": 456239000, "video": 456239000, "upload": 0, "user": 100000, "group": 200000}
        self.methods: dict[str, tuple[Callable[..., Any], frozenset[str]]] = {
            "groups.getById": (self.groups_get_by_id, frozenset({USER, GROUP, SERVICE})),
            "photos.getWallUploadServer": (self.photos_get_wall_upload_server, frozenset({USER})),
            "photos.saveWallPhoto": (self.photos_save_wall_photo, frozenset({USER})),
            "video.save": (self.video_save, frozenset({USER})),
            "wall.post": (self.wall_post, frozenset({USER})),
            "wall.edit": (self.wall_edit, frozenset({USER})),
            "wall.delete": (self.wall_delete, frozenset({USER})),
            "wall.get": (self.wall_get, frozenset({USER, SERVICE})),
            "wall.getById": (self.wall_get_by_id, frozenset({USER, SERVICE})),
            "execute": (self.execute, frozenset({USER, GROUP})),
        }

    # ----- world ---------------------------------------------------------------------------------

    def _next(self, counter: str) -> int:
        self.counters[counter] += 1
        return self.counters[counter]

    def add_user(self, data: dict[str, Any]) -> dict[str, Any]:
        user_id = int(data.get("id") or self._next("user"))
        user = {
            "id": user_id,
            "first_name": data.get("first_name", f"User{user_id}"),
            "last_name": data.get("last_name", ""),
        }
        self.users[user_id] = user
        return user

    def add_group(self, data: dict[str, Any]) -> dict[str, Any]:
        group_id = int(data.get("id") or self._next("group"))
        group = {
            "id": group_id,
            "name": data.get("name", f"Community {group_id}"),
            "screen_name": data.get("screen_name") or f"club{group_id}",
            "type": data.get("type", "page"),
            "admins": {},
        }
        self.groups[group_id] = group
        for admin in data.get("admins", []):
            if isinstance(admin, dict):
                self.set_admin(group_id, int(admin["user_id"]), admin.get("role", "administrator"))
            else:
                self.set_admin(group_id, int(admin), "administrator")
        return self.public_group(group)

    def set_admin(self, group_id: int, user_id: int, role: str | None) -> dict[str, Any]:
        group = self.groups.get(group_id)
        if group is None:
            raise KeyError(f"no VK group {group_id}")
        if user_id not in self.users:
            self.add_user({"id": user_id})
        if role:
            group["admins"][user_id] = role
        else:
            group["admins"].pop(user_id, None)
        return self.public_group(group)

    def add_token(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data.get("type", USER)
        if kind not in (USER, GROUP, SERVICE):
            raise ValueError("token type must be user, group or service")
        token = data.get("token") or f"vk1.a.{secrets.token_urlsafe(24)}"
        record: dict[str, Any] = {"token": token, "type": kind, "revoked": False}
        if kind == USER:
            record["user_id"] = int(data["user_id"])
            if record["user_id"] not in self.users:
                self.add_user({"id": record["user_id"]})
        elif kind == GROUP:
            record["group_id"] = int(data["group_id"])
        else:
            record["app_id"] = int(data.get("app_id", 51000000))
        self.tokens[token] = record
        return dict(record)

    @staticmethod
    def public_group(group: dict[str, Any]) -> dict[str, Any]:
        return {**group, "admins": [{"user_id": u, "role": r} for u, r in group["admins"].items()]}

    def dump(self) -> dict[str, Any]:
        return {
            "users": list(self.users.values()),
            "groups": [self.public_group(g) for g in self.groups.values()],
            "tokens": list(self.tokens.values()),
            "posts": [post for wall in self.walls.values() for post in wall.values()],
            "photos": list(self.photos.values()),
            "videos": list(self.videos.values()),
            "counters": self.counters,
        }

    def load(self, data: dict[str, Any]) -> None:
        for user in data.get("users", []):
            self.add_user(user)
        for group in data.get("groups", []):
            self.add_group(group)
        for token in data.get("tokens", []):
            revoked = token.get("revoked", False)
            self.add_token(token)["revoked"] = revoked
            self.tokens[token["token"]]["revoked"] = revoked
        for post in data.get("posts", []):
            self.walls.setdefault(post["owner_id"], {})[post["id"]] = post
            if post.get("_guid"):
                self.guids[(post["owner_id"], post["_user_id"], post["_guid"])] = post["id"]
        for photo in data.get("photos", []):
            self.photos[f"{photo['owner_id']}_{photo['id']}"] = photo
        for video in data.get("videos", []):
            self.videos[f"{video['owner_id']}_{video['id']}"] = video
        self.counters.update(data.get("counters", {}))

    # ----- protocol --------------------------------------------------------------------------------

    @staticmethod
    def token_of(request: Request) -> str | None:
        token = request.params.get("access_token")
        if token:
            return token
        auth = request.header("authorization")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None

    def handle(self, method: str, request: Request, base_url: str) -> dict[str, Any]:
        params = request.params
        try:
            result = self.call(method, params, self.token_of(request), base_url)
            if isinstance(result, ExecuteResult):
                envelope: dict[str, Any] = {"response": result.response}
                if result.errors:
                    envelope["execute_errors"] = result.errors
                return envelope
            return {"response": result}
        except VkError as error:
            request_params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
            request_params += [
                {"key": key, "value": str(value)}
                for key, value in params.items()
                if key not in ("access_token", "method", "code")
            ]
            return {
                "error": {
                    "error_code": error.code,
                    "error_msg": error.message,
                    "request_params": request_params,
                }
            }

    def resolve_token(self, token: str | None) -> dict[str, Any]:
        if not token:
            raise VkError(5, "no access_token passed.")
        record = self.tokens.get(token)
        if record is None or record["revoked"]:
            raise VkError(5)
        return record

    def call(self, method: str, params: dict[str, Any], token: str | None, base_url: str) -> Any:
        entry = self.methods.get(method)
        if entry is None:
            raise VkError(3)
        handler, allowed = entry
        record = self.resolve_token(token)
        if not params.get("v"):
            raise VkError(8)
        if record["type"] not in allowed:
            raise VkError(27 if record["type"] == GROUP else 28 if record["type"] == SERVICE else 15)
        return handler(record, params, base_url)

    # ----- groups ----------------------------------------------------------------------------------

    def _group(self, ref: Any) -> dict[str, Any]:
        text = str(ref).strip()
        if text.lstrip("-").isdigit():
            group = self.groups.get(abs(int(text)))
            if group:
                return group
        else:
            name = text.removeprefix("club").removeprefix("public")
            for group in self.groups.values():
                if group["screen_name"] == text or str(group["id"]) == name:
                    return group
        raise VkError(100, "group_ids is undefined")

    def groups_get_by_id(self, token: dict[str, Any], params: dict[str, Any], _: str) -> Any:
        refs = str(params.get("group_ids") or params.get("group_id") or "")
        if not refs:
            if token["type"] != GROUP:
                raise VkError(100, "group_ids is undefined")
            refs = str(token["group_id"])
        groups = []
        for ref in refs.split(","):
            group = self._group(ref)
            item = {k: group[k] for k in ("id", "name", "screen_name", "type")}
            item["is_closed"] = 0
            if token["type"] == USER:
                role = group["admins"].get(token["user_id"])
                item["is_admin"] = int(role is not None)
                if role:
                    item["admin_level"] = {"moderator": 1, "editor": 2}.get(role, 3)
            groups.append(item)
        return {"groups": groups, "profiles": []}

    def _can_post(self, user_id: int, group_id: int) -> bool:
        group = self.groups.get(group_id)
        return group is not None and group["admins"].get(user_id) in POSTING_ROLES

    # ----- uploads ----------------------------------------------------------------------------------

    def _upload_hash(self, payload: str) -> str:
        return hmac.new(UPLOAD_SECRET, payload.encode(), hashlib.md5).hexdigest()

    def photos_get_wall_upload_server(self, token: dict[str, Any], params: dict[str, Any], base: str) -> Any:
        group_id = abs(_int(params, "group_id", 0))
        if group_id:
            self._group(group_id)
        upload_id = f"p{self._next('upload')}"
        self.uploads[upload_id] = []
        return {
            "upload_url": f"{base}/upload/vk/photo/{upload_id}?gid={group_id}&uid={token['user_id']}",
            "album_id": WALL_ALBUM_ID,
            "user_id": token["user_id"],
        }

    def receive_photo_upload(self, upload_id: str, files: dict[str, UploadedFile]) -> dict[str, Any]:
        """The upload server: accepts ``photo`` (the documented field) and vk_api's ``file0``…``file4``."""
        if upload_id not in self.uploads:
            return {"error": "unknown upload url"}
        chosen = [files[name] for name in ["photo", *(f"file{i}" for i in range(5))] if name in files]
        stored = [{"sha256": sha256_hex(f.data), "size": len(f.data), "name": f.filename} for f in chosen]
        self.uploads[upload_id] = stored
        photo = json.dumps([{"upload": upload_id, "n": i} for i in range(len(stored))], separators=(",", ":"))
        return {"server": 1, "photo": photo, "hash": self._upload_hash(photo)}

    def photos_save_wall_photo(self, token: dict[str, Any], params: dict[str, Any], base: str) -> Any:
        photo = str(params.get("photo", ""))
        if not hmac.compare_digest(self._upload_hash(photo), str(params.get("hash", ""))):
            raise VkError(121)
        try:
            refs = json.loads(photo)
            uploaded = [self.uploads[ref["upload"]][ref["n"]] for ref in refs]
        except (ValueError, KeyError, IndexError, TypeError):
            raise VkError(100, "photos_list is invalid") from None
        if not uploaded:
            raise VkError(100, "photos_list is invalid")
        group_id = abs(_int(params, "group_id", 0))
        owner_id = -group_id if group_id else token["user_id"]
        saved = []
        for item in uploaded:
            photo_id = self._next("photo")
            record = {
                "id": photo_id,
                "owner_id": owner_id,
                "album_id": WALL_ALBUM_ID,
                "user_id": token["user_id"],
                "date": int(time.time()),
                "text": str(params.get("caption", "")),
                "sizes": [
                    {
                        "type": "x",
                        "width": 604,
                        "height": 604,
                        "url": f"{base}/media/vk/photo{owner_id}_{photo_id}",
                    }
                ],
                "has_tags": False,
                "access_key": secrets.token_hex(9),
                "_sha256": item["sha256"],
            }
            self.photos[f"{owner_id}_{photo_id}"] = record
            saved.append(self._public(record))
        return saved

    def video_save(self, token: dict[str, Any], params: dict[str, Any], base: str) -> Any:
        group_id = abs(_int(params, "group_id", 0))
        if group_id:
            self._group(group_id)
        owner_id = -group_id if group_id else token["user_id"]
        video_id = self._next("video")
        record = {
            "id": video_id,
            "owner_id": owner_id,
            "title": str(params.get("name", "")),
            "description": str(params.get("description", "")),
            "date": int(time.time()),
            "duration": 0,
            "access_key": secrets.token_hex(9),
            "_sha256": None,
        }
        self.videos[f"{owner_id}_{video_id}"] = record
        return {
            "upload_url": f"{base}/upload/vk/video/{owner_id}_{video_id}",
            "video_id": video_id,
            "owner_id": owner_id,
            "title": record["title"],
            "description": record["description"],
            "access_key": record["access_key"],
        }

    def receive_video_upload(self, key: str, files: dict[str, UploadedFile]) -> dict[str, Any]:
        record = self.videos.get(key)
        upload = files.get("video_file") or next(iter(files.values()), None)
        if record is None or upload is None:
            return {"error": "invalid upload"}
        record["_sha256"] = sha256_hex(upload.data)
        return {
            "size": len(upload.data),
            "owner_id": record["owner_id"],
            "video_id": record["id"],
            "video_hash": record["_sha256"][:18],
        }

    # ----- wall -----------------------------------------------------------------------------------

    @staticmethod
    def _public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def _attachments(self, raw: str) -> tuple[list[dict[str, Any]], list[str]]:
        attachments: list[dict[str, Any]] = []
        media: list[str] = []
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if len(items) > MAX_ATTACHMENTS:
            raise VkError(100, "attachments: too many attachments")
        for item in items:
            if item.startswith(("http://", "https://")):
                attachments.append({"type": "link", "link": {"url": item, "title": "", "description": ""}})
                continue
            kind = "photo" if item.startswith("photo") else "video" if item.startswith("video") else ""
            store = self.photos if kind == "photo" else self.videos if kind == "video" else None
            key = "_".join(item[len(kind) :].split("_")[:2])
            record = store.get(key) if store is not None else None
            if record is None or (kind == "video" and not record["_sha256"]):
                raise VkError(100, f"attachments: {item} is invalid")
            attachments.append({"type": kind, kind: self._public(record)})
            media.append(record["_sha256"])
        return attachments, media

    def _owner(self, token: dict[str, Any], params: dict[str, Any]) -> int:
        return _int(params, "owner_id", token.get("user_id", 0))

    def _check_wall_rights(self, user_id: int, owner_id: int) -> None:
        if owner_id < 0:
            if -owner_id not in self.groups:
                raise VkError(100, "owner_id is invalid")
            if not self._can_post(user_id, -owner_id):
                raise VkError(214)
        elif owner_id != user_id:
            raise VkError(214)

    def publish(
        self,
        *,
        owner_id: int,
        user_id: int,
        from_group: bool,
        text: str,
        attachments: str,
        token: str | None,
        guid: str = "",
        copy_history: list[dict[str, Any]] | None = None,
        source: str = "api",
    ) -> dict[str, Any]:
        if guid:
            existing = self.guids.get((owner_id, user_id, guid))
            if existing is not None:
                return self.walls[owner_id][existing]
        attached, media = self._attachments(attachments)
        if not text and not attached and not copy_history:
            raise VkError(100, "message is empty or invalid")
        wall = self.walls.setdefault(owner_id, {})
        post_id = max(wall, default=0) + 1
        post: dict[str, Any] = {
            "id": post_id,
            "owner_id": owner_id,
            "from_id": owner_id if from_group and owner_id < 0 else user_id,
            "date": int(time.time()),
            "marked_as_ads": 0,
            "post_type": "post",
            "text": text,
            "attachments": attached,
            "comments": {"count": 0},
            "likes": {"count": 0},
            "reposts": {"count": 0},
            "views": {"count": 0},
            "_user_id": user_id,
            "_guid": guid,
            "_media": media,
            "_deleted": False,
        }
        if from_group and owner_id < 0:
            post["created_by"] = user_id
        if copy_history:
            post["copy_history"] = copy_history
        wall[post_id] = post
        if guid:
            self.guids[(owner_id, user_id, guid)] = post_id
        self.ledger.record(
            network="vk",
            action="post",
            channel=str(owner_id),
            post_id=str(post_id),
            text=text,
            media=media,
            token=token,
            source=source,
            extra={"guid": guid or None, "user_id": user_id},
        )
        return post

    def wall_post(self, token: dict[str, Any], params: dict[str, Any], _: str) -> Any:
        owner_id = self._owner(token, params)
        self._check_wall_rights(token["user_id"], owner_id)
        post = self.publish(
            owner_id=owner_id,
            user_id=token["user_id"],
            from_group=_flag(params, "from_group"),
            text=str(params.get("message", "")),
            attachments=str(params.get("attachments", "")),
            token=token["token"],
            guid=str(params.get("guid", "")),
        )
        return {"post_id": post["id"]}

    def _post(self, owner_id: int, post_id: int) -> dict[str, Any]:
        post = self.walls.get(owner_id, {}).get(post_id)
        if post is None or post["_deleted"]:
            raise VkError(100, "post_id is invalid")
        return post

    def edit(self, owner_id: int, post_id: int, text: str, attachments: str, token: str | None, source: str):
        post = self._post(owner_id, post_id)
        attached, media = self._attachments(attachments)
        if not text and not attached and not post.get("copy_history"):
            raise VkError(100, "message is empty or invalid")
        post.update(text=text, attachments=attached, _media=media, edited=int(time.time()))
        self.ledger.record(
            network="vk",
            action="edit",
            channel=str(owner_id),
            post_id=str(post_id),
            text=text,
            media=media,
            token=token,
            source=source,
        )
        return post

    def delete(self, owner_id: int, post_id: int, token: str | None, source: str) -> None:
        post = self._post(owner_id, post_id)
        post["_deleted"] = True
        self.ledger.record(
            network="vk",
            action="delete",
            channel=str(owner_id),
            post_id=str(post_id),
            text=post["text"],
            media=post["_media"],
            token=token,
            source=source,
        )

    def wall_edit(self, token: dict[str, Any], params: dict[str, Any], _: str) -> Any:
        owner_id, post_id = self._owner(token, params), _int(params, "post_id")
        post = self._post(owner_id, post_id)
        if post["_user_id"] != token["user_id"] and not (
            owner_id < 0 and self._can_post(token["user_id"], -owner_id)
        ):
            raise VkError(15, "you can not edit this post")
        self.edit(
            owner_id,
            post_id,
            str(params.get("message", "")),
            str(params.get("attachments", "")),
            token["token"],
            "api",
        )
        return {"post_id": post_id}

    def wall_delete(self, token: dict[str, Any], params: dict[str, Any], _: str) -> Any:
        owner_id, post_id = self._owner(token, params), _int(params, "post_id")
        post = self._post(owner_id, post_id)
        if post["_user_id"] != token["user_id"] and not (
            owner_id < 0 and self._can_post(token["user_id"], -owner_id)
        ):
            raise VkError(15, "you can not delete this post")
        self.delete(owner_id, post_id, token["token"], "api")
        return 1

    def wall_get(self, token: dict[str, Any], params: dict[str, Any], _: str) -> Any:
        if params.get("domain") and not params.get("owner_id"):
            owner_id = -self._group(params["domain"])["id"]
        else:
            owner_id = self._owner(token, params) if token["type"] == USER else _int(params, "owner_id")
        if owner_id < 0 and -owner_id not in self.groups:
            raise VkError(100, "owner_id is invalid")
        count = min(max(_int(params, "count", 20), 0), 100)
        offset = max(_int(params, "offset", 0), 0)
        posts = [p for p in self.walls.get(owner_id, {}).values() if not p["_deleted"]]
        posts.reverse()
        return {"count": len(posts), "items": [self._public(p) for p in posts[offset : offset + count]]}

    def wall_get_by_id(self, token: dict[str, Any], params: dict[str, Any], _: str) -> Any:
        items = []
        for ref in str(params.get("posts", "")).split(","):
            owner, _sep, post = ref.strip().rpartition("_")
            try:
                items.append(self._public(self._post(int(owner), int(post))))
            except (ValueError, VkError):
                continue
        return {"items": items}

    def execute(self, token: dict[str, Any], params: dict[str, Any], base: str) -> Any:
        errors: list[dict[str, Any]] = []
        calls = 0

        def call(method: str, arguments: dict[str, Any]) -> Any:
            nonlocal calls
            calls += 1
            if calls > MAX_EXECUTE_CALLS:
                raise VkError(13, "too many API calls")
            merged = {"v": params.get("v"), **{k: v for k, v in arguments.items() if v is not None}}
            try:
                if method == "execute":
                    raise VkError(3)
                return self.call(method, merged, token["token"], base)
            except VkError as error:
                errors.append({"method": method, "error_code": error.code, "error_msg": error.message})
                return False

        try:
            result = run_script(str(params.get("code", "")), call)
        except ScriptError as error:
            raise VkError(12, str(error)) from None
        return ExecuteResult(result, errors)


class ExecuteResult:
    """``execute`` puts ``execute_errors`` beside ``response`` in the envelope."""

    def __init__(self, response: Any, errors: list[dict[str, Any]]) -> None:
        self.response = response
        self.errors = errors
