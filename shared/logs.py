"""Structured logs: one event per line, ``time level service event key=value …``.
Never pass tokens or personal data as fields."""

import logging
import sys
from datetime import UTC, datetime
from typing import Any


class _EventFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        fields = getattr(record, "fields", None) or {}
        extras = " ".join(f"{key}={_quote(value)}" for key, value in fields.items())
        line = f"{moment} {record.levelname:<5} {self.service} {record.getMessage()}"
        if extras:
            line = f"{line} {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def _quote(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_EventFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that log request URLs (which may carry tokens) stay quiet below WARNING.
    for noisy in ("httpx", "httpcore", "urllib3", "telegram", "arq.jobs"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, event, extra={"fields": fields})
