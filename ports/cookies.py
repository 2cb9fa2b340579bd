"""Cookies: the one the core wants set (the rule decides it, the web adapters write it),
and the signer that keeps an identity cookie unforgeable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Cookie:
    """One `Set-Cookie`. `value` is written raw (no quoting, no percent-encoding)."""

    name: str
    value: str
    path: str = "/"
    same_site: str | None = "Lax"
    secure: bool = False
    http_only: bool = False
    max_age: int | None = None


class CookieSigner(Protocol):
    """Signs cookie values so a browser cannot forge them, in Streamlit 1.67's format
    (itsdangerous' `URLSafeTimedSerializer`, the cookie name as salt): cookies
    `streamlit run` wrote read here, and the other way round.

    Which cookies, their chunking and their ages are the core's rules
    (`domain/cookie_chunks.py`, `domain/auth_service.py`); the clock stays with the caller.
    """

    def sign(self, name: str, value: str, now: int) -> str:
        """The signed value of `value` for the cookie `name`, stamped `now` (Unix seconds).

        Raises ValueError when `now` is outside 0..2**64-1 or `value` is not encodable as
        UTF-8 (a lone surrogate).
        """
        ...

    def unsign(self, name: str, signed: str, now: int, max_age: int) -> str | None:
        """The string `signed` carries, or None when it is forged, signed for another
        name, malformed, or stamped more than `max_age` seconds before `now` or after it.

        Never raises: a cookie is input from the browser.
        """
        ...
