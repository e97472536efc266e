"""VK adapter: posts to a community wall with an admin's user token through vk-api.

vk-api is synchronous (requests), so every call runs in a worker thread. All tokens share one
``requests.Session`` (one connection pool, timeouts applied by its transport adapter); a bounded LRU
keeps one light ``VkApi`` object per token. vk-api's own pacing (``RPS_DELAY``) and its sleeping
retry of error 6 are switched off: the distributor's shared per-token limiter and retry policy
decide, and a thread asleep inside vk-api would hide the error from them.
"""

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
import vk_api
from jconfig import MemoryConfig
from requests.adapters import HTTPAdapter

from shared.adapters.base import AdapterError, ChannelTarget, ErrorKind, PostContent, PublishedPost
from shared.adapters.layout import plain_text
from shared.adapters.redact import redact
from shared.settings import Settings, get_settings

VK_LIBRARY_METHOD_URL = "https://api.vk.ru/method/"
MAX_ATTACHMENTS = 10
# VK's daily method quotas (error 29) reset at midnight Moscow time.
QUOTA_ZONE = ZoneInfo("Europe/Moscow")

RETRY_AFTER_S = {6: 1.0, 9: 60.0, 10: 5.0, 1: 5.0}
CREDENTIAL_CODES = {
    5: "the user token is invalid or revoked",
    14: "VK asks for a captcha: a person must act on this account before it can post again",
    15: "access denied",
    17: "VK requires the account owner to validate the account",
    18: "the account is deleted or banned",
    27: "a community token was given where an admin's user token is needed",
    28: "a service token was given where an admin's user token is needed",
    203: "access to the community denied",
    210: "access to the wall post denied",
    214: "posting to this community wall is denied (is the user still an admin?)",
}
GONE_ON_DELETE = {100, 210}

T = TypeVar("T")


def seconds_until_quota_reset(now: datetime | None = None) -> float:
    local = (now or datetime.now(UTC)).astimezone(QUOTA_ZONE)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max((midnight - local).total_seconds(), 1.0)


class _ApiTransport(HTTPAdapter):
    """Sends vk-api's hard-coded method URL to ``settings.vk_api_url`` and gives every request a
    timeout (vk-api and VkUpload pass none, and requests would wait forever)."""

    def __init__(
        self,
        method_url: str,
        timeout: tuple[float, float],
        upload_timeout: tuple[float, float],
        pool_size: int,
    ) -> None:
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size)
        self.method_url = method_url if method_url.endswith("/") else method_url + "/"
        self.timeout = timeout
        self.upload_timeout = upload_timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        if url.startswith(VK_LIBRARY_METHOD_URL):
            request.url = self.method_url + url[len(VK_LIBRARY_METHOD_URL) :]
            default = self.timeout
        else:
            default = self.upload_timeout  # upload servers receive the media files
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = default
        return super().send(request, **kwargs)


class _HubVkApi(vk_api.VkApi):  # type: ignore[misc]
    """VkApi that never sleeps and never retries by itself: every API error is raised."""

    RPS_DELAY = 0.0

    def __init__(self, token: str, session: requests.Session, api_version: str) -> None:
        super().__init__(token=token, session=session, api_version=api_version, config=MemoryConfig)
        # Error 6 would sleep 0.5 s and retry, captcha (14) would need captcha_sid: raise them all.
        self.error_handlers: dict[int, Callable[..., Any]] = {}


