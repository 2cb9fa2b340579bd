"""One Redis client per process, ids as key segments, and Redis failures as a port error.

Failures. Every Redis error (unreachable, timed out, loading, out of memory...) becomes
`StoreUnavailable("shared store unreachable")`, with its reason logged once at WARNING
(the error class and, for connection errors, redis-py's message: no data, no password).
The client reconnects by itself on the next call once Redis is back; nothing restarts.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Final

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hexlit.ports.errors import StoreUnavailable

UNREACHABLE: Final = "shared store unreachable"
SOCKET_TIMEOUT: Final = 5.0
CONNECT_TIMEOUT: Final = 2.0
HEALTH_CHECK_INTERVAL: Final = 5

log = logging.getLogger(__name__)

_PLAIN_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,200}")
_RESERVED: Final = frozenset({"tmp"})


def connect(url: str) -> Redis:
    """A client for `url` (`redis://host:port/db`) with bounded waits.

    A call fails within about `CONNECT_TIMEOUT` when Redis cannot be reached and within
    `SOCKET_TIMEOUT` when it stops answering. A broken connection is retried once at once
    (so the first call after a Redis restart succeeds); a timeout is never retried (the
    `retry_on_timeout=False` behaviour, spelled the way redis-py 6+ wants it). Idle
    pooled connections are checked with a PING after `HEALTH_CHECK_INTERVAL` seconds.
    """
    client: Redis = Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=CONNECT_TIMEOUT,
        health_check_interval=HEALTH_CHECK_INTERVAL,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    return client


def key_part(value: str) -> str:
    """An id as one key segment: never containing ':', never a reserved word.

    An id made of `[A-Za-z0-9._-]` is used as is; any other id, and the reserved word
    "tmp", as `~<hex>`.
    """
    if _PLAIN_ID.fullmatch(value) and value not in _RESERVED:
        return value
    return "~" + value.encode("utf-8", "surrogatepass").hex()


def milliseconds(seconds: float) -> int:
    """A positive expiry in seconds as Redis' PX argument (at least 1 ms)."""
    return max(1, round(seconds * 1000))


def _reason(error: BaseException) -> str:
    """What to log about a failure: never data (a ResponseError may echo arguments)."""
    name = type(error).__name__
    if isinstance(error, RedisConnectionError | RedisTimeoutError | OSError):
        return f"{name}: {str(error)[:200]}"
    if isinstance(error, ResponseError):
        code = str(error).split(" ", 1)[0]
        return f"{name}: {code[:40]}"
    return name


@contextlib.contextmanager
def shared_store(operation: str) -> Iterator[None]:
    """Turn any Redis failure inside the block into `StoreUnavailable`, logged once."""
    try:
        yield
    except (RedisError, OSError) as error:
        log.warning("%s during %s (%s)", UNREACHABLE, operation, _reason(error))
        raise StoreUnavailable(UNREACHABLE) from None
