"""Who the user is, as an OpenID Connect provider says: the driven port behind `st.login`.

The core decides *when* a user signs in or out (§4.5 of the spec: the login JWT, the state
kept for the callback, the cookies); an `IdentityProvider` does the talking to the
provider: it builds the authorization request, exchanges the code the provider sends back
for tokens, validates the ID token, and names the provider's logout endpoint.

Nothing here holds a token or a secret in its `repr`: these values end up in logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

DEFAULT_SCOPE = "openid email profile"


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """One `[auth]` / `[auth.<name>]` section of `secrets.toml`.

    `client_kwargs` follows Streamlit's (Authlib's) meaning: `scope` (default
    `DEFAULT_SCOPE`), `prompt` (optional), `code_challenge_method` and
    `token_endpoint_auth_method` configure the client; any other key is sent as an extra
    parameter of the authorization request (`login_hint`, `hd`, `audience`, ...).
    """

    name: str
    client_id: str
    client_secret: str = field(repr=False)
    server_metadata_url: str
    client_kwargs: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def scope(self) -> str:
        return self.client_kwargs.get("scope") or DEFAULT_SCOPE


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the browser, and what the callback needs to finish the sign-in.

    `state` and `nonce` are the caller's own values, echoed; `code_verifier` is the PKCE
    secret the provider generated (None when the provider does not advertise S256). The
    caller keeps all three, out of the user's reach, until the callback.
    """

    url: str
    state: str
    nonce: str = field(repr=False)
    code_verifier: str | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class Identity:
    """A validated sign-in: the ID token's claims (plus userinfo's), and the raw tokens."""

    claims: Mapping[str, object] = field(hash=False)
    id_token: str | None = field(repr=False)
    access_token: str | None = field(repr=False)


class IdentityProvider(Protocol):
    """An OpenID Connect provider, found through its discovery document."""

    async def authorization_request(
        self, provider: ProviderConfig, redirect_uri: str, state: str, nonce: str
    ) -> AuthorizationRequest:
        """The authorization-code request for `provider`, carrying our `state` and `nonce`.

        Uses PKCE (S256, with a fresh `code_verifier`) when the provider's metadata
        advertises it.

        Raises `IdentityError` when the provider's metadata cannot be fetched or is not
        usable (unreachable, timeout, not JSON, required endpoints missing).
        """
        ...

    async def exchange(
        self,
        provider: ProviderConfig,
        redirect_uri: str,
        code: str,
        nonce: str,
        code_verifier: str | None,
    ) -> Identity:
        """Trade the callback's `code` for tokens and validate the ID token.

        The ID token must be signed by a key of the provider's JWKS, and carry the
        provider's `iss`, our client id in `aud` (and `azp` if present), an `exp` in the
        future and our `nonce`. When its claims have no `email`, the userinfo endpoint's
        claims are merged in (their `sub` must match).

        Raises `IdentityError` when the provider cannot be reached or answers garbage,
        when it refuses the code (unknown, expired, already used), or when the ID token is
        missing or fails any check.
        """
        ...

    async def end_session_url(self, provider: ProviderConfig) -> str | None:
        """The provider's `end_session_endpoint` (RP-initiated logout), or None.

        Raises `IdentityError` when the provider's metadata cannot be fetched.
        """
        ...
