"""One logging configuration for hexlit, uvicorn, Tornado and Streamlit.

`configure_logging(level, fmt)` installs it with `logging.config.dictConfig`: one handler
on stderr, one format (`text` for a person at a terminal, `json` for a log pipeline), and
every server library's logger routed through it, so nothing prints in a second format.

Each line carries the session (the first 8 characters of its id, as every hexlit message
does), the trace and span ids when tracing is on, and the replica (HOSTNAME, else the
host name) and process id. Every line is also scrubbed: a value that follows a cookie,
token, secret, code, state or authorization key is replaced, in case a library (or an
app) logs a URL or a header that carries one.

uvicorn's informational lines come from a logger it calls `uvicorn.error`; they are shown
as `uvicorn`. Its per-connection WebSocket lines ("accepted", "connection open") are
debug lines here, not info.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, Final, TextIO

from hexlit.domain.observation import current_session

LOGGERS: Final = ("hexlit", "uvicorn", "tornado", "streamlit", "websockets")
SHOWN_AS: Final = {"uvicorn.error": "uvicorn"}
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED: Final = "[redacted]"

_SECRET_VALUE = re.compile(
    r"(?i)\b((?:_streamlit_[\w-]*)|(?:[\w-]*(?:cookie|token|secret|password|authorization)[\w-]*))"
    r"(\"?\s*[=:]\s*\"?)([^\s&;,\"']+)"
)
"""`key=value`, `key: value` or `"key": "value"` where the key names a secret."""
_SECRET_HEADER = re.compile(
    r"(?i)\b((?:set-)?cookie|sec-websocket-protocol|authorization)(\s*:\s*)[^\n\"]+"
)
"""A header whose whole value is secret: cookies, the subprotocol (it carries the XSRF
token and the auth token), credentials."""
_SECRET_QUERY = re.compile(r"(?i)([?&](?:code|state)=)[^&\s\"']+")
"""An OAuth redirect's `code` and `state` in a URL."""

_CHATTER: Final = frozenset({"connection open", "connection closed"})

_trace_ids: Callable[[], tuple[str, str] | None] = lambda: None  # noqa: E731
_configured = False


def scrub(text: str) -> str:
    """`text` with every value of a secret-looking key replaced."""
    text = _SECRET_HEADER.sub(lambda found: f"{found[1]}{found[2]}{REDACTED}", text)
    text = _SECRET_VALUE.sub(lambda found: f"{found[1]}{found[2]}{REDACTED}", text)
    return _SECRET_QUERY.sub(lambda found: f"{found[1]}{REDACTED}", text)


def replica_id() -> str:
    return os.environ.get("HOSTNAME") or socket.gethostname()


def use_trace_ids(source: Callable[[], tuple[str, str] | None]) -> None:
    """Where log lines read the current trace and span ids (set when tracing is on)."""
    global _trace_ids
    _trace_ids = source


class Context(logging.Filter):
    """Adds `session`, `trace_id`, `span_id`, `replica`, and shows uvicorn.error as uvicorn;
    turns uvicorn's per-WebSocket info lines into debug lines (dropped below debug)."""

    def __init__(self) -> None:
        super().__init__()
        self._replica = replica_id()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.error" and _is_chatter(record):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
                return False
        record.name = SHOWN_AS.get(record.name, record.name)
        record.session = current_session.get() or ""
        ids = _trace_ids()
        record.trace_id, record.span_id = ids if ids else ("", "")
        record.replica = self._replica
        return True


def _is_chatter(record: logging.LogRecord) -> bool:
    message = record.msg if isinstance(record.msg, str) else ""
    return message in _CHATTER or message.startswith('%s - "WebSocket %s"')


class TextFormatter(logging.Formatter):
    """`2026-12-03 16:00:00,123 INFO hexlit.sessions: message [session 1a2b3c4d]`."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        session = getattr(record, "session", "")
        shown = session and session not in line  # hexlit's own lines name it already
        return scrub(f"{line} [session {session}]" if shown else line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, and the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "replica": getattr(record, "replica", ""),
            "pid": record.process,
        }
        for key in ("session", "trace_id", "span_id"):
            if value := getattr(record, key, ""):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return scrub(json.dumps(line, ensure_ascii=False))


def _iso_time(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def logging_config(level: str, fmt: str, stream: TextIO | None = None) -> dict[str, Any]:
    """The `dictConfig` document: one handler, every server library's logger on it."""
    level = level.upper()
    handler: dict[str, Any] = {
        "class": "logging.StreamHandler",
        "formatter": fmt,
        "filters": ["context"],
        "stream": stream if stream is not None else "ext://sys.stderr",
    }
    loggers: dict[str, Any] = {
        name: {"level": level, "handlers": ["console"], "propagate": False} for name in LOGGERS
    }
    for child in ("uvicorn.error", "uvicorn.access", "uvicorn.asgi", "tornado.access"):
        loggers[child] = {"level": level, "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": Context}},
        "formatters": {"text": {"()": TextFormatter}, "json": {"()": JsonFormatter}},
        "handlers": {"console": handler},
        "loggers": loggers,
        "root": {"level": "WARNING", "handlers": ["console"]},
    }


def configure_logging(level: str = "info", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Install the one logging configuration (`hexlit run` calls it once, at start)."""
    global _configured
    logging.config.dictConfig(logging_config(level, fmt, stream))
    _configured = True
    if "streamlit.logger" in sys.modules:
        adopt_streamlit_loggers()


def adopt_streamlit_loggers() -> None:
    """Stop Streamlit printing through handlers of its own where it should not.

    Streamlit gives each logger it hands out, its own and uvicorn's and websockets', a
    console handler and stops it propagating. Under a uvicorn that someone else
    configured (hexlit embedded in an ASGI app), every access line then printed twice,
    in two formats. So:

    - the server's loggers (uvicorn, websockets) never keep Streamlit's handler, and
      propagate again unless they have handlers of their own;
    - Streamlit's own loggers keep Streamlit's handler, unless hexlit configured logging
      (`hexlit run`), in which case they print through that configuration.

    Idempotent; applies to the loggers Streamlit made already and to every later one.
    """
    from streamlit import logger as streamlit_logger

    if getattr(streamlit_logger.setup_formatter, "hexlit_adopted", False):
        for logger in list(streamlit_logger._loggers.values()):
            streamlit_logger.setup_formatter(logger)  # again: hexlit may configure since
        return
    streamlit_setup = streamlit_logger.setup_formatter

    def give_way(logger: logging.Logger) -> None:
        ours = logger.name == "streamlit" or logger.name.startswith("streamlit.")
        if ours and not _configured:
            streamlit_setup(logger)
            return
        handler = getattr(logger, "streamlit_console_handler", None)
        if handler is not None:
            logger.removeHandler(handler)
            del logger.streamlit_console_handler  # type: ignore[attr-defined]
        logger.propagate = ours or not logger.handlers

    give_way.hexlit_adopted = True  # type: ignore[attr-defined]
    streamlit_logger.setup_formatter = give_way
    for logger in list(streamlit_logger._loggers.values()):
        give_way(logger)