class VkAdapter:
    platform = "vk"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        s = self.settings
        self.http = requests.Session()
        self.http.trust_env = s.network_use_environment
        self.http.headers["User-Agent"] = "regional-content-hub"
        transport = _ApiTransport(
            s.vk_api_url,
            (s.network_connect_timeout_s, s.network_timeout_s),
            (s.network_connect_timeout_s, s.network_upload_timeout_s),
            s.network_pool_size,
        )
        self.http.mount("https://", transport)
        self.http.mount("http://", transport)
        self._clients: OrderedDict[str, _HubVkApi] = OrderedDict()
        self._clients_lock = threading.Lock()

    # ----- plumbing ---------------------------------------------------------------------------------

    def _client(self, token: str) -> "_HubVkApi":
        with self._clients_lock:
            client = self._clients.get(token)
            if client is None:
                client = _HubVkApi(token, self.http, self.settings.vk_api_version)
                self._clients[token] = client
                while len(self._clients) > self.settings.vk_client_cache_size:
                    self._clients.popitem(last=False)
            else:
                self._clients.move_to_end(token)
            return client

    @staticmethod
    def _token(target: ChannelTarget) -> str:
        token = target.credentials.get("access_token", "")
        if not token:
            raise AdapterError(ErrorKind.credentials, "VK credentials have no access_token", code="no_token")
        return token

    @staticmethod
    def group_id(target: ChannelTarget) -> int:
        raw = target.external_id.strip().lower().removeprefix("club").removeprefix("public")
        try:
            return abs(int(raw))
        except ValueError:
            raise AdapterError(
                ErrorKind.content,
                f"VK community id must be numeric, got {target.external_id!r}",
                code="bad_external_id",
            ) from None

    async def _run(self, token: str, call: Callable[[vk_api.VkApi], T], *, posting: bool = False) -> T:
        client = self._client(token)
        try:
            return await asyncio.to_thread(call, client)
        except Exception as error:  # noqa: BLE001 - every failure becomes an AdapterError
            raise classify(error, posting=posting, secrets=[token]) from None

    # ----- NetworkAdapter ---------------------------------------------------------------------------

    async def publish(self, target: ChannelTarget, content: PostContent) -> PublishedPost:
        token = self._token(target)
        group_id = self.group_id(target)
        attachments: list[str] = []
        media = content.media[:MAX_ATTACHMENTS]
        for item in media:
            if item.kind == "photo":
                attachments.append(await self._upload_photo(token, group_id, item.path))
            elif item.kind == "video":
                attachments.append(await self._upload_video(token, group_id, item.path, content.title))
        text = plain_text(content)
        if content.link and len(attachments) < MAX_ATTACHMENTS:
            attachments.append(content.link)  # one link attachment gives the post a preview card
        values: dict[str, Any] = {
            "owner_id": -group_id,
            "from_group": 1,
            "message": text,
            "guid": content.guid,
        }
        if attachments:
            values["attachments"] = ",".join(attachments)
        reply = await self._run(token, lambda vk: vk.method("wall.post", values), posting=True)
        post_id = str(reply["post_id"])
        return PublishedPost(
            external_post_id=post_id,
            url=f"https://vk.com/wall-{group_id}_{post_id}",
            published_at=datetime.now(UTC),
            text=text,
            has_photo=any(item.kind == "photo" for item in media),
            has_video=any(item.kind == "video" for item in media),
            part_ids=(post_id,),
        )

    async def _upload_photo(self, token: str, group_id: int, path: Any) -> str:
        def upload(vk: vk_api.VkApi) -> list[dict[str, Any]]:
            return vk_api.VkUpload(vk).photo_wall(str(path), group_id=group_id)  # type: ignore[no-any-return]

        saved = await self._run(token, upload)
        photo = saved[0]
        return f"photo{photo['owner_id']}_{photo['id']}"

    async def _upload_video(self, token: str, group_id: int, path: Any, title: str) -> str:
        def upload(vk: vk_api.VkApi) -> dict[str, Any]:
            reply = vk_api.VkUpload(vk).video(
                str(path), name=title[:128] or "video", group_id=group_id, wallpost=0
            )
            if "error" in reply or "video_id" not in reply:
                raise _UploadRefused(str(reply.get("error", "video upload was not accepted")))
            return reply  # type: ignore[no-any-return]

        saved = await self._run(token, upload)
        return f"video{saved['owner_id']}_{saved['video_id']}"

    async def find_published(
        self, target: ChannelTarget, content: PostContent, since: datetime
    ) -> PublishedPost | None:
        """Always None: ``wall.post`` with the same ``guid`` returns the earlier post, so retry."""
        return None

    async def retract(
        self, target: ChannelTarget, external_post_id: str, part_ids: tuple[str, ...], replacement_text: str
    ) -> str:
        token = self._token(target)
        owner_id = -self.group_id(target)
        values = {"owner_id": owner_id, "post_id": int(external_post_id)}
        try:
            await self._run(token, lambda vk: vk.method("wall.delete", values))
        except AdapterError as error:
            if error.code in GONE_ON_DELETE and not await self._exists(token, owner_id, external_post_id):
                return "deleted"
            raise
        return "deleted"

    async def _exists(self, token: str, owner_id: int, post_id: str) -> bool:
        reply = await self._run(
            token, lambda vk: vk.method("wall.getById", {"posts": f"{owner_id}_{post_id}"})
        )
        items = reply.get("items", []) if isinstance(reply, dict) else reply
        return bool(items)

    async def verify_access(self, target: ChannelTarget) -> None:
        token = self._token(target)
        group_id = self.group_id(target)
        reply = await self._run(
            token, lambda vk: vk.method("groups.getById", {"group_ids": group_id, "fields": "is_admin"})
        )
        groups = reply.get("groups", []) if isinstance(reply, dict) else reply
        if not groups:
            raise AdapterError(ErrorKind.credentials, f"VK community {group_id} not found", code="not_found")
        group = groups[0]
        if not group.get("is_admin") or int(group.get("admin_level", 3)) < 2:
            raise AdapterError(
                ErrorKind.credentials,
                f"the token's user cannot post in VK community {group_id}",
                code="not_admin",
            )

    def close(self) -> None:
        self.http.close()

    async def aclose(self) -> None:
        self.close()


