"""OK (Odnoklassniki) adapter: our own httpx client for ``fb.do`` with OK's request signature.

A post is a ``mediatopic.post`` of type GROUP_THEME on behalf of the group: a text item (title, body,
hashtags), the photos uploaded through ``photosV2.getUploadUrl``, and the material's link as a link
item (OK renders it as a card). Video is not uploaded: OK's video upload is a separate multi-step
protocol the sandbox does not implement, so a video material goes out as text, photos and link.
"""

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.adapters.base import AdapterError, ChannelTarget, ErrorKind, PostContent, PublishedPost
from shared.adapters.layout import plain_text
from shared.adapters.redact import redact
from shared.settings import Settings, get_settings

UNSIGNED = ("sig", "access_token", "session_key")
MAX_PHOTOS = 10
TOPICS_PAGE = 50
MAX_TOPIC_PAGES = 10
RETRY_AFTER_S = {8: 60.0, 11: 3600.0, 1: 5.0, 2: 5.0, 7: 5.0, 9999: 5.0}
CREDENTIAL_CODES = {
    10: "permission denied (is the user still a moderator of the group?)",
    50: "the user is not an administrator of the group",
    101: "the application key is unknown",
    102: "the session has expired",
    103: "the session key is invalid or missing",
}
CREDENTIAL_FIELDS = ("access_token", "application_key", "application_secret_key")


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def sign(params: dict[str, str], access_token: str, application_secret_key: str) -> str:
    """OK's ``sig``: md5 over the parameters sorted by name as ``k=v`` without separators (all but
    ``sig``, ``access_token`` and ``session_key``), followed by ``md5(access_token + secret key)``."""
    secret = md5_hex(access_token + application_secret_key)
    pairs = "".join(f"{key}={params[key]}" for key in sorted(params) if key not in UNSIGNED)
    return md5_hex(pairs + secret).lower()


class OkAdapter:
    platform = "ok"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        s = self.settings
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(s.network_timeout_s, connect=s.network_connect_timeout_s),
            limits=httpx.Limits(
                max_connections=s.network_pool_size, max_keepalive_connections=s.network_pool_size
            ),
            headers={"User-Agent": "regional-content-hub"},
            trust_env=s.network_use_environment,
        )

    # ----- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def _credentials(target: ChannelTarget) -> dict[str, str]:
        missing = [name for name in CREDENTIAL_FIELDS if not target.credentials.get(name)]
        if missing:
            raise AdapterError(
                ErrorKind.credentials, f"OK credentials lack {', '.join(missing)}", code="no_credentials"
            )
        return target.credentials

    async def call(
        self,
        credentials: dict[str, str],
        method: str,
        params: dict[str, Any] | None = None,
        *,
        posting: bool = False,
    ) -> Any:
        """Call one API method with a signed form request; return ``result`` or raise AdapterError."""
        values = {key: str(value) for key, value in (params or {}).items() if value is not None}
        values.update(method=method, application_key=credentials["application_key"], format="json")
        values["sig"] = sign(values, credentials["access_token"], credentials["application_secret_key"])
        values["access_token"] = credentials["access_token"]
        secrets = [credentials["access_token"], credentials["application_secret_key"]]
        try:
            reply = await self.http.post(self.settings.ok_api_url, data=values)
        except httpx.HTTPError as error:
            raise transport_error(error, posting=posting, secrets=secrets) from None
        return decode(reply, secrets)

    # ----- NetworkAdapter ---------------------------------------------------------------------------

    async def publish(self, target: ChannelTarget, content: PostContent) -> PublishedPost:
        credentials = self._credentials(target)
        gid = target.external_id.strip()
        photos = content.photos[:MAX_PHOTOS]
        text = plain_text(content, include_link=False)
        media: list[dict[str, Any]] = []
        if text:
            media.append({"type": "text", "text": text})
        if photos:
            tokens = await self._upload_photos(credentials, gid, photos)
            media.append({"type": "photo", "list": [{"id": token} for token in tokens]})
        if content.link:
            media.append({"type": "link", "url": content.link})
        if not media:
            raise AdapterError(ErrorKind.content, "nothing to post: no text, photo or link", code="empty")
        attachment = json.dumps(
            {"media": media, "onBehalfOfGroup": "true"}, ensure_ascii=False, separators=(",", ":")
        )
        topic_id = await self.call(
            credentials,
            "mediatopic.post",
            {"type": "GROUP_THEME", "gid": gid, "attachment": attachment},
            posting=True,
        )
        topic_id = str(topic_id).strip('"')
        return PublishedPost(
            external_post_id=topic_id,
            url=f"https://ok.ru/group/{gid}/topic/{topic_id}",
            published_at=datetime.now(UTC),
            text=text,
            has_photo=bool(photos),
            has_video=False,
            part_ids=(topic_id,),
        )

    async def _upload_photos(
        self, credentials: dict[str, str], gid: str, photos: tuple[Any, ...]
    ) -> list[str]:
        reserved = await self.call(credentials, "photosV2.getUploadUrl", {"gid": gid, "count": len(photos)})
        photo_ids: list[str] = list(reserved["photo_ids"])
        files = []
        for index, photo in enumerate(photos, start=1):
            data = await asyncio.to_thread(photo.path.read_bytes)
            files.append((f"pic{index}", (photo.filename or photo.path.name, data, photo.content_type)))
        secrets = [credentials["access_token"], credentials["application_secret_key"]]
        try:
            reply = await self.http.post(
                reserved["upload_url"], files=files, timeout=self.settings.network_upload_timeout_s
            )
        except httpx.HTTPError as error:
            raise transport_error(error, posting=False, secrets=secrets) from None
        uploaded = decode(reply, secrets).get("photos", {})
        try:
            return [uploaded[photo_id]["token"] for photo_id in photo_ids]
        except (KeyError, TypeError):
            raise AdapterError(
                ErrorKind.retry,
                "OK photo upload did not return a token for every photo",
                retry_after=5.0,
                code="upload",
            ) from None

    async def find_published(
        self, target: ChannelTarget, content: PostContent, since: datetime
    ) -> PublishedPost | None:
        """The newest group topic since ``since`` whose text is this content's text, if any."""
        credentials = self._credentials(target)
        gid = target.external_id.strip()
        wanted = plain_text(content, include_link=False).strip()
        since_ms = since.timestamp() * 1000
        anchor: str | None = None
        for _ in range(MAX_TOPIC_PAGES):
            page = await self.call(
                credentials, "mediatopic.getTopics", {"gid": gid, "count": TOPICS_PAGE, "anchor": anchor}
            )
            topics = page.get("media_topics", [])
            for topic in topics:
                created = topic.get("created_ms", 0)
                if created < since_ms:
                    return None  # topics come newest first: nothing older can be ours
                if _topic_text(topic).strip() == wanted:
                    topic_id = str(topic["id"])
                    media = topic.get("media", [])
                    return PublishedPost(
                        external_post_id=topic_id,
                        url=f"https://ok.ru/group/{gid}/topic/{topic_id}",
                        published_at=datetime.fromtimestamp(created / 1000, UTC),
                        text=_topic_text(topic),
                        has_photo=any(item.get("type") == "photo" for item in media),
                        has_video=any(item.get("type") in ("movie", "video") for item in media),
                        part_ids=(topic_id,),
                    )
            if not page.get("has_more") or not topics:
                return None
            anchor = page.get("anchor")
        return None

    async def retract(
        self, target: ChannelTarget, external_post_id: str, part_ids: tuple[str, ...], replacement_text: str
    ) -> str:
        credentials = self._credentials(target)
        gid = target.external_id.strip()
        try:
            await self.call(credentials, "mediatopic.deleteTopic", {"gid": gid, "topic_id": external_post_id})
        except AdapterError as error:
            # 300 NOT_FOUND about the topic (not the group, which is credentials): already gone.
            if error.code == 300 and error.kind is ErrorKind.content:
                return "deleted"
            raise
        return "deleted"

    async def verify_access(self, target: ChannelTarget) -> None:
        """The token works (``users.getCurrentUser``) and its user may post in the group: reserving an
        upload slot (``photosV2.getUploadUrl``) needs the same moderator right as posting and has no
        visible effect (an unused slot expires)."""
        credentials = self._credentials(target)
        gid = target.external_id.strip()
        try:
            await self.call(credentials, "users.getCurrentUser")
            await self.call(credentials, "photosV2.getUploadUrl", {"gid": gid, "count": 1})
        except AdapterError as error:
            if error.code == 104:
                # Here a signature refusal means the application secret key does not fit the key.
                raise AdapterError(
                    ErrorKind.credentials,
                    f"OK refused the signature: check the application secret key ({error.message})",
                    code=104,
                ) from None
            raise

    async def aclose(self) -> None:
        await self.http.aclose()


