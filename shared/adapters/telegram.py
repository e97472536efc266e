"""Telegram adapter: a bot that administers a channel posts through python-telegram-bot.

One long-lived, initialised ``Bot`` per token (a bounded LRU); every bot shares two HTTPXRequest
pools, one for posting and one for long polls, so thousands of channels never mean thousands of
connection pools.

How a material becomes messages (HTML parse mode, everything escaped; limits count visible text):

- text only: one message, or several in order when it exceeds 4096 characters;
- media with text of at most 1024 characters: the photo or video with the text as its caption, or an
  album (2–10 items) with the caption on its first item;
- media with longer text: the media without caption, then the full text as a reply to the first
  media message (split at 4096 if needed). If a later part fails, the parts already sent are deleted
  again, so a failed publish leaves nothing behind and a retry cannot duplicate half a post.

``external_post_id`` is the first message id; ``part_ids`` lists every message id.
"""

import asyncio
import re
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import telegram
from telegram import InputMediaPhoto, InputMediaVideo, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from shared.adapters.base import (
    AdapterError,
    ChannelTarget,
    ErrorKind,
    MediaFile,
    ObservedPost,
    PostContent,
    PublishedPost,
)
from shared.adapters.layout import blocks, render_html, split_blocks, visible_length
from shared.adapters.redact import redact
from shared.settings import Settings, get_settings

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_MEDIA_GROUP = 10
CHANNEL_UPDATES = ["channel_post", "edited_channel_post"]
URL_PATTERN = re.compile(r"https?://[^\s<>\"']+")
# BadRequest descriptions that mean the bot lost the channel or its rights, not a bad material.
CREDENTIAL_PHRASES = (
    "chat not found",
    "not enough rights",
    "need administrator rights",
    "chat_admin_required",
    "have no rights",
    "bot is not a member",
    "bot was kicked",
)
GONE_PHRASES = ("message to delete not found", "message to edit not found", "message_id_invalid")
CANNOT_DELETE_PHRASES = ("message can't be deleted",)

T = TypeVar("T")


