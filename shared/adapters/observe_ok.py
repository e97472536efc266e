"""Reading OK group topics back (``mediatopic.getTopics``) through the OK adapter's signed client."""

from datetime import UTC, datetime
from typing import Any

from shared.adapters.base import ObservedPost
from shared.adapters.ok import OkAdapter

TOPIC_PAGE = 50
MAX_PAGES = 4


def observed_topic(gid: str, topic: dict[str, Any]) -> ObservedPost:
    media = topic.get("media", [])
    text = "\n".join(str(item.get("text", "")) for item in media if item.get("type") == "text")
    links = tuple(str(item["url"]) for item in media if item.get("type") == "link" and item.get("url"))
    topic_id = str(topic["id"])
    return ObservedPost(
        channel_external_id=gid,
        external_post_id=topic_id,
        url=f"https://ok.ru/group/{gid}/topic/{topic_id}",
        published_at=datetime.fromtimestamp(int(topic.get("created_ms", 0)) / 1000, UTC),
        text=text,
        has_photo=any(item.get("type") == "photo" for item in media),
        has_video=any(item.get("type") in ("movie", "video") for item in media),
        links=links,
    )


async def read_topics(
    adapter: OkAdapter, credentials: dict[str, str], gid: str, count: int, since: datetime | None = None
) -> tuple[list[ObservedPost], bool]:
    """The group's newest topics (at most ``count``, none older than ``since``), and whether that is
    everything the group has (so a known topic missing from it was deleted)."""
    topics: list[ObservedPost] = []
    anchor: str | None = None
    for _ in range(MAX_PAGES):
        page = await adapter.call(
            credentials,
            "mediatopic.getTopics",
            {"gid": gid, "count": min(TOPIC_PAGE, count - len(topics)), "anchor": anchor},
        )
        items = page.get("media_topics", [])
        for item in items:
            post = observed_topic(gid, item)
            if since is not None and post.published_at < since:
                return topics, False
            topics.append(post)
        if not page.get("has_more") or not items:
            return topics, True
        if len(topics) >= count:
            return topics, False
        anchor = page.get("anchor")
    return topics, False
