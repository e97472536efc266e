"""The same feed in three formats: JSON (schema 1, documented in OpenAPI), RSS 2.0 and Atom 1.0, each
with media as enclosures. Rendering is deterministic — the same items give the same bytes in every
process — so the body's hash is a strong ETag."""

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

SCHEMA_VERSION = "1"
HUB_NS = "urn:regional-content-hub:feed:1"
ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
# Namespaces are declared on the root by hand and children use their prefixes literally: the output
# then names them exactly as written here, whatever else registered prefixes in ElementTree.

# Atom requires an <updated> even for an empty feed: a fixed instant keeps empty feeds byte-stable.
EMPTY_FEED_UPDATED = "2000-01-01T00:00:00Z"
CENTER_NAME = "Региональный контент-центр"

JSON_TYPE = "application/json"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class FeedSnapshot:
    organisation: dict[str, Any]
    subscribed: bool
    week: str | None
    cursor: str | None
    next_cursor: str
    has_more: bool
    items: list[dict[str, Any]]
    self_url: str


def render_json(feed: FeedSnapshot) -> bytes:
    document = {
        "schema_version": SCHEMA_VERSION,
        "organisation": feed.organisation,
        "subscribed": feed.subscribed,
        "week": feed.week,
        "cursor": feed.cursor,
        "next_cursor": feed.next_cursor,
        "has_more": feed.has_more,
        "items": feed.items,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def _rfc822(moment: str) -> str:
    return format_datetime(_parse(moment), usegmt=True)


def _title(feed: FeedSnapshot) -> str:
    scope = f"неделя {feed.week}" if feed.week else "изменения"
    return f"Региональные материалы — {feed.organisation['name']} ({scope})"


def _text(item: dict[str, Any]) -> str:
    hashtags = " ".join(item["hashtags"])
    return f"{item['body']}\n\n{hashtags}".strip() if hashtags else item["body"]


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _hub_fields(entry: ET.Element, item: dict[str, Any]) -> None:
    _sub(entry, "hub:id", str(item["id"]))
    _sub(entry, "hub:version", str(item["version"]))
    _sub(entry, "hub:status", item["status"])
    _sub(entry, "hub:priority", item["priority"])
    _sub(entry, "hub:week", item["week"])
    if item["withdrawn_reason"]:
        _sub(entry, "hub:withdrawn_reason", item["withdrawn_reason"])


def _categories(item: dict[str, Any]) -> list[str]:
    flags = [flag for flag, on in (("urgent", item["urgent"]), ("withdrawn", item["withdrawn"])) if on]
    return [*item["topics"], *flags]


def _xml(root: ET.Element) -> bytes:
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def render_rss(feed: FeedSnapshot) -> bytes:
    rss = ET.Element(
        "rss", {"version": "2.0", "xmlns:atom": ATOM_NS, "xmlns:media": MEDIA_NS, "xmlns:hub": HUB_NS}
    )
    channel = _sub(rss, "channel")
    _sub(channel, "title", _title(feed))
    _sub(channel, "link", feed.self_url)
    _sub(channel, "description", f"Материалы регионального контент-центра для «{feed.organisation['name']}»")
    _sub(channel, "language", "ru")
    _sub(channel, "atom:link", href=feed.self_url, rel="self", type="application/rss+xml")
    if feed.items:
        _sub(channel, "lastBuildDate", _rfc822(max(item["updated_at"] for item in feed.items)))
    for item in feed.items:
        entry = _sub(channel, "item")
        _sub(entry, "title", item["title"])
        if item["link"]:
            _sub(entry, "link", item["link"])
        _sub(entry, "description", _text(item))
        _sub(entry, "guid", f"urn:regional-content-hub:material:{item['id']}", isPermaLink="false")
        _sub(entry, "pubDate", _rfc822(item["approved_at"] or item["updated_at"]))
        for category in _categories(item):
            _sub(entry, "category", category)
        if item["media"]:
            first = item["media"][0]
            _sub(
                entry,
                "enclosure",
                url=first["url"],
                length=str(first["size_bytes"]),
                type=first["content_type"],
            )
        for media in item["media"]:
            _sub(
                entry,
                "media:content",
                url=media["url"],
                fileSize=str(media["size_bytes"]),
                type=media["content_type"],
                medium="image" if media["kind"] == "photo" else "video",
            )
        _hub_fields(entry, item)
    return _xml(rss)


def render_atom(feed: FeedSnapshot) -> bytes:
    root = ET.Element("feed", {"xmlns": ATOM_NS, "xmlns:hub": HUB_NS})
    _sub(root, "id", f"urn:regional-content-hub:feed:organisation:{feed.organisation['id']}")
    _sub(root, "title", _title(feed))
    _sub(root, "updated", max((item["updated_at"] for item in feed.items), default=EMPTY_FEED_UPDATED))
    _sub(root, "link", rel="self", href=feed.self_url, type="application/atom+xml")
    author = _sub(root, "author")
    _sub(author, "name", CENTER_NAME)
    for item in feed.items:
        entry = _sub(root, "entry")
        _sub(entry, "id", f"urn:regional-content-hub:material:{item['id']}")
        _sub(entry, "title", item["title"])
        _sub(entry, "updated", item["updated_at"])
        if item["approved_at"]:
            _sub(entry, "published", item["approved_at"])
        _sub(entry, "content", _text(item), type="text")
        if item["link"]:
            _sub(entry, "link", rel="alternate", href=item["link"])
        for media in item["media"]:
            _sub(
                entry,
                "link",
                rel="enclosure",
                href=media["url"],
                type=media["content_type"],
                length=str(media["size_bytes"]),
            )
        for category in _categories(item):
            _sub(entry, "category", term=category)
        _hub_fields(entry, item)
    return _xml(root)


RENDERERS = {
    "json": (render_json, JSON_TYPE),
    "rss": (render_rss, RSS_TYPE),
    "atom": (render_atom, ATOM_TYPE),
}