class TelegramAdapter:
    platform = "telegram"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        s = self.settings
        self.request = HTTPXRequest(
            connection_pool_size=s.network_pool_size,
            connect_timeout=s.network_connect_timeout_s,
            read_timeout=s.network_timeout_s,
            write_timeout=s.network_timeout_s,
            media_write_timeout=s.network_upload_timeout_s,
            pool_timeout=s.network_timeout_s,
            httpx_kwargs={"trust_env": s.network_use_environment},
        )
        self.poll_request = HTTPXRequest(
            connection_pool_size=s.network_pool_size,
            connect_timeout=s.network_connect_timeout_s,
            read_timeout=s.network_timeout_s,
            pool_timeout=s.network_timeout_s,
            httpx_kwargs={"trust_env": s.network_use_environment},
        )
        self._bots: OrderedDict[str, telegram.Bot] = OrderedDict()
        self._starting: dict[str, asyncio.Task[telegram.Bot]] = {}

    # ----- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def _token(credentials: dict[str, str]) -> str:
        token = credentials.get("bot_token", "")
        if not token:
            raise AdapterError(
                ErrorKind.credentials, "Telegram credentials have no bot_token", code="no_token"
            )
        return token

    async def bot(self, credentials: dict[str, str]) -> telegram.Bot:
        """The token's initialised bot (``getMe`` is called once per token and process)."""
        token = self._token(credentials)
        bot = self._bots.get(token)
        if bot is not None:
            self._bots.move_to_end(token)
            return bot
        starting = self._starting.get(token)
        if starting is None:
            starting = asyncio.ensure_future(self._start_bot(token))
            self._starting[token] = starting
            starting.add_done_callback(lambda _: self._starting.pop(token, None))
        return await asyncio.shield(starting)

    async def _start_bot(self, token: str) -> telegram.Bot:
        bot = telegram.Bot(
            token,
            base_url=self.settings.telegram_api_url,
            base_file_url=self.settings.telegram_file_url,
            request=self.request,
            get_updates_request=self.poll_request,
        )
        try:
            await bot.initialize()
        except Exception as error:  # noqa: BLE001
            raise classify(error, posting=False, secrets=[token]) from None
        self._bots[token] = bot
        while len(self._bots) > self.settings.telegram_bot_cache_size:
            # Evicted bots share the request pools, so they are dropped, never shut down.
            self._bots.popitem(last=False)
        return bot

    async def _call(self, token: str, call: Awaitable[T], *, posting: bool = False) -> T:
        try:
            return await call
        except Exception as error:  # noqa: BLE001 - every failure becomes an AdapterError
            raise classify(error, posting=posting, secrets=[token]) from None

    @staticmethod
    def chat_id(target: ChannelTarget) -> int | str:
        raw = target.external_id.strip()
        if raw.lstrip("-").isdigit():
            return int(raw)
        return raw if raw.startswith("@") else f"@{raw}"

    @staticmethod
    def message_url(message: Message) -> str:
        chat = message.chat
        if chat.username:
            return f"https://t.me/{chat.username}/{message.message_id}"
        internal = str(chat.id).removeprefix("-100").lstrip("-")
        return f"https://t.me/c/{internal}/{message.message_id}"

    # ----- NetworkAdapter ---------------------------------------------------------------------------

    async def publish(self, target: ChannelTarget, content: PostContent) -> PublishedPost:
        token = self._token(target.credentials)
        bot = await self.bot(target.credentials)
        chat_id = self.chat_id(target)
        parts = blocks(content)
        media = [item for item in content.media if item.kind in ("photo", "video")][:MAX_MEDIA_GROUP]
        caption_fits = visible_length(parts) <= MAX_CAPTION
        caption = render_html(parts) if parts and caption_fits else None
        sent: list[Message] = []
        try:
            if media:
                sent.extend(await self._send_media(bot, token, chat_id, media, caption))
            if parts and (not media or not caption_fits):
                reply_to = sent[0].message_id if sent else None
                for chunk in split_blocks(parts, MAX_TEXT):
                    message = await self._call(
                        token,
                        bot.send_message(
                            chat_id,
                            render_html(chunk),
                            parse_mode=ParseMode.HTML,
                            reply_parameters=ReplyParameters(reply_to) if reply_to else None,
                        ),
                        posting=True,
                    )
                    sent.append(message)
                    reply_to = None  # only the first text part answers the media
        except AdapterError as error:
            if sent:
                await self._roll_back(bot, token, chat_id, sent, error)
            raise
        if not sent:
            raise AdapterError(ErrorKind.content, "nothing to post: no text and no media", code="empty")
        first = sent[0]
        return PublishedPost(
            external_post_id=str(first.message_id),
            url=self.message_url(first),
            published_at=first.date.astimezone(UTC),
            text="\n\n".join(block.text for block in parts),  # visible text, as observed posts carry it
            has_photo=any(item.kind == "photo" for item in media),
            has_video=any(item.kind == "video" for item in media),
            part_ids=tuple(str(message.message_id) for message in sent),
        )

    async def _send_media(
        self, bot: telegram.Bot, token: str, chat_id: int | str, media: list[MediaFile], caption: str | None
    ) -> list[Message]:
        files = [await asyncio.to_thread(item.path.read_bytes) for item in media]
        if len(media) == 1:
            item, data = media[0], files[0]
            sender: Callable[..., Awaitable[Message]] = (
                bot.send_photo if item.kind == "photo" else bot.send_video
            )
            keyword = "photo" if item.kind == "photo" else "video"
            message = await self._call(
                token,
                sender(
                    chat_id,
                    caption=caption,
                    parse_mode=ParseMode.HTML if caption else None,
                    **{keyword: _input_file(item, data)},
                ),
                posting=True,
            )
            return [message]
        album: list[InputMediaPhoto | InputMediaVideo] = []
        for index, (item, data) in enumerate(zip(media, files, strict=True)):
            kind = InputMediaPhoto if item.kind == "photo" else InputMediaVideo
            first_caption = caption if index == 0 else None
            album.append(
                kind(
                    _input_file(item, data, attach=True),
                    caption=first_caption,
                    parse_mode=ParseMode.HTML if first_caption else None,
                )
            )
        messages = await self._call(token, bot.send_media_group(chat_id, album), posting=True)
        return list(messages)

    async def _roll_back(
        self, bot: telegram.Bot, token: str, chat_id: int | str, sent: list[Message], error: AdapterError
    ) -> None:
        """Delete the parts already sent; if that fails too, the post is half-made: outcome unknown."""
        try:
            for message in sent:
                await self._delete(bot, token, chat_id, message.message_id)
        except AdapterError as rollback_error:
            raise AdapterError(
                ErrorKind.unknown,
                f"part of the post was sent (message ids {[m.message_id for m in sent]}), the rest failed "
                f"({error}) and the sent part could not be deleted ({rollback_error})",
                code="partial",
            ) from None

    async def _delete(self, bot: telegram.Bot, token: str, chat_id: int | str, message_id: int) -> bool:
        """Delete one message; True if it is gone (deleted now or already), False if Telegram refuses."""
        try:
            await self._call(token, bot.delete_message(chat_id, message_id))
        except AdapterError as error:
            description = error.message.lower()
            if error.kind is ErrorKind.content and any(p in description for p in GONE_PHRASES):
                return True
            if error.kind is ErrorKind.content and any(p in description for p in CANNOT_DELETE_PHRASES):
                return False
            raise
        return True

    async def find_published(
        self, target: ChannelTarget, content: PostContent, since: datetime
    ) -> PublishedPost | None:
        """Always None: a bot cannot read channel history (see ``poll_channel_posts``)."""
        return None

    async def retract(
        self, target: ChannelTarget, external_post_id: str, part_ids: tuple[str, ...], replacement_text: str
    ) -> str:
        """Delete every part; parts Telegram refuses to delete (older than 48 h) are edited to
        ``replacement_text`` instead: the text of a text message, the caption of a media message."""
        token = self._token(target.credentials)
        bot = await self.bot(target.credentials)
        chat_id = self.chat_id(target)
        ids = [int(part) for part in (part_ids or (external_post_id,))]
        outcome = "deleted"
        for message_id in ids:
            if await self._delete(bot, token, chat_id, message_id):
                continue
            await self._replace(bot, token, chat_id, message_id, replacement_text)
            outcome = "edited"
        return outcome

    async def _replace(
        self, bot: telegram.Bot, token: str, chat_id: int | str, message_id: int, replacement_text: str
    ) -> None:
        text = replacement_text.strip() or "—"
        try:
            await self._call(token, bot.edit_message_text(text[:MAX_TEXT], chat_id, message_id))
            return
        except AdapterError as error:
            if "there is no text in the message" not in error.message.lower():
                if "message is not modified" in error.message.lower():
                    return
                raise
        try:
            await self._call(token, bot.edit_message_caption(chat_id, message_id, caption=text[:MAX_CAPTION]))
        except AdapterError as error:
            if "message is not modified" not in error.message.lower():
                raise

    async def verify_access(self, target: ChannelTarget) -> None:
        """``getMe`` (the token works), ``getChat`` (the channel exists for this bot) and
        ``getChatMember`` for the bot itself: it must be an administrator allowed to post."""
        token = self._token(target.credentials)
        bot = await self.bot(target.credentials)
        await self._call(token, bot.get_me())
        chat = await self._call(token, bot.get_chat(self.chat_id(target)))
        member = await self._call(token, bot.get_chat_member(chat.id, bot.id))
        if member.status == "creator":
            return
        if member.status != "administrator" or getattr(member, "can_post_messages", None) is False:
            raise AdapterError(
                ErrorKind.credentials,
                f"the bot is {member.status} in the channel, not an administrator who can post",
                code="not_admin",
            )

    async def poll_channel_posts(
        self,
        credentials: dict[str, str],
        offset: int | None,
        timeout: float,  # noqa: ASYNC109 - the long poll's own timeout, sent to Telegram
    ) -> tuple[list[ObservedPost], int | None]:
        """One long poll of ``getUpdates`` for channel posts and their edits. Pass the returned offset
        to the next call: it confirms the updates received so far, which Telegram then forgets."""
        token = self._token(credentials)
        bot = await self.bot(credentials)
        updates = await self._call(
            token,
            bot.get_updates(
                offset=offset,
                timeout=int(timeout),
                allowed_updates=CHANNEL_UPDATES,
                read_timeout=timeout + self.settings.network_timeout_s,
            ),
        )
        observed = []
        next_offset = offset
        for update in updates:
            next_offset = max(next_offset or 0, update.update_id + 1)
            message = update.channel_post or update.edited_channel_post
            if message is not None:
                observed.append(self.observed(message, edited=update.edited_channel_post is not None))
        return observed, next_offset

    def observed(self, message: Message, *, edited: bool) -> ObservedPost:
        text = message.text or message.caption or ""
        links = [entity.url for entity in (message.entities or message.caption_entities or ()) if entity.url]
        links += [url for url in URL_PATTERN.findall(text) if url not in links]
        return ObservedPost(
            channel_external_id=str(message.chat.id),
            external_post_id=str(message.message_id),
            url=self.message_url(message),
            published_at=message.date.astimezone(UTC),
            text=text,
            has_photo=bool(message.photo),
            has_video=message.video is not None,
            edited=edited,
            links=tuple(links),
        )

    async def aclose(self) -> None:
        self._bots.clear()
        await self.request.shutdown()
        await self.poll_request.shutdown()


