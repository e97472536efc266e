"""Reading VK community walls back: ``execute`` runs up to 25 ``wall.get`` calls in one request, so
9,000 communities cost 360 requests. Our own httpx client (vk-api is synchronous and its ``execute``
helper hides ``execute_errors``); base URL and API version from settings, token in the body."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.adapters.base import AdapterError, ErrorKind, ObservedPost
from shared.adapters.redact import redact
from shared.settings import Settings, get_settings

MAX_EXECUTE_CALLS = 25
RETRY_CODES = {1: 5.0, 6: 1.0, 9: 60.0, 10: 5.0, 29: 3600.0}
CREDENTIAL_CODES = {5, 15, 17, 18, 27, 28, 203, 210, 214}


@dataclass(frozen=True)
class WallResult:
    """One community's wall: the newest posts, or why it could not be read."""

    group_id: int
    posts: list[ObservedPost]
    total: int = 0
    error: AdapterError | None = None


def group_id_of(external_id: str) -> int:
    raw = external_id.strip().lower().removeprefix("club").removeprefix("public")
    return abs(int(raw))


def _media(attachments: list[dict[str, Any]]) -> tuple[bool, bool, list[str]]:
    kinds = {item.get("type") for item in attachments}
    links = [
        str(item["link"]["url"]) for item in attachments if item.get("type") == "link" and item.get("link")
    ]
    return "photo" in kinds, "video" in kinds, links


def observed_post(group_id: int, post: dict[str, Any]) -> ObservedPost:
    """A ``wall.get`` item as an ObservedPost. A repost shows the original's media, so they count."""
    attachments = list(post.get("attachments") or [])
    history = post.get("copy_history") or []
    for original in history:
        attachments += original.get("attachments") or []
    has_photo, has_video, links = _media(attachments)
    text = str(post.get("text") or "")
    if history and not text:
        text = str(history[0].get("text") or "")
    repost_of = f"{history[0]['owner_id']}_{history[0]['id']}" if history else None
    return ObservedPost(
        channel_external_id=str(group_id),
        external_post_id=str(post["id"]),
        url=f"https://vk.com/wall-{group_id}_{post['id']}",
        published_at=datetime.fromtimestamp(int(post["date"]), UTC),
        text=text,
        has_photo=has_photo,
        has_video=has_video,
        edited="edited" in post,
        repost_of=repost_of,
        links=tuple(links),
    )


def api_error(code: int, message: str) -> AdapterError:
    if code in RETRY_CODES:
        return AdapterError(ErrorKind.retry, message, retry_after=RETRY_CODES[code], code=code)
    if code in CREDENTIAL_CODES:
        return AdapterError(ErrorKind.credentials, message, code=code)
    return AdapterError(ErrorKind.content, message, code=code)


class VkWallReader:
    def __init__(self, settings: Settings | None = None, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings or get_settings()
        s = self.settings
        self.http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(s.network_timeout_s, connect=s.network_connect_timeout_s),
            limits=httpx.Limits(max_connections=s.network_pool_size),
            headers={"User-Agent": "regional-content-hub"},
        )
        base = s.vk_api_url if s.vk_api_url.endswith("/") else s.vk_api_url + "/"
        self.execute_url = base + "execute"
        self.by_id_url = base + "wall.getById"

    async def _call(self, url: str, token: str, data: dict[str, Any]) -> Any:
        try:
            reply = await self.http.post(
                url, data={**data, "access_token": token, "v": self.settings.vk_api_version}
            )
        except httpx.HTTPError as error:
            raise AdapterError(
                ErrorKind.retry,
                redact(f"VK unreachable: {error!r}", [token]),
                retry_after=5.0,
                code="network",
            ) from None
        if reply.status_code >= 500:
            raise AdapterError(
                ErrorKind.retry,
                f"VK answered HTTP {reply.status_code}",
                retry_after=5.0,
                code=f"http_{reply.status_code}",
            )
        payload = reply.json()
        if "error" in payload:
            error = payload["error"]
            raise api_error(int(error.get("error_code", 0)), redact(str(error.get("error_msg", "")), [token]))
        return payload

    async def read_walls(self, token: str, group_ids: list[int], count: int) -> list[WallResult]:
        """The newest ``count`` posts of up to 25 communities in one ``execute`` request. A community
        whose call failed inside the script gets its own error; a failure of the whole request raises."""
        if not 0 < len(group_ids) <= MAX_EXECUTE_CALLS:
            raise ValueError(f"execute takes 1..{MAX_EXECUTE_CALLS} walls, got {len(group_ids)}")
        calls = ",".join(
            f"API.wall.get({json.dumps({'owner_id': -group_id, 'count': min(count, 100)})})"
            for group_id in group_ids
        )
        payload = await self._call(self.execute_url, token, {"code": f"return [{calls}];"})
        answers = payload.get("response") or []
        errors = list(payload.get("execute_errors") or [])
        results = []
        for index, group_id in enumerate(group_ids):
            answer = answers[index] if index < len(answers) else False
            if answer is False or answer is None:
                # execute_errors lists the failed calls in order; they are matched to the false slots.
                failure = errors.pop(0) if errors else {"error_code": 0, "error_msg": "wall.get failed"}
                error = api_error(int(failure.get("error_code", 0)), str(failure.get("error_msg", "")))
                results.append(WallResult(group_id, [], error=error))
                continue
            posts = [observed_post(group_id, item) for item in answer.get("items", [])]
            results.append(WallResult(group_id, posts, total=int(answer.get("count", len(posts)))))
        return results

    async def get_post(self, token: str, group_id: int, post_id: str) -> ObservedPost | None:
        """One community post by id (``wall.getById``); None when it does not exist (or was deleted)."""
        payload = await self._call(self.by_id_url, token, {"posts": f"-{group_id}_{post_id}"})
        response = payload.get("response")
        items = response.get("items", []) if isinstance(response, dict) else (response or [])
        return observed_post(group_id, items[0]) if items else None

    async def aclose(self) -> None:
        await self.http.aclose()
