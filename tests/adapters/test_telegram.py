"""The Telegram adapter against the sandbox: python-telegram-bot, pointed at it by base URL."""

import html
import re
from pathlib import Path

import pytest

from sandbox.testing import RunningSandbox
from shared.adapters.base import AdapterError, ErrorKind
from shared.adapters.registry import get_telegram_adapter
from shared.adapters.telegram import MAX_CAPTION, MAX_TEXT, TelegramAdapter
from shared.settings import Settings
from tests.adapters.support import (
    BOT_TOKEN,
    CHANNEL,
    COLLECTOR_TOKEN,
    PRIVATE_CHANNEL,
    TG_EDITOR,
    content,
    media_file,
    quick_timeout,
    tg_target,
)

EXPECTED_HTML = (
    "<b>Новости города</b>\n\nОткрыт новый парк.\n\nhttps://region.example/news/1\n\n#Обнинск #парки"
)


@pytest.fixture
def tg(sandbox: RunningSandbox) -> TelegramAdapter:
    return get_telegram_adapter()


async def tg_posts(sandbox: RunningSandbox) -> list[dict[str, object]]:
    return await sandbox.acontrol.ledger(network="telegram", action="post")


async def test_text_goes_out_as_one_html_message_with_a_public_link(
    sandbox: RunningSandbox, tg: TelegramAdapter
) -> None:
    published = await tg.publish(tg_target(), content())

    [entry] = await tg_posts(sandbox)
    assert entry["channel"] == str(CHANNEL)
    assert entry["text"] == EXPECTED_HTML
    assert entry["media"] == []
    assert published.external_post_id == entry["post_id"]
    assert published.part_ids == (entry["post_id"],)
    assert published.url == f"https://t.me/city/{entry['post_id']}"


async def test_markup_in_the_material_is_escaped(sandbox: RunningSandbox, tg: TelegramAdapter) -> None:
    await tg.publish(
        tg_target(), content(title="A < B & C", body="<script>x</script>", hashtags=(), link=None)
    )

    [entry] = await tg_posts(sandbox)
    assert entry["text"] == "<b>A &lt; B &amp; C</b>\n\n&lt;script&gt;x&lt;/script&gt;"


async def test_private_channel_post_gets_a_c_link(sandbox: RunningSandbox, tg: TelegramAdapter) -> None:
    published = await tg.publish(tg_target(chat=PRIVATE_CHANNEL), content())
    assert published.url == f"https://t.me/c/1000000002/{published.external_post_id}"


async def test_photo_with_short_text_is_one_message_with_a_caption(
    sandbox: RunningSandbox, tg: TelegramAdapter, tmp_path: Path
) -> None:
    photo = media_file(tmp_path, "photo", "p1")

    published = await tg.publish(tg_target(), content(media=(photo,)))

    [entry] = await tg_posts(sandbox)
    assert entry["media"] == [photo.sha256]
    assert entry["text"] == EXPECTED_HTML
    assert published.has_photo
    assert published.part_ids == (entry["post_id"],)


async def test_video_with_short_text_is_one_message_with_a_caption(
    sandbox: RunningSandbox, tg: TelegramAdapter, tmp_path: Path
) -> None:
    video = media_file(tmp_path, "video", "v1")

    published = await tg.publish(tg_target(), content(media=(video,)))

    [entry] = await tg_posts(sandbox)
    assert entry["media"] == [video.sha256]
    assert entry["text"] == EXPECTED_HTML
    assert published.has_video


async def test_several_media_go_as_one_album_with_the_caption_on_the_first_item(
    sandbox: RunningSandbox, tg: TelegramAdapter, tmp_path: Path
) -> None:
    photo, video = media_file(tmp_path, "photo", "p1"), media_file(tmp_path, "video", "v1")

    published = await tg.publish(tg_target(), content(media=(photo, video)))

    entries = await tg_posts(sandbox)
    assert [e["media"] for e in entries] == [[photo.sha256], [video.sha256]]
    assert [e["text"] for e in entries] == [EXPECTED_HTML, ""]
    assert entries[0]["media_group_id"] == entries[1]["media_group_id"]
    assert published.part_ids == tuple(e["post_id"] for e in entries)
    assert published.external_post_id == entries[0]["post_id"]


async def test_text_over_the_caption_limit_goes_as_media_then_the_full_text(
    sandbox: RunningSandbox, tg: TelegramAdapter, tmp_path: Path
) -> None:
    photo = media_file(tmp_path, "photo", "p1")
    body = "Парк открыт. " * 100  # about 1300 characters: over 1024, under 4096

    published = await tg.publish(tg_target(), content(body=body, media=(photo,)))

    media_entry, text_entry = await tg_posts(sandbox)
    assert (media_entry["media"], media_entry["text"]) == ([photo.sha256], "")
    assert text_entry["media"] == []
    assert body.strip() in str(text_entry["text"])
    assert len(str(text_entry["text"])) > MAX_CAPTION
    assert published.part_ids == (media_entry["post_id"], text_entry["post_id"])
    assert published.external_post_id == media_entry["post_id"]


