"""`CookieSigner` over itsdangerous: Streamlit 1.67's signed cookie format.

Streamlit signs `_streamlit_user` and `_streamlit_user_tokens` with
`itsdangerous.URLSafeTimedSerializer(secret, salt=<cookie name>)`, storing a JSON string
that the serializer JSON-encodes again. Using the same serializer makes the format the
same by construction: `payload "." timestamp "." HMAC-SHA1 signature`, the payload
zlib-compressed when that saves at least 2 bytes.

Two things are added around the library:

- the clock is the caller's (`now`), so the core stays testable on a fixed clock;
- a signature must be the canonical base64 of the MAC. itsdangerous decodes it leniently:
  the 27th character carries 2 unused bits, so 4 spellings verify. Requiring the one
  spelling means changing any character of a signed value never leaves it valid.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Final

import itsdangerous

_MAX_TIMESTAMP: Final = 2**64 - 1
"""itsdangerous packs the timestamp as an unsigned 64-bit integer."""
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]*")


class _SignerAt(itsdangerous.TimestampSigner):
    """itsdangerous' timestamp signer on the caller's clock instead of `time.time()`."""

    def __init__(self, *args: Any, now: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return self._now


class ItsdangerousCookieSigner:
    """Signs and verifies cookie values under one secret, the cookie name being the salt."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def sign(self, name: str, value: str, now: int) -> str:
        if not 0 <= now <= _MAX_TIMESTAMP:
            raise ValueError("cookie timestamp out of range")
        return str(self._serializer(name, now).dumps(value))

    def unsign(self, name: str, signed: str, now: int, max_age: int) -> str | None:
        if not signed.isascii() or not _canonical_signature(signed):
            return None
        serializer = self._serializer(name, now)
        try:
            # The serializer's own `loads` asks its signer for the timestamp as a
            # `datetime`, which fails beyond the year 9999; the signer alone does not.
            signer = serializer.make_signer(name)
            assert isinstance(signer, _SignerAt)
            payload = signer.unsign(signed, max_age=max_age)
            value = serializer.load_payload(payload)
        except itsdangerous.BadData:
            return None
        except (ValueError, OverflowError, OSError):
            # The same `datetime`, made for the message of an expired signature.
            return None
        return value if isinstance(value, str) else None

    def _serializer(self, name: str, now: int) -> itsdangerous.URLSafeTimedSerializer:
        return itsdangerous.URLSafeTimedSerializer(
            self._secret, salt=name, signer=_SignerAt, signer_kwargs={"now": now}
        )


def _canonical_signature(signed: str) -> bool:
    """Whether the text after the last `.` is canonical unpadded URL-safe base64."""
    _, sep, signature = signed.rpartition(".")
    if not sep or _BASE64URL.fullmatch(signature) is None or len(signature) % 4 == 1:
        return False
    try:
        data = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except binascii.Error:
        return False
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") == signature