class _UploadRefused(Exception):
    """An upload server answered without the expected fields."""


def classify(error: BaseException, *, posting: bool, secrets: list[str]) -> AdapterError:
    """Turn a vk-api, requests or upload failure into what the caller should do about it."""
    if isinstance(error, AdapterError):
        return error
    message = redact(str(error), secrets)
    if isinstance(error, vk_api.ApiError):
        code = int(error.code)
        text = redact(str(error.error.get("error_msg", "")), secrets)
        if code in RETRY_AFTER_S:
            return AdapterError(ErrorKind.retry, f"VK: {text}", retry_after=RETRY_AFTER_S[code], code=code)
        if code == 29:
            return AdapterError(
                ErrorKind.retry,
                f"VK daily quota reached: {text}",
                retry_after=seconds_until_quota_reset(),
                code=code,
            )
        if code in CREDENTIAL_CODES:
            return AdapterError(ErrorKind.credentials, f"VK: {CREDENTIAL_CODES[code]} ({text})", code=code)
        return AdapterError(ErrorKind.content, f"VK refused the request: {text}", code=code)
    if isinstance(error, vk_api.ApiHttpError):
        status = error.response.status_code
        kind = ErrorKind.retry if status >= 500 or status == 429 else ErrorKind.content
        return AdapterError(
            kind,
            f"VK answered HTTP {status}",
            retry_after=5.0 if kind is ErrorKind.retry else None,
            code=f"http_{status}",
        )
    if isinstance(error, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return AdapterError(ErrorKind.retry, f"VK unreachable: {message}", retry_after=2.0, code="connect")
    if isinstance(error, requests.exceptions.ConnectionError) and _is_connect_failure(error):
        return AdapterError(ErrorKind.retry, f"VK unreachable: {message}", retry_after=2.0, code="connect")
    if isinstance(error, requests.exceptions.ReadTimeout | requests.exceptions.ConnectionError):
        # The request went out; for wall.post nobody knows whether VK made the post (its guid makes
        # a retry safe). Anything before wall.post has no visible effect and is simply retried.
        if posting:
            return AdapterError(ErrorKind.unknown, f"VK did not answer wall.post: {message}", code="no_reply")
        return AdapterError(
            ErrorKind.retry, f"VK did not answer: {message}", retry_after=2.0, code="no_reply"
        )
    if isinstance(error, requests.exceptions.RequestException | ValueError | KeyError | _UploadRefused):
        # A broken or unexpected reply (e.g. an HTML error page from an upload server).
        return AdapterError(
            ErrorKind.retry, f"VK gave an unexpected reply: {message}", retry_after=5.0, code="bad_reply"
        )
    return AdapterError(
        ErrorKind.retry,
        f"VK call failed: {type(error).__name__}: {message}",
        retry_after=5.0,
        code="unexpected",
    )


def _is_connect_failure(error: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never established (so the request was never sent)."""
    import urllib3.exceptions

    reason: Any = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)