async def test_text_over_the_message_limit_is_split_at_sentence_boundaries(
    sandbox: RunningSandbox, tg: TelegramAdapter
) -> None:
    body = "Парк открыт для всех жителей. " * 200  # about 6000 characters

    published = await tg.publish(tg_target(), content(body=body, hashtags=(), link=None))

    entries = await tg_posts(sandbox)
    assert len(entries) == 2
    texts = [str(e["text"]) for e in entries]
    assert all(len(html.unescape(re.sub("<[^>]*>", "", text))) <= MAX_TEXT for text in texts)
    assert texts[0].startswith("<b>Новости города</b>\n\nПарк открыт")
    assert texts[0].endswith("жителей.")
    assert " ".join(texts).replace("<b>Новости города</b>\n\n", "").split() == body.split()
    assert published.part_ids == tuple(e["post_id"] for e in entries)


async def test_retract_deletes_every_part_and_parts_already_gone_count_as_deleted(
    sandbox: RunningSandbox, tg: TelegramAdapter, tmp_path: Path
) -> None:
    photo = media_file(tmp_path, "photo", "p1")
    published = await tg.publish(tg_target(), content(body="Парк открыт. " * 100, media=(photo,)))
    await sandbox.acontrol.create(
        "telegram/posts/delete", {"chat_id": CHANNEL, "message_id": int(published.part_ids[1])}
    )

    outcome = await tg.retract(tg_target(), published.external_post_id, published.part_ids, "Снято")

    assert outcome == "deleted"
    deletions = await sandbox.acontrol.ledger(network="telegram", action="delete")
    assert sorted(d["post_id"] for d in deletions) == sorted(published.part_ids)


async def test_removed_admin_right_is_a_credentials_error(
    sandbox: RunningSandbox, tg: TelegramAdapter
) -> None:
    await sandbox.acontrol.create("telegram/admins", {"chat_id": CHANNEL, "bot": BOT_TOKEN, "admin": False})

    with pytest.raises(AdapterError) as caught:
        await tg.publish(tg_target(), content())

    assert (caught.value.kind, caught.value.code) == (ErrorKind.credentials, 403)


async def test_revoked_token_is_a_credentials_error_that_never_shows_the_token(
    sandbox: RunningSandbox, tg: TelegramAdapter
) -> None:
    await tg.publish(tg_target(), content())  # the bot is initialised and cached before the revocation
    await sandbox.acontrol.revoke("telegram", BOT_TOKEN)

    with pytest.raises(AdapterError) as posting:
        await tg.publish(tg_target(), content())
    with pytest.raises(AdapterError) as verifying:
        await tg.verify_access(tg_target())

    assert posting.value.kind is ErrorKind.credentials
    assert verifying.value.kind is ErrorKind.credentials
    for error in (posting.value, verifying.value):
        assert BOT_TOKEN.split(":")[1] not in str(error)


async def test_token_rejected_at_first_use_is_a_credentials_error_without_the_token(
    sandbox: RunningSandbox, settings: Settings
) -> None:
    fresh = TelegramAdapter(settings)
    await sandbox.acontrol.revoke("telegram", COLLECTOR_TOKEN)
    try:
        with pytest.raises(AdapterError) as caught:
            await fresh.publish(tg_target(COLLECTOR_TOKEN), content())
    finally:
        await fresh.aclose()
    assert caught.value.kind is ErrorKind.credentials
    assert COLLECTOR_TOKEN.split(":")[1] not in str(caught.value)


async def test_unknown_channel_is_a_credentials_error(sandbox: RunningSandbox, tg: TelegramAdapter) -> None:
    with pytest.raises(AdapterError) as caught:
        await tg.publish(tg_target(chat=-1009999999999), content())
    assert caught.value.kind is ErrorKind.credentials
    assert "chat not found" in caught.value.message.lower()


async def test_rate_limit_is_retry_with_telegrams_retry_after(
    sandbox: RunningSandbox, tg: TelegramAdapter
) -> None:
    await tg.bot(tg_target().credentials)  # initialised before the limit applies
    await sandbox.acontrol.set_faults("telegram", BOT_TOKEN, rate_limit={"limit": 0, "per_seconds": 30})

    with pytest.raises(AdapterError) as caught:
        await tg.publish(tg_target(), content())

    assert (caught.value.kind, caught.value.code) == (ErrorKind.retry, 429)
    assert 1 <= (caught.value.retry_after or 0) <= 30


