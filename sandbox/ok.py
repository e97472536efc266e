"""OK (Odnoklassniki) API: ``/fb.do`` with OK's signature and ``error_code`` envelopes."""

import hashlib
import json
import secrets
import time
from typing import Any

from sandbox.http import UploadedFile
from sandbox.ledger import Ledger, sha256_hex

UNSIGNED = ("sig", "access_token", "session_key")
MAX_UPLOAD_COUNT = 40


class OkError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def payload(self) -> dict[str, Any]:
        return {"error_code": self.code, "error_msg": self.message, "error_data": None}


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def signature(params: dict[str, str], access_token: str, secret_key: str) -> str:
    """OK's ``sig``: md5 of sorted ``k=v`` pairs (without sig/access_token/session_key) + secret.

    With a user's ``access_token`` the secret is ``md5(access_token + application_secret_key)``;
    without one (application-only calls) it is the application's secret key itself.
    """
    secret = md5_hex(access_token + secret_key) if access_token else secret_key
    pairs = "".join(f"{k}={params[k]}" for k in sorted(params) if k not in UNSIGNED)
    return md5_hex(pairs + secret).lower()


class OkNetwork:
    name = "ok"

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.apps: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.topics: dict[str, dict[str, dict[str, Any]]] = {}
        self.photo_slots: dict[str, dict[str, Any]] = {}
        self.photo_tokens: dict[str, dict[str, Any]] = {}
        self.counters = {
            "topic": 155000000000000,
            "photo": 930000000000,
            "user": 570000000000,
            "group": 70000000000000,
        }
        self.methods = {
            "mediatopic.post": (self.mediatopic_post, True),
            "mediatopic.gettopics": (self.mediatopic_get_topics, True),
            "mediatopic.deletetopic": (self.mediatopic_delete_topic, True),
            "photosv2.getuploadurl": (self.photos_get_upload_url, True),
            "users.getcurrentuser": (self.users_get_current_user, True),
            "group.getinfo": (self.group_get_info, False),
        }

    # ----- world ---------------------------------------------------------------------------------

    def _next(self, counter: str) -> int:
        self.counters[counter] += 1
        return self.counters[counter]

    def add_app(self, data: dict[str, Any]) -> dict[str, Any]:
        app = {
            "application_key": data.get("application_key") or f"C{secrets.token_hex(8).upper()}",
            "secret_key": data.get("secret_key") or secrets.token_hex(16).upper(),
            "application_id": int(data.get("application_id") or 512000000000 + len(self.apps) + 1),
        }
        self.apps[app["application_key"]] = app
        return dict(app)

    def add_user(self, data: dict[str, Any]) -> dict[str, Any]:
        uid = str(data.get("uid") or self._next("user"))
        user = {"uid": uid, "name": data.get("name", f"User {uid}")}
        self.users[uid] = user
        if data.get("access_token") is not None or "access_token" not in data:
            self.add_token({"uid": uid, "access_token": data.get("access_token")})
        return {**user, "access_tokens": [t for t, r in self.tokens.items() if r["uid"] == uid]}

    def add_token(self, data: dict[str, Any]) -> dict[str, Any]:
        token = data.get("access_token") or f"-s-{secrets.token_hex(24)}"
        record = {"access_token": token, "uid": str(data["uid"]), "revoked": bool(data.get("revoked", False))}
        self.tokens[token] = record
        return dict(record)

    def add_group(self, data: dict[str, Any]) -> dict[str, Any]:
        gid = str(data.get("gid") or self._next("group"))
        group = {"gid": gid, "name": data.get("name", f"Group {gid}"), "admins": []}
        self.groups[gid] = group
        self.topics.setdefault(gid, {})
        for uid in data.get("admins", []):
            self.set_admin(gid, str(uid), True)
        return dict(group)

    def set_admin(self, gid: str, uid: str, admin: bool) -> dict[str, Any]:
        group = self.groups[gid]
        if uid not in self.users:
            self.add_user({"uid": uid, "access_token": None})
        if admin and uid not in group["admins"]:
            group["admins"].append(uid)
        if not admin and uid in group["admins"]:
            group["admins"].remove(uid)
        return dict(group)

    def dump(self) -> dict[str, Any]:
        return {
            "apps": list(self.apps.values()),
            "users": list(self.users.values()),
            "tokens": list(self.tokens.values()),
            "groups": list(self.groups.values()),
            "topics": [t for group in self.topics.values() for t in group.values()],
            "photos": list(self.photo_tokens.values()),
            "counters": self.counters,
        }

    def load(self, data: dict[str, Any]) -> None:
        for app in data.get("apps", []):
            self.add_app(app)
        for user in data.get("users", []):
            self.add_user(user)
        for token in data.get("tokens", []):
            self.add_token(token)
        for group in data.get("groups", []):
            self.add_group(group)
        for topic in data.get("topics", []):
            self.topics.setdefault(topic["_gid"], {})[topic["id"]] = topic
        for photo in data.get("photos", []):
            self.photo_tokens[photo["token"]] = photo
        self.counters.update(data.get("counters", {}))

    # ----- protocol --------------------------------------------------------------------------------

    def token_of(self, params: dict[str, str]) -> str | None:
        return params.get("access_token") or params.get("session_key") or None

    def handle(self, params: dict[str, str], base_url: str) -> Any:
        try:
            return self._handle(params, base_url)
        except OkError as error:
            return error.payload()

    def _handle(self, params: dict[str, str], base_url: str) -> Any:
        app = self.apps.get(params.get("application_key", ""))
        if app is None:
            raise OkError(101, "PARAM_API_KEY : Application not exist")
        method = params.get("method", "")
        if not method:
            raise OkError(100, "PARAM : Missing required parameter method")
        given = params.get("sig", "")
        if not given:
            raise OkError(104, "PARAM_SIGNATURE : No signature specified")
        access_token = params.get("access_token") or params.get("session_key") or ""
        if given.lower() != signature(params, access_token, app["secret_key"]):
            raise OkError(104, f"PARAM_SIGNATURE : Invalid signature {given}")
        entry = self.methods.get(method.lower())
        if entry is None:
            raise OkError(3, f"METHOD : Method {method} not found")
        handler, needs_session = entry
        user = None
        if access_token:
            token = self.tokens.get(access_token)
            if token is None or token["revoked"]:
                raise OkError(102, "PARAM_SESSION_EXPIRED : Session expired")
            user = self.users[token["uid"]]
        elif needs_session:
            raise OkError(103, "PARAM_SESSION_KEY : Session key is required")
        return handler(user, params, base_url, access_token or None)

    def _group(self, params: dict[str, str]) -> dict[str, Any]:
        gid = params.get("gid", "")
        if not gid:
            raise OkError(100, "PARAM : Missing required parameter gid")
        group = self.groups.get(gid)
        if group is None:
            raise OkError(300, f"NOT_FOUND : Group {gid} not found")
        return group

    @staticmethod
    def _require_admin(user: dict[str, Any] | None, group: dict[str, Any]) -> None:
        if user is None or user["uid"] not in group["admins"]:
            raise OkError(10, "PERMISSION_DENIED : User is not a moderator of the group")

    def users_get_current_user(self, user: Any, params: dict[str, str], base: str, token: str | None) -> Any:
        first, _, last = user["name"].partition(" ")
        return {"uid": user["uid"], "name": user["name"], "first_name": first, "last_name": last}

    def group_get_info(self, user: Any, params: dict[str, str], base: str, token: str | None) -> Any:
        uids = [u for u in params.get("uids", "").split(",") if u]
        return [{"uid": g["gid"], "name": g["name"]} for uid in uids if (g := self.groups.get(uid))]

    # ----- photos ----------------------------------------------------------------------------------

    def photos_get_upload_url(self, user: Any, params: dict[str, str], base: str, token: str | None) -> Any:
        group = self._group(params)
        self._require_admin(user, group)
        try:
            count = int(params.get("count") or 1)
        except ValueError:
            raise OkError(100, "PARAM : Invalid parameter count") from None
        if not 1 <= count <= MAX_UPLOAD_COUNT:
            raise OkError(100, "PARAM : Invalid parameter count")
        photo_ids = []
        for _ in range(count):
            photo_id = secrets.token_urlsafe(24)
            self.photo_slots[photo_id] = {"gid": group["gid"], "uid": user["uid"]}
            photo_ids.append(photo_id)
        return {
            "upload_url": f"{base}/upload/ok/photos?ids={','.join(photo_ids)}",
            "photo_ids": photo_ids,
            "expires_ms": int((time.time() + 24 * 3600) * 1000),
        }

    def receive_photo_upload(self, ids: list[str], files: dict[str, UploadedFile]) -> Any:
        """Upload server: files ``pic1``…``picN`` fill the reserved photo ids in order."""
        uploads = [files[name] for name in sorted(files, key=lambda n: (len(n), n))]
        photos = {}
        for photo_id, upload in zip(ids, uploads, strict=False):
            slot = self.photo_slots.pop(photo_id, None)
            if slot is None:
                continue
            token = secrets.token_urlsafe(48)
            self.photo_tokens[token] = {
                "token": token,
                "photo_id": photo_id,
                "gid": slot["gid"],
                "sha256": sha256_hex(upload.data),
            }
            photos[photo_id] = {"token": token}
        return {"photos": photos}

    # ----- topics ----------------------------------------------------------------------------------

    def _media(self, attachment: Any) -> tuple[list[dict[str, Any]], list[str], str]:
        if not isinstance(attachment, dict) or not isinstance(attachment.get("media"), list):
            raise OkError(100, "PARAM : Invalid attachment: media is required")
        media: list[dict[str, Any]] = []
        hashes: list[str] = []
        texts: list[str] = []
        for item in attachment["media"]:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "text":
                texts.append(str(item.get("text", "")))
                media.append({"type": "text", "text": str(item.get("text", ""))})
            elif kind == "photo":
                photos = []
                for ref in item.get("list", []):
                    photo = self.photo_tokens.get(str(ref.get("id") or ref.get("photoId") or ""))
                    if photo is None:
                        raise OkError(100, "PARAM : Invalid photo token")
                    photos.append({"id": photo["photo_id"]})
                    hashes.append(photo["sha256"])
                if not photos:
                    raise OkError(100, "PARAM : Invalid attachment: empty photo list")
                media.append({"type": "photo", "list": photos})
            elif kind == "link":
                if not item.get("url"):
                    raise OkError(100, "PARAM : Invalid attachment: link url is required")
                media.append({"type": "link", "url": str(item["url"])})
            else:
                raise OkError(100, f"PARAM : Invalid attachment: unsupported media type {kind}")
        if not media:
            raise OkError(100, "PARAM : Invalid attachment: media is empty")
        return media, hashes, "\n".join(texts)

    def publish(
        self, group: dict[str, Any], user: dict[str, Any], attachment: Any, token: str | None, source: str
    ) -> dict[str, Any]:
        media, hashes, text = self._media(attachment)
        topic_id = str(self._next("topic"))
        topic = {
            "id": topic_id,
            "owner_ref": f"group:{group['gid']}",
            "author_ref": f"group:{group['gid']}"
            if attachment.get("onBehalfOfGroup") in ("true", True)
            else f"user:{user['uid']}",
            "created_ms": int(time.time() * 1000),
            "media": media,
            "_gid": group["gid"],
            "_media": hashes,
            "_deleted": False,
        }
        self.topics[group["gid"]][topic_id] = topic
        self.ledger.record(
            network="ok",
            action="post",
            channel=group["gid"],
            post_id=topic_id,
            text=text,
            media=hashes,
            token=token,
            source=source,
            extra={"uid": user["uid"]},
        )
        return topic

    def mediatopic_post(self, user: Any, params: dict[str, str], base: str, token: str | None) -> Any:
        if params.get("type", "GROUP_THEME") != "GROUP_THEME":
            raise OkError(100, "PARAM : Only type=GROUP_THEME is supported by the sandbox")
        group = self._group(params)
        self._require_admin(user, group)
        try:
            attachment = json.loads(params.get("attachment", ""))
        except ValueError:
            raise OkError(100, "PARAM : Invalid attachment: not a JSON object") from None
        return self.publish(group, user, attachment, token, "api")["id"]

    @staticmethod
    def _public(topic: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in topic.items() if not k.startswith("_")}

    def mediatopic_get_topics(self, user: Any, params: dict[str, str], base: str, token: str | None) -> Any:
        group = self._group(params)
        count = min(max(int(params.get("count") or 20), 1), 100)
        start = int(params.get("anchor") or 0)
        topics = [t for t in reversed(self.topics[group["gid"]].values()) if not t["_deleted"]]
        page = topics[start : start + count]
        return {
            "media_topics": [self._public(t) for t in page],
            "anchor": str(start + len(page)),
            "has_more": start + len(page) < len(topics),
        }

    def delete(self, gid: str, topic_id: str, token: str | None, source: str) -> None:
        topic = self.topics.get(gid, {}).get(topic_id)
        if topic is None or topic["_deleted"]:
            raise OkError(300, f"NOT_FOUND : Topic {topic_id} not found")
        topic["_deleted"] = True
        text = "\n".join(m["text"] for m in topic["media"] if m["type"] == "text")
        self.ledger.record(
            network="ok",
            action="delete",
            channel=gid,
            post_id=topic_id,
            text=text,
            media=topic["_media"],
            token=token,
            source=source,
        )

    def mediatopic_delete_topic(self, user: Any, params: dict[str, str], base: str, token: str | None) -> Any:
        group = self._group(params)
        self._require_admin(user, group)
        self.delete(group["gid"], str(params.get("topic_id") or params.get("delete_id") or ""), token, "api")
        return {"success": True}
