"""The identity provider every process gets: Authlib, loaded on the first login."""

from __future__ import annotations

from hexlit.ports.identity import AuthorizationRequest, Identity, IdentityProvider, ProviderConfig


class IdentityProviderOnFirstUse:
    """Implements `IdentityProvider`: loads the Authlib adapter on the first login.

    Authlib brings joserfc and cryptography, about 13 MB of RSS in every process, and
    most apps never log anyone in (docs/performance.md). It holds nothing open: each
    call opens its own HTTP client and closes it (authlib_oidc.py).
    """

    def __init__(self) -> None:
        self._loaded: IdentityProvider | None = None

    def _provider(self) -> IdentityProvider:
        if self._loaded is None:
            from hexlit.adapters.identity.authlib_oidc import AuthlibIdentityProvider

            self._loaded = AuthlibIdentityProvider()
        return self._loaded

    async def authorization_request(
        self, provider: ProviderConfig, redirect_uri: str, state: str, nonce: str
    ) -> AuthorizationRequest:
        return await self._provider().authorization_request(provider, redirect_uri, state, nonce)

    async def exchange(
        self,
        provider: ProviderConfig,
        redirect_uri: str,
        code: str,
        nonce: str,
        code_verifier: str | None,
    ) -> Identity:
        return await self._provider().exchange(provider, redirect_uri, code, nonce, code_verifier)

    async def end_session_url(self, provider: ProviderConfig) -> str | None:
        return await self._provider().end_session_url(provider)