async def test_server_error_is_retry(sandbox: RunningSandbox, tg: TelegramAdapter) -> None:
    await tg.bot(tg_target().credentials)
    await sandbox.acontrol.set_faults("telegram", BOT_TOKEN, error_5xx_fraction=1.0)

    with pytest.raises(AdapterError) as caught:
        await tg.publish(tg_target(), content())

    assert caught.value.kind is ErrorKind.retry
    assert await tg_posts(sandbox) == []


async def test_timeout_after_the_message_was_sent_is_outcome_unknown(
    sandbox: RunningSandbox, settings: Settings
) -> None:
    impatient = TelegramAdapter(quick_timeout(settings))
    try:
        await impatient.bot(tg_target().credentials)
        await sandbox.acontrol.set_faults(
            "telegram", BOT_TOKEN, timeout_after_record_fraction=1.0, hang_seconds=30
        )
        with pytest.raises(AdapterError) as caught:
            await impatient.publish(tg_target(), content())
    finally:
        await impatient.aclose()

    assert caught.value.kind is ErrorKind.unknown
    assert len(await tg_posts(sandbox)) == 1  # it was posted: the caller must look before resending


async def test_failed_second_part_rolls_back_the_first(
    sandbox: RunningSandbox, tg: TelegramAdapter, tmp_path: Path
) -> None:
    await tg.bot(tg_target().credentials)
    # Every second request fails: the photo goes out, the text after it gets a 502, the rollback works.
    await sandbox.acontrol.set_faults("telegram", BOT_TOKEN, error_5xx_fraction=0.5)
    long_text = content(body="Парк открыт. " * 100, media=(media_file(tmp_path, "photo", "p"),))

    with pytest.raises(AdapterError) as caught:
        await tg.publish(tg_target(), long_text)

    assert caught.value.kind is ErrorKind.retry
    [posted] = await tg_posts(sandbox)
    [deleted] = await sandbox.acontrol.ledger(network="telegram", action="delete")
    assert deleted["post_id"] == posted["post_id"]


async def test_half_sent_post_that_cannot_be_rolled_back_is_outcome_unknown(
    sandbox: RunningSandbox, tg: TelegramAdapter, tmp_path: Path
) -> None:
    await tg.bot(tg_target().credentials)
    # The photo is allowed, then the limit shuts: the text and the rollback are both refused.
    await sandbox.acontrol.set_faults("telegram", BOT_TOKEN, rate_limit={"limit": 1, "per_seconds": 60})
    long_text = content(body="Парк открыт. " * 100, media=(media_file(tmp_path, "photo", "p"),))

    with pytest.raises(AdapterError) as caught:
        await tg.publish(tg_target(), long_text)

    [posted] = await tg_posts(sandbox)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.unknown, "partial")
    assert f"[{posted['post_id']}]" in caught.value.message


async def test_collector_observes_posts_made_by_hand_and_their_edits(
    sandbox: RunningSandbox, tg: TelegramAdapter, tmp_path: Path
) -> None:
    collector = {"bot_token": COLLECTOR_TOKEN}
    _, offset = await tg.poll_channel_posts(collector, None, 0)
    manual = await sandbox.acontrol.create(
        "telegram/posts",
        {"chat_id": CHANNEL, "user_id": TG_EDITOR, "text": "Наш день города https://city.example/day"},
    )
    await sandbox.acontrol.create(
        "telegram/posts/edit", {"chat_id": CHANNEL, "message_id": manual["message_id"], "text": "Исправлено"}
    )

    observed, offset = await tg.poll_channel_posts(collector, offset, 1)
    again, _ = await tg.poll_channel_posts(collector, offset, 0)

    assert [(o.external_post_id, o.text, o.edited) for o in observed] == [
        (str(manual["message_id"]), "Наш день города https://city.example/day", False),
        (str(manual["message_id"]), "Исправлено", True),
    ]
    assert observed[0].links == ("https://city.example/day",)
    assert observed[0].channel_external_id == str(CHANNEL)
    assert observed[0].url == f"https://t.me/city/{manual['message_id']}"
    assert again == []


async def test_collector_sees_the_distributors_posts_with_their_media(
    sandbox: RunningSandbox, tg: TelegramAdapter, tmp_path: Path
) -> None:
    collector = {"bot_token": COLLECTOR_TOKEN}
    _, offset = await tg.poll_channel_posts(collector, None, 0)
    published = await tg.publish(tg_target(), content(media=(media_file(tmp_path, "photo", "p"),)))

    observed, _ = await tg.poll_channel_posts(collector, offset, 1)

    [post] = observed
    assert post.external_post_id == published.external_post_id
    assert post.has_photo
    assert "Новости города" in post.text


async def test_verify_access_of_an_unknown_channel_is_a_credentials_error(
    sandbox: RunningSandbox, tg: TelegramAdapter
) -> None:
    with pytest.raises(AdapterError) as caught:
        await tg.verify_access(tg_target(chat=-1009999999999))
    assert caught.value.kind is ErrorKind.credentials
