"""`TokenCodec` over joserfc: the HS256 JWT Streamlit 1.67 mints for `st.login(provider)`.

Streamlit's `auth_util.encode_provider_token` calls `joserfc.jwt.encode({"alg": "HS256"},
claims, OctKey.import_key(secret))`; this codec makes the same call, so the tokens are
the same bytes. joserfc checks the MAC (canonical base64url only) and that the algorithm
is the one allowed. Stricter than joserfc in one respect: a header carrying `crit` is
refused, whatever it names, since nothing here understands an extension. An empty secret
signs and verifies nothing (joserfc refuses empty key material).

joserfc (and cryptography under it, about 13 MB of RSS with Authlib) is imported on the
first token, not when the container builds the codec: an app nobody logs in to never
pays for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from joserfc.jwk import OctKey

ALGORITHM: Final = "HS256"


class JoserfcTokenCodec:
    """HS256 JWTs keyed with the UTF-8 bytes of one secret."""

    __slots__ = ("_key", "_secret")

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._key: OctKey | None = None

    def _loaded_key(self) -> OctKey | None:
        """The secret as joserfc's key, made (and joserfc imported) on first use."""
        if self._key is None and self._secret:
            from joserfc.jwk import OctKey

            with warnings.catch_warnings():
                # joserfc warns about keys under 14 bytes; the secret is the operator's
                # choice (Streamlit takes any), and a warning at every start says nothing new.
                warnings.simplefilter("ignore")
                self._key = OctKey.import_key(self._secret)
        return self._key

    def encode(self, claims: Mapping[str, Any]) -> str:
        key = self._loaded_key()
        if key is None:
            raise ValueError("the token secret must not be empty")
        from joserfc import jwt

        return jwt.encode({"alg": ALGORITHM}, dict(claims), key, algorithms=[ALGORITHM])

    def decode(self, token: str) -> dict[str, Any] | None:
        key = self._loaded_key()
        if key is None:
            return None
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError, KeyError, RecursionError):
            return None  # malformed segments, JSON, header shapes: all just "not a token"
        header = decoded.header
        if header.get("alg") != ALGORITHM or "crit" in header:
            return None
        return dict(decoded.claims)
