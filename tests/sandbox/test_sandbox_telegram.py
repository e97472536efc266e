"""Telegram: python-telegram-bot's Bot against the sandbox, and the Bot API rules it must keep."""

import asyncio
import hashlib
import json

import httpx
import pytest
from sandbox_test_clients import (
    BOT_TOKEN,
    CHANNEL,
    OTHER_BOT_TOKEN,
    OTHER_CHANNEL,
    OUTSIDER_BOT_TOKEN,
    TG_EDITOR,
)
from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg" * 50


def bot_for(sandbox, token: str = BOT_TOKEN) -> Bot:
    return Bot(token, base_url=sandbox.telegram_url, base_file_url=sandbox.telegram_file_url)


def raw(sandbox, method: str, token: str = BOT_TOKEN, **params) -> httpx.Response:
    return httpx.post(f"{sandbox.telegram_url}{token}/{method}", data=params)


async def test_bot_sends_a_photo_with_a_caption(sandbox):
    async with bot_for(sandbox) as bot:
        message = await bot.send_photo(CHANNEL, photo=PHOTO, caption="Opening of the park")
        assert message.caption == "Opening of the park"
        assert message.chat.id == CHANNEL
        file = await bot.get_file(message.photo[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == PHOTO
    [entry] = await sandbox.acontrol.ledger(network="telegram", channel=str(CHANNEL))
    assert entry["media"] == [hashlib.sha256(PHOTO).hexdigest()]
    assert entry["token"] == BOT_TOKEN


async def test_rate_limit_raises_retry_after(sandbox):
    await sandbox.acontrol.set_faults("telegram", BOT_TOKEN, rate_limit={"limit": 1, "per_seconds": 30})
    async with bot_for(sandbox) as bot:  # initialize() spends the one allowed request on getMe
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(CHANNEL, "second")
    assert "Retry in" in str(raised.value)
    reply = raw(sandbox, "sendMessage", chat_id=CHANNEL, text="x")
    assert reply.status_code == 429
    assert 1 <= reply.json()["parameters"]["retry_after"] <= 30
    assert (
        reply.json()["description"]
        == f"Too Many Requests: retry after {reply.json()['parameters']['retry_after']}"
    )


async def test_another_admins_post_arrives_as_a_channel_post_update(sandbox):
    await sandbox.acontrol.create(
        "telegram/posts", {"chat_id": CHANNEL, "user_id": TG_EDITOR, "text": "By hand"}
    )
    async with bot_for(sandbox, OTHER_BOT_TOKEN) as other:
        await other.send_message(CHANNEL, "From the other bot")
    async with bot_for(sandbox) as bot:
        await bot.send_message(CHANNEL, "My own post")
        updates = await bot.get_updates(timeout=0)
    assert [u.channel_post.text for u in updates] == ["By hand", "From the other bot"]
    assert updates[0].channel_post.author_signature == "Irina"
    assert updates[0].channel_post.chat.id == CHANNEL


async def test_long_poll_returns_when_a_post_arrives(sandbox):
    async with bot_for(sandbox) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=20, read_timeout=30))
        await sandbox.acontrol.create("telegram/posts", {"chat_id": CHANNEL, "text": "Breaking"})
        updates = await asyncio.wait_for(poll, 10)
    assert [u.channel_post.text for u in updates] == ["Breaking"]


async def test_offset_confirms_updates_and_edits_arrive_as_edited_channel_post(sandbox):
    post = await sandbox.acontrol.create("telegram/posts", {"chat_id": CHANNEL, "text": "v1"})
    async with bot_for(sandbox) as bot:
        [first] = await bot.get_updates()
        await sandbox.acontrol.create(
            "telegram/posts/edit", {"chat_id": CHANNEL, "message_id": post["message_id"], "text": "v2"}
        )
        [second] = await bot.get_updates(offset=first.update_id + 1)
        assert second.edited_channel_post.text == "v2"
        assert await bot.get_updates(offset=second.update_id + 1) == ()


async def test_text_limit_is_4096_characters(sandbox):
    async with bot_for(sandbox) as bot:
        await bot.send_message(CHANNEL, "я" * 4096)
        with pytest.raises(BadRequest):
            await bot.send_message(CHANNEL, "я" * 4097)
    assert raw(sandbox, "sendMessage", chat_id=CHANNEL, text="x" * 4097).json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message is too long",
    }
    assert raw(sandbox, "sendMessage", chat_id=CHANNEL, text="").json()["description"] == (
        "Bad Request: message text is empty"
    )


async def test_caption_limit_is_1024_characters(sandbox):
    async with bot_for(sandbox) as bot:
        await bot.send_photo(CHANNEL, photo=PHOTO, caption="c" * 1024)
        with pytest.raises(BadRequest, match="caption is too long"):
            await bot.send_photo(CHANNEL, photo=PHOTO, caption="c" * 1025)
    async with httpx.AsyncClient() as client:
        reply = await client.post(
            f"{sandbox.telegram_url}{BOT_TOKEN}/sendPhoto",
            data={"chat_id": CHANNEL, "caption": "c" * 1025},
            files={"photo": ("p.jpg", PHOTO)},
        )
    assert reply.json()["description"] == "Bad Request: message caption is too long"
    assert len(await sandbox.acontrol.ledger(network="telegram")) == 1


