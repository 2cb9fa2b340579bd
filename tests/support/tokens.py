"""The `st.login(provider)` token a test puts into `/auth/login?provider=…`, minted as
Streamlit 1.67 mints it: hexlit's claims rule over the joserfc codec the server uses."""

from __future__ import annotations

from hexlit.adapters.formats.tokens import JoserfcTokenCodec
from hexlit.domain import provider_token


def encode_provider_token(
    provider: str, secret: str, now: int, lifetime: int = provider_token.LIFETIME
) -> str:
    """The provider token for `provider` under the cookie `secret`, issued at `now`."""
    codec = JoserfcTokenCodec(secret)
    return provider_token.encode_provider_token(codec, provider, now, lifetime)
