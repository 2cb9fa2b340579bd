"""The short-lived provider token of `st.login(provider)`: `GET /auth/login?provider=<JWT>`.

Streamlit 1.67 (`auth_util.encode_provider_token`) mints it as an HS256 JWT keyed with the
cookie secret (`[auth].cookie_secret`, else `server.cookieSecret`); the format is the
`TokenCodec` port's. The rules are hexlit's and live here: the claims are
`{"provider": <name>, "exp": <now + 120>}`; a token longer than `MAX_TOKEN_LENGTH` or not
ASCII is not even decoded; a decoded token names a non-empty string `provider` and a
finite number `exp` (not a boolean, NaN or ±Infinity: Streamlit refuses NaN and raises
OverflowError on Infinity) later than `now`. Anything else decodes to None, never an
exception. The clock stays with the caller: `now` is an argument.
"""

from __future__ import annotations

import math
from typing import Final

from hexlit.ports.tokens import TokenCodec

LIFETIME: Final = 120
"""Seconds a token is valid (Streamlit: two minutes)."""

MAX_TOKEN_LENGTH: Final = 8192


def encode_provider_token(
    tokens: TokenCodec, provider: str, now: int, lifetime: int = LIFETIME
) -> str:
    """The token Streamlit's `st.login(provider)` puts into the login URL at `now`.

    Raises ValueError when the codec has no key (an empty secret).
    """
    return tokens.encode({"provider": provider, "exp": now + lifetime})


def decode_provider_token(tokens: TokenCodec, token: str | None, now: int) -> str | None:
    """The provider name `token` carries, or None if it is invalid or expired at `now`."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    claims = tokens.decode(token)
    if claims is None:
        return None
    provider = claims.get("provider")
    expires = claims.get("exp")
    if not isinstance(provider, str) or not provider:
        return None
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        return None
    if isinstance(expires, float) and not math.isfinite(expires):
        return None
    return provider if expires > now else None