async def test_media_group_holds_two_to_ten_items(sandbox):
    async with bot_for(sandbox) as bot:
        album = await bot.send_media_group(
            CHANNEL, [InputMediaPhoto(PHOTO), InputMediaPhoto(PHOTO, caption="two")]
        )
        assert len({m.media_group_id for m in album}) == 1
        assert album[0].media_group_id
        with pytest.raises(BadRequest, match="oo many messages to send as an album"):
            await bot.send_media_group(CHANNEL, [InputMediaPhoto(PHOTO)] * 11)
    empty = raw(sandbox, "sendMediaGroup", chat_id=CHANNEL, media="[]").json()
    assert empty["description"] == "Bad Request: there are no messages to send"
    eleven = json.dumps([{"type": "photo", "media": album[0].photo[-1].file_id}] * 11)
    assert raw(sandbox, "sendMediaGroup", chat_id=CHANNEL, media=eleven).json()["description"] == (
        "Bad Request: too many messages to send as an album"
    )
    assert len(await sandbox.acontrol.ledger(network="telegram")) == 2


async def test_get_updates_conflicts_with_an_active_webhook(sandbox):
    async with bot_for(sandbox) as bot:
        await bot.set_webhook("https://hooks.example.org/telegram")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await bot.delete_webhook()
        assert await bot.get_updates() == ()


async def test_a_second_long_poll_terminates_the_first_with_409(sandbox):
    async with bot_for(sandbox) as one_instance, bot_for(sandbox) as another_instance:
        first = asyncio.create_task(one_instance.get_updates(timeout=20, read_timeout=30))
        await asyncio.wait_for(_until_polling(sandbox), 10)
        second = await another_instance.get_updates(timeout=0)
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 10)
    assert second == ()


async def _until_polling(sandbox):
    """Wait until the sandbox reports the bot's long poll as open (no timing guesses)."""
    bot_id = BOT_TOKEN.split(":")[0]
    # The poll lives in another process, so there is no Event to await: ask the sandbox until it says so.
    while not (await sandbox.acontrol._call("GET", "telegram/polls")).get(bot_id):  # noqa: ASYNC110
        await asyncio.sleep(0)


async def test_bot_that_is_not_an_admin_gets_403(sandbox):
    async with bot_for(sandbox, OUTSIDER_BOT_TOKEN) as outsider:
        with pytest.raises(Forbidden):
            await outsider.send_message(CHANNEL, "hello")
    reply = raw(sandbox, "sendMessage", OTHER_BOT_TOKEN, chat_id=CHANNEL, text="x")
    assert reply.status_code == 200
    await sandbox.acontrol.create(
        "telegram/admins", {"chat_id": CHANNEL, "bot": OTHER_BOT_TOKEN, "admin": False}
    )
    reply = raw(sandbox, "sendMessage", OTHER_BOT_TOKEN, chat_id=CHANNEL, text="x")
    assert reply.status_code == 403
    assert reply.json()["description"] == "Forbidden: bot is not a member of the channel chat"


async def test_edit_and_delete_messages(sandbox):
    async with bot_for(sandbox) as bot:
        message = await bot.send_message(CHANNEL, "draft")
        edited = await bot.edit_message_text("final", chat_id=CHANNEL, message_id=message.message_id)
        assert edited.text == "final"
        assert edited.edit_date is not None
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("final", chat_id=CHANNEL, message_id=message.message_id)
        photo = await bot.send_photo(CHANNEL, photo=PHOTO, caption="old")
        assert (await bot.edit_message_caption(CHANNEL, photo.message_id, caption="new")).caption == "new"
        assert await bot.delete_message(CHANNEL, message.message_id) is True
        with pytest.raises(BadRequest, match="essage to delete not found"):
            await bot.delete_message(CHANNEL, message.message_id)
    actions = [e["action"] for e in await sandbox.acontrol.ledger(network="telegram")]
    assert actions == ["post", "edit", "post", "edit", "delete"]


async def test_unknown_or_revoked_token_is_unauthorized(sandbox):
    await sandbox.acontrol.revoke("telegram", BOT_TOKEN)
    with pytest.raises(InvalidToken):
        async with bot_for(sandbox):
            pass
    assert raw(sandbox, "getMe", "123:unknown").status_code == 401


async def test_get_chat_by_username(sandbox):
    async with bot_for(sandbox) as bot:
        chat = await bot.get_chat("@city")
    assert (chat.id, chat.type, chat.title) == (CHANNEL, "channel", "City")
    assert (
        raw(sandbox, "getChat", chat_id=-1009999999999).json()["description"] == "Bad Request: chat not found"
    )
    assert OTHER_CHANNEL
