"""One settings object for every service. Environment variables use the ``HUB_`` prefix;
``DATABASE_URL`` and ``REDIS_URL`` are also accepted unprefixed, as hosting platforms set them."""

import base64
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "placeholder", ""}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/hub",
        validation_alias=AliasChoices("HUB_DATABASE_URL", "DATABASE_URL"),
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("HUB_REDIS_URL", "REDIS_URL"),
    )
    # Fernet key (urlsafe base64 of 32 bytes) that encrypts channel credentials at rest.
    # In development a key is generated once into ``var/encryption.key``; production must set it.
    # A round trip before each pooled connection is reused: the API wants it (no error after a database
    # restart); the distributor turns it off, since its work is retried anyway and round trips are its cost.
    database_pre_ping: bool = True
    encryption_key: str | None = None
    data_dir: Path = Path("var")
    media_dir: Path | None = None
    max_photo_bytes: int = 10 * 1024 * 1024
    max_video_bytes: int = 256 * 1024 * 1024
    center_weekly_quota: int = 10
    log_level: str = "INFO"
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Network base URLs: production defaults; point them at the sandbox to test or demo.
    vk_api_url: str = "https://api.vk.ru/method/"
    vk_api_version: str = "5.199"
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"
    ok_api_url: str = "https://api.ok.ru/fb.do"
    # Network clients (shared by every adapter): timeouts in seconds and connection pool sizes.
    # A read timeout on a posting call means "outcome unknown", so keep it well above the networks'
    # normal latency; uploads of large videos get their own, longer timeout.
    # Honour HTTP(S)_PROXY / NO_PROXY and ~/.netrc for network calls. Off by default: explicit settings
    # are clearer, and requests checks the environment and the file system on every call otherwise.
    network_use_environment: bool = False
    network_connect_timeout_s: float = 10.0
    network_timeout_s: float = 30.0
    network_upload_timeout_s: float = 300.0
    network_pool_size: int = 100
    # At most this many VK tokens keep a client object in memory (least recently used are dropped).
    vk_client_cache_size: int = 1024
    # At most this many Telegram bots are kept initialised (one per token, least recently used dropped).
    telegram_bot_cache_size: int = 1024

    # Distribution: retries, leases and batches.
    delivery_max_attempts: int = 8
    delivery_max_age_s: int = 2 * 24 * 3600
    delivery_lease_s: int = 120
    delivery_batch_size: int = 50
    delivery_concurrency: int = 50
    retry_backoff_base_s: float = 10.0
    retry_backoff_max_s: float = 3600.0
    # After an outcome-unknown Telegram attempt, wait this long for the collector to observe the post.
    outcome_lookup_delay_s: float = 60.0
    sweep_interval_s: float = 5.0
    plan_interval_s: float = 60.0
    telegram_poll_interval_s: float = 10.0
    webhook_interval_s: float = 10.0
    # Which periodic jobs this scheduler runs: "all", or a comma-separated list of job names (e.g. to
    # give observation its own scheduler process).
    scheduler_jobs: str = "all"
    # Shared per-token rate limits (Redis): what each network allows one token.
    vk_rate_per_s: float = 3.0
    telegram_rate_per_s: float = 30.0
    telegram_chat_rate_per_min: float = 20.0
    ok_rate_per_s: float = 5.0
    rate_limits_enabled: bool = True
    # A delivery whose token has no free slot within this many seconds goes back to the queue (due
    # when the slot is) instead of holding one of the worker's concurrent places while it waits.
    rate_limit_max_wait_s: float = 30.0
    # Requests are paced at this share of each network limit above.
    rate_limit_headroom: float = 0.95
    distributor_metrics_port: int = 0
    scheduler_metrics_port: int = 0

    # Compliance (defaults where no rule set exists for a region or organisation; rules are data).
    compliance_min_items_per_channel: int = 3
    compliance_require_media: bool = False
    compliance_count_any_post: bool = False
    # A week is closed (frozen) this long after it ends in the organisation's zone.
    compliance_close_after_s: int = 2 * 24 * 3600
    compliance_close_interval_s: float = 3600.0
    # work_mem for the report's aggregate (SET LOCAL in its transaction only).
    compliance_work_mem_mb: int = 256
    # Matching observed posts to materials: pg_trgm similarity threshold and how far back to look.
    match_similarity_threshold: float = 0.45
    match_material_window_days: int = 21
    # Observation: VK walls (execute batches of wall.get), OK group topics, Telegram getUpdates.
    observe_interval_s: float = 900.0
    observe_concurrency: int = 20
    vk_observe_posts: int = 50
    # Optional VK service token for reading walls; by default each channel's own account token reads.
    vk_observe_token: str | None = None
    ok_observe_topics: int = 50
    telegram_poll_timeout_s: float = 0.0
    # Reported publications: how often to retry confirmation and when to give up.
    report_confirm_interval_s: float = 300.0
    report_confirm_give_up_s: int = 3 * 24 * 3600
    # Midweek reminders, in each organisation's own zone (ISO weekday, 1 = Monday).
    reminder_weekday: int = 3
    reminder_hour: int = 12
    reminder_interval_s: float = 600.0
    notification_send_interval_s: float = 60.0
    # The Telegram bot account (Account.id) that writes to responsible people's linked chats.
    notification_bot_account_id: int | None = None
    # Optional e-mail sender for notifications of people without a linked chat.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "hub@localhost"
    smtp_starttls: bool = True

    # The feed municipal systems pull (JSON, RSS, Atom) and its webhooks.
    # Links in feeds start with this (media links, self links); set it to the API's public address.
    public_base_url: str = "http://127.0.0.1:8000"
    # HMAC key of signed media links in feeds. In development a key is generated once into
    # ``var/feed_signing.key``; production must set it.
    feed_signing_key: str | None = None
    # Signed links stay valid for between one and two of these periods (links change once a period,
    # so every process renders the same bytes, and cached feed bodies stay shareable).
    feed_link_period_s: int = 24 * 3600
    # How long a rendered feed body stays in Redis (it is keyed by the feed generation, so this only
    # bounds memory, never staleness) and how many bodies each API process keeps in memory.
    feed_cache_ttl_s: int = 3600
    feed_memory_cache_entries: int = 4096
    feed_max_page: int = 500
    # Each API process keeps feed keys and the feed generation in memory, refreshed by PostgreSQL
    # notifications; without any notification for this long it re-reads them anyway (a safety net).
    feed_directory_recheck_s: float = 5.0
    # Webhooks: per-request timeout, attempts and exponential backoff of the outbox, batch per pass.
    webhook_timeout_s: float = 10.0
    webhook_max_attempts: int = 10
    webhook_backoff_base_s: float = 30.0
    webhook_backoff_max_s: float = 6 * 3600.0
    webhook_batch_size: int = 100

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # Accept the libpq-style URL operators usually have and use the asyncpg driver.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_key(self) -> "Settings":
        if self.environment == "production":
            if self.encryption_key is None or self.encryption_key.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError("HUB_ENCRYPTION_KEY must be set to a real Fernet key in production")
        if self.encryption_key is not None:
            try:
                raw = base64.urlsafe_b64decode(self.encryption_key.encode())
            except ValueError as exc:
                raise ValueError("HUB_ENCRYPTION_KEY is not urlsafe base64") from exc
            if len(raw) != 32:
                raise ValueError("HUB_ENCRYPTION_KEY must decode to 32 bytes (a Fernet key)")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_feed_key(self) -> "Settings":
        if self.environment == "production":
            if self.feed_signing_key is None or self.feed_signing_key.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError("HUB_FEED_SIGNING_KEY must be set to a real secret in production")
            if len(self.feed_signing_key) < 32:
                raise ValueError("HUB_FEED_SIGNING_KEY must have at least 32 characters")
        return self

    def resolved_feed_signing_key(self) -> bytes:
        """The HMAC key of signed feed links; in development and tests a key file is created once."""
        if self.feed_signing_key:
            return self.feed_signing_key.encode()
        key_file = self.data_dir / "feed_signing.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process created it first
                return key_file.read_bytes().strip()
            with os.fdopen(fd, "wb") as handle:
                handle.write(base64.urlsafe_b64encode(os.urandom(32)))
        return key_file.read_bytes().strip()

    @property
    def media_root(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    def resolved_encryption_key(self) -> bytes:
        """The Fernet key; in development and tests a key file under ``data_dir`` is created once."""
        if self.encryption_key:
            return self.encryption_key.encode()
        key_file = self.data_dir / "encryption.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key = base64.urlsafe_b64encode(os.urandom(32))
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
        return key_file.read_bytes().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
