"""How a material becomes post text: title, body, link and hashtags, in plain text or Telegram HTML.

Each network gets the layout its readers expect:

- VK and OK (plain text): title, blank line, body, blank line, link, blank line, hashtags.
- Telegram (HTML): the title in bold, then the same blocks; text is escaped, so nothing a material
  contains can break the markup. Limits are counted on the visible text, as Telegram counts them.
"""

import html
import re
from dataclasses import dataclass

from shared.adapters.base import PostContent

_SPACES = re.compile(r"\s+")
_HASHTAG_JUNK = re.compile(r"[^\w]+", re.UNICODE)


def normalise_hashtags(hashtags: tuple[str, ...]) -> list[str]:
    """``#tag`` words without spaces or punctuation, in order, each once (case-insensitively)."""
    seen: set[str] = set()
    result = []
    for raw in hashtags:
        word = _HASHTAG_JUNK.sub("_", raw.strip().lstrip("#")).strip("_")
        if word and word.lower() not in seen:
            seen.add(word.lower())
            result.append(f"#{word}")
    return result


@dataclass(frozen=True)
class Block:
    """One paragraph-level piece of a post; ``bold`` renders it as <b> in HTML."""

    text: str
    bold: bool = False


def blocks(content: PostContent, *, include_link: bool = True) -> list[Block]:
    result = []
    if content.title.strip():
        result.append(Block(content.title.strip(), bold=True))
    body = content.body.strip()
    if body:
        result.append(Block(body))
    if include_link and content.link:
        result.append(Block(content.link.strip()))
    tags = normalise_hashtags(content.hashtags)
    if tags:
        result.append(Block(" ".join(tags)))
    return result


def plain_text(content: PostContent, *, include_link: bool = True) -> str:
    return "\n\n".join(block.text for block in blocks(content, include_link=include_link))


def visible_length(parts: list[Block]) -> int:
    return len("\n\n".join(block.text for block in parts))


def render_html(parts: list[Block]) -> str:
    rendered = []
    for block in parts:
        text = html.escape(block.text, quote=False)
        rendered.append(f"<b>{text}</b>" if block.bold else text)
    return "\n\n".join(rendered)


def split_blocks(parts: list[Block], limit: int) -> list[list[Block]]:
    """Group blocks into messages of at most ``limit`` visible characters, cutting a block that is
    too long on its own at a paragraph, line, sentence or word boundary (a hard cut as a last resort)."""
    pieces: list[Block] = []
    for block in parts:
        pieces.extend(Block(text, block.bold) for text in _cut(block.text, limit))
    messages: list[list[Block]] = []
    current: list[Block] = []
    for piece in pieces:
        if current and visible_length([*current, piece]) > limit:
            messages.append(current)
            current = []
        current.append(piece)
    if current:
        messages.append(current)
    return messages


def _cut(text: str, limit: int) -> list[str]:
    result = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = -1
        for separator in ("\n\n", "\n", ". ", " "):
            position = window.rfind(separator, 0, limit)
            if position > limit // 2:
                cut = position + (1 if separator == ". " else 0)
                break
        if cut <= 0:
            cut = limit
        result.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        result.append(text)
    return result
