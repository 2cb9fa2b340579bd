"""The short-lived provider token of `st.login(provider)`: `GET /auth/login?provider=<JWT>`.

Streamlit 1.67 (`auth_util.encode_provider_token`) mints it with joserfc as a JWS
compact serialization, HMAC-SHA256 keyed with the UTF-8 bytes of the cookie secret
(`[auth].cookie_secret`, else `server.cookieSecret`):

    b64({"typ":"JWT","alg":"HS256"}) "." b64({"provider":<name>,"exp":<now + 120>}) "." b64(mac)

`b64` is URL-safe base64 without padding; the header is ASCII JSON and the claims UTF-8
JSON (`ensure_ascii=False`), both without spaces. Encoding here gives the same bytes.

Decoding accepts what joserfc and Streamlit's claim check accept, except where they
are lenient: the header must say `"alg":"HS256"` and carry no `crit` at all; the claims
must be a JSON object with a non-empty string `provider` and a finite number `exp` (not
a boolean, NaN or ±Infinity: Streamlit refuses NaN and raises OverflowError on
Infinity) later than `now`. Base64url must be canonical and unpadded (as in joserfc),
so no other spelling of the MAC verifies. An empty secret verifies nothing (joserfc
refuses empty key material). Anything else, including a token longer than
`MAX_TOKEN_LENGTH`, decodes to None, never an exception. The clock stays with the
caller: `now` is an argument.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
from typing import Any, Final

ALGORITHM: Final = "HS256"
LIFETIME: Final = 120
"""Seconds a token is valid (Streamlit: two minutes)."""

MAX_TOKEN_LENGTH: Final = 8192

_HEADER: Final = {"typ": "JWT", "alg": ALGORITHM}
"""joserfc's header for Streamlit's `{"alg": "HS256"}`, in joserfc's key order."""

_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]*")


def encode_provider_token(provider: str, secret: str, now: int, lifetime: int = LIFETIME) -> str:
    """The token Streamlit's `st.login(provider)` puts into the login URL at `now`.

    Raises ValueError for an empty secret (joserfc refuses empty key material).
    """
    if not secret:
        raise ValueError("the provider token secret must not be empty")
    header = json.dumps(_HEADER, separators=(",", ":")).encode("ascii")
    claims = {"provider": provider, "exp": now + lifetime}
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    signing_input = f"{_b64encode(header)}.{_b64encode(payload)}"
    return f"{signing_input}.{_mac(secret, signing_input)}"


def decode_provider_token(token: str | None, secret: str, now: int) -> str | None:
    """The provider name `token` carries, or None if it is invalid or expired at `now`."""
    if not secret or not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header_b64, claims_b64, mac = parts
    header = _json_object(header_b64)
    if header is None or header.get("alg") != ALGORITHM or "crit" in header:
        return None
    if not hmac.compare_digest(mac, _mac(secret, f"{header_b64}.{claims_b64}")):
        return None
    claims = _json_object(claims_b64)
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


def _mac(secret: str, signing_input: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256)
    return _b64encode(digest.digest())


def _json_object(segment: str) -> dict[str, Any] | None:
    """The JSON object a base64url segment holds, or None."""
    if _BASE64URL.fullmatch(segment) is None or len(segment) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if _b64encode(data) != segment:
        return None
    try:
        loaded = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