def _input_file(item: MediaFile, data: bytes, *, attach: bool = False) -> telegram.InputFile:
    # Album items must be sent as ``attach://<name>`` parts; a single photo or video as its own field.
    return telegram.InputFile(data, filename=item.filename or item.path.name, attach=attach)


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    if isinstance(value, timedelta):
        return max(value.total_seconds(), 1.0)
    return max(float(value), 1.0)


def classify(error: BaseException, *, posting: bool, secrets: list[str]) -> AdapterError:
    """Turn a python-telegram-bot error into what the caller should do about it."""
    if isinstance(error, AdapterError):
        return error
    message = redact(str(error), secrets)
    if isinstance(error, RetryAfter):
        return AdapterError(
            ErrorKind.retry, "Telegram flood control", retry_after=_retry_after_seconds(error), code=429
        )
    if isinstance(error, ChatMigrated):
        return AdapterError(
            ErrorKind.credentials,
            f"the chat moved to a new id {error.new_chat_id}: update the channel's id",
            code="chat_migrated",
        )
    if isinstance(error, InvalidToken):
        return AdapterError(ErrorKind.credentials, f"Telegram rejected the bot token: {message}", code=401)
    if isinstance(error, Forbidden):
        return AdapterError(ErrorKind.credentials, f"Telegram: {message}", code=403)
    if isinstance(error, Conflict):
        # Another getUpdates poller, or a webhook, holds this bot's updates.
        return AdapterError(ErrorKind.retry, f"Telegram: {message}", retry_after=5.0, code=409)
    if isinstance(error, BadRequest):
        if any(phrase in message.lower() for phrase in CREDENTIAL_PHRASES):
            return AdapterError(ErrorKind.credentials, f"Telegram: {message}", code=400)
        return AdapterError(ErrorKind.content, f"Telegram refused the message: {message}", code=400)
    cause = error.__cause__
    if isinstance(error, TimedOut):
        if isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout | httpx.WriteTimeout):
            # Never fully sent: nothing can have been posted.
            return AdapterError(
                ErrorKind.retry,
                f"Telegram timed out before the request was sent: {message}",
                retry_after=2.0,
                code="timeout",
            )
        if posting:
            return AdapterError(
                ErrorKind.unknown,
                "Telegram did not answer in time: the message may have been sent",
                code="timeout",
            )
        return AdapterError(
            ErrorKind.retry, "Telegram did not answer in time", retry_after=2.0, code="timeout"
        )
    if isinstance(error, NetworkError):
        if posting and isinstance(cause, httpx.RemoteProtocolError | httpx.ReadError):
            # The connection broke after the request went out: the message may exist.
            return AdapterError(
                ErrorKind.unknown, f"Telegram connection lost after sending: {message}", code="disconnected"
            )
        return AdapterError(
            ErrorKind.retry, f"Telegram network error: {message}", retry_after=2.0, code="network"
        )
    if isinstance(error, TelegramError):
        return AdapterError(ErrorKind.retry, f"Telegram: {message}", retry_after=5.0, code="telegram")
    return AdapterError(
        ErrorKind.retry,
        f"Telegram call failed: {type(error).__name__}: {message}",
        retry_after=5.0,
        code="unexpected",
    )
