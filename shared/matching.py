"""Which material an observed post carries, decided in order of certainty:

1. ``post_id`` — the distributor made this very post (a delivery with this channel and post id);
2. ``repost`` — a VK repost (``copy_history``) of a post that carries a material (the center's own
   community post, or any post the hub already matched);
3. ``link`` — the post (text or link entities) contains the material's link;
4. ``text_similarity`` — PostgreSQL ``pg_trgm`` similarity of the post's text with the material's
   title and body at or above ``match_similarity_threshold``.

Candidates are approved materials published within ``match_material_window_days`` before the post.
Posts nothing matches keep ``material_id`` NULL: the organisation's own news. A post already matched
is never re-matched (the distributor's knowledge, or an earlier decision, wins)."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.settings import Settings, get_settings

_SCHEME = re.compile(r"^(https?://)?(www\.)?", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'»)]+", re.IGNORECASE)

_BY_POST_ID = text("""
UPDATE publication p SET material_id = d.material_id, delivery_id = d.id, match_method = 'post_id',
       match_score = 1.0, updated_at = now()
FROM delivery d
WHERE p.id = ANY(CAST(:ids AS bigint[])) AND p.material_id IS NULL
  AND d.channel_id = p.channel_id
  AND (d.external_post_id = p.external_post_id OR p.external_post_id = ANY(d.part_ids))
""")

# The original of a VK repost, "<owner_id>_<post_id>", is a publication (or delivery) of a VK
# community whose id is -owner_id, in whatever form the channel's external id was registered.
_BY_REPOST = text("""
WITH origin AS (
    SELECT p.id, split_part(p.repost_of, '_', 1) AS owner, split_part(p.repost_of, '_', 2) AS post
    FROM publication p
    WHERE p.id = ANY(CAST(:ids AS bigint[])) AND p.material_id IS NULL AND p.repost_of LIKE '-%\\_%'
),
found AS (
    SELECT DISTINCT ON (origin.id) origin.id, known.material_id
    FROM origin
    JOIN channel c ON c.platform = 'vk' AND lower(c.external_id) IN (
        ltrim(origin.owner, '-'), origin.owner, 'club' || ltrim(origin.owner, '-'),
        'public' || ltrim(origin.owner, '-'))
    JOIN LATERAL (
        SELECT q.material_id FROM publication q
        WHERE q.channel_id = c.id AND q.external_post_id = origin.post AND q.material_id IS NOT NULL
        UNION ALL
        SELECT d.material_id FROM delivery d WHERE d.channel_id = c.id AND d.external_post_id = origin.post
    ) known ON true
    ORDER BY origin.id
)
UPDATE publication p SET material_id = found.material_id, match_method = 'repost', match_score = 1.0,
       updated_at = now()
FROM found WHERE p.id = found.id
""")

_CANDIDATES = """
FROM publication p
JOIN material m ON m.status = 'approved'
 AND COALESCE(m.approved_at, m.created_at) <= p.published_at + interval '1 day'
 AND COALESCE(m.approved_at, m.created_at) >= p.published_at - make_interval(days => :window_days)
WHERE p.id = ANY(CAST(:ids AS bigint[])) AND p.material_id IS NULL
"""

_LINK_CANDIDATES = text(
    f"SELECT p.id, p.text, m.id AS material_id, m.link {_CANDIDATES} AND m.link IS NOT NULL"
)

_BY_SIMILARITY = text(f"""
WITH scored AS (
    SELECT DISTINCT ON (p.id) p.id, m.id AS material_id,
           greatest(similarity(p.text, m.body), similarity(p.text, m.title || ' ' || m.body)) AS score
    {_CANDIDATES} AND length(p.text) >= :min_length
    ORDER BY p.id, score DESC, m.id
)
UPDATE publication p SET material_id = scored.material_id, match_method = 'text_similarity',
       match_score = scored.score, updated_at = now()
FROM scored WHERE p.id = scored.id AND scored.score >= :threshold
""")

MIN_SIMILARITY_TEXT = 20


@dataclass(frozen=True)
class MatchResult:
    post_id: int = 0
    repost: int = 0
    link: int = 0
    text_similarity: int = 0


def normalise_link(url: str) -> str:
    return _SCHEME.sub("", url.strip()).rstrip("/").lower()


async def match_publications(
    session: AsyncSession,
    publication_ids: Sequence[int],
    links: Mapping[int, Sequence[str]] | None = None,
    settings: Settings | None = None,
) -> MatchResult:
    """Match the given publications that have no material yet; ``links`` are URLs a post carries
    outside its text (Telegram link entities), by publication id."""
    if not publication_ids:
        return MatchResult()
    settings = settings or get_settings()
    ids = list(publication_ids)
    by_post_id = (await session.execute(_BY_POST_ID, {"ids": ids})).rowcount  # type: ignore[attr-defined]
    by_repost = (await session.execute(_BY_REPOST, {"ids": ids})).rowcount  # type: ignore[attr-defined]
    window = {"ids": ids, "window_days": settings.match_material_window_days}
    chosen: dict[int, int] = {}
    for row in (await session.execute(_LINK_CANDIDATES, window)).all():
        if row.id in chosen:
            continue
        wanted = normalise_link(row.link)
        haystack = [normalise_link(url.rstrip(".,;:!?")) for url in _URL.findall(row.text)]
        haystack += [normalise_link(url) for url in (links or {}).get(row.id, ())]
        if wanted and any(item == wanted or item.startswith(wanted + "?") for item in haystack):
            chosen[row.id] = row.material_id
    for publication_id, material_id in chosen.items():
        await session.execute(
            text(
                "UPDATE publication SET material_id = :material, match_method = 'link', match_score = 1.0, "
                "updated_at = now() WHERE id = :id AND material_id IS NULL"
            ),
            {"material": material_id, "id": publication_id},
        )
    by_similarity = (
        await session.execute(
            _BY_SIMILARITY,
            {
                **window,
                "threshold": settings.match_similarity_threshold,
                "min_length": MIN_SIMILARITY_TEXT,
            },
        )
    ).rowcount  # type: ignore[attr-defined]
    return MatchResult(post_id=by_post_id, repost=by_repost, link=len(chosen), text_similarity=by_similarity)
