"""The `Auth` use case: `/auth/login`, `/oauth2callback`, `/auth/logout`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hexlit.ports.cookies import Cookie


@dataclass(frozen=True, slots=True)
class AuthPage:
    """A page to show instead of a redirect: a login that failed, with the reason."""

    html: str


@dataclass(frozen=True, slots=True)
class AuthAnswer:
    """Either a redirect to `location` or a `page`, with cookies to set or clear."""

    location: str | None = None
    page: AuthPage | None = None
    cookies: tuple[Cookie, ...] = ()


class Auth(Protocol):
    async def login(self, provider_token: str | None, cookie_header: str | None) -> AuthAnswer:
        """Start a login with the provider the signed token names."""
        ...

    async def callback(
        self,
        code: str | None,
        state: str | None,
        error: str | None,
        error_description: str | None,
        cookie_header: str | None,
    ) -> AuthAnswer:
        """Finish a login the provider sent back."""
        ...

    async def logout(self, cookie_header: str | None) -> AuthAnswer:
        """Clear the identity cookies, through the provider's end-session page if any."""
        ...