def _topic_text(topic: dict[str, Any]) -> str:
    return "\n".join(
        str(item.get("text", "")) for item in topic.get("media", []) if item.get("type") == "text"
    )


def decode(reply: httpx.Response, secrets: list[str]) -> Any:
    if reply.status_code >= 500 or reply.status_code == 429:
        raise AdapterError(
            ErrorKind.retry,
            f"OK answered HTTP {reply.status_code}",
            retry_after=5.0,
            code=f"http_{reply.status_code}",
        )
    try:
        payload = reply.json()
    except ValueError:
        raise AdapterError(
            ErrorKind.retry,
            f"OK answered HTTP {reply.status_code} without JSON",
            retry_after=5.0,
            code="bad_reply",
        ) from None
    if isinstance(payload, dict) and "error_code" in payload:
        raise api_error(int(payload["error_code"]), redact(str(payload.get("error_msg", "")), secrets))
    if reply.status_code >= 400:
        raise AdapterError(
            ErrorKind.content, f"OK answered HTTP {reply.status_code}", code=f"http_{reply.status_code}"
        )
    return payload


def api_error(code: int, text: str) -> AdapterError:
    if code in RETRY_AFTER_S:
        return AdapterError(ErrorKind.retry, f"OK: {text}", retry_after=RETRY_AFTER_S[code], code=code)
    if code in CREDENTIAL_CODES:
        return AdapterError(ErrorKind.credentials, f"OK: {CREDENTIAL_CODES[code]} ({text})", code=code)
    if code == 300 and "group" in text.lower():
        return AdapterError(ErrorKind.credentials, f"OK: the group was not found ({text})", code=code)
    if code == 104:
        return AdapterError(
            ErrorKind.content, f"OK refused our request signature (a bug on our side?): {text}", code=code
        )
    return AdapterError(ErrorKind.content, f"OK refused the request: {text}", code=code)


def transport_error(error: httpx.HTTPError, *, posting: bool, secrets: list[str]) -> AdapterError:
    message = redact(f"{type(error).__name__}: {error}", secrets)
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.WriteTimeout):
        return AdapterError(ErrorKind.retry, f"OK unreachable: {message}", retry_after=2.0, code="connect")
    if posting and isinstance(error, httpx.ReadTimeout | httpx.RemoteProtocolError | httpx.ReadError):
        return AdapterError(
            ErrorKind.unknown, f"OK did not answer mediatopic.post: {message}", code="no_reply"
        )
    return AdapterError(ErrorKind.retry, f"OK did not answer: {message}", retry_after=2.0, code="no_reply")
