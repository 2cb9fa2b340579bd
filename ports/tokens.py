"""Compact signed tokens: the `st.login(provider)` token in the login URL.

Streamlit 1.67 mints it as a JWT (JWS compact serialization, HS256, keyed with the cookie
secret). The format belongs to a library behind `TokenCodec`; which claims a token
carries and when it expires are the core's rules (`domain/provider_token.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class TokenCodec(Protocol):
    """Signs claims into a token and reads them back, under one secret."""

    def encode(self, claims: Mapping[str, Any]) -> str:
        """The signed token of `claims` (a JSON object).

        Raises ValueError when the codec has no key (an empty secret signs nothing).
        """
        ...

    def decode(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this codec's secret signed, or None for anything else
        (forged, another algorithm, unsigned, malformed). Checks no claim itself.

        Never raises: a token is input from the browser.
        """
        ...
