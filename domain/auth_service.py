"""OIDC login, logout and the identity cookies: stateless, so any replica can finish a
login another one started (only the cookie secret is shared).

The flow, after Streamlit 1.67 (spec §4.5):

- `login`: `st.login` sends the browser to `/auth/login?provider=<JWT>`; the JWT (signed
  with the cookie secret, two minutes) names a configured provider, else back to the
  app. The OIDC state, nonce and PKCE verifier go into a signed, short-lived cookie of
  their own (never a shared session cookie another response could overwrite, Authlib
  #376), and the browser goes to the provider.
- `callback`: the state must match that cookie (a stale, replayed or foreign callback
  goes back to the app, #13101); the provider's own error is shown as a page; the code
  is exchanged and the ID token checked (nonce included) by the `IdentityProvider`; the
  claims become the signed `_streamlit_user` cookie (chunked when large), the tokens
  `_streamlit_user_tokens`.
- `logout`: both cookies and their chunks are cleared; the provider's end-session
  endpoint is used when it has one.
- `user_info`: at WebSocket connect, with a valid XSRF token and an Origin, the user
  cookie becomes `st.user`, provided it was issued for that origin; trusted headers
  (`server.trustedUserHeaders`) override it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hexlit.domain.cookie_chunks import chunk_cookies, chunk_names, read_chunked
from hexlit.domain.cookie_header import cookie_values
from hexlit.domain.provider_token import decode_provider_token
from hexlit.domain.xsrf import XSRF_COOKIE, tokens_match
from hexlit.ports.auth import AuthAnswer, AuthPage
from hexlit.ports.clock import Clock
from hexlit.ports.cookies import Cookie, CookieSigner
from hexlit.ports.errors import IdentityError
from hexlit.ports.identity import IdentityProvider, ProviderConfig
from hexlit.ports.ids import IdSource
from hexlit.ports.runtime import ClientInfo, UserInfo
from hexlit.ports.tokens import TokenCodec

log = logging.getLogger("hexlit.auth")

USER_COOKIE: Final = "_streamlit_user"
TOKENS_COOKIE: Final = "_streamlit_user_tokens"
STATE_COOKIE: Final = "_hexlit_oidc_state"
COOKIE_MAX_AGE: Final = 30 * 24 * 3600
COOKIE_READ_MAX_AGE: Final = COOKIE_MAX_AGE + 24 * 3600
STATE_MAX_AGE: Final = 600
EXPOSABLE_TOKENS: Final = ("id", "access")


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """The `[auth]` section of secrets.toml, checked, plus the server options auth needs.

    providers: by name; the top-level provider keys make the one called "default".
    redirect_uri: the `/oauth2callback` URL registered with the providers.
    """

    cookie_secret: str
    redirect_uri: str
    providers: Mapping[str, ProviderConfig] = field(default_factory=dict)
    expose_tokens: tuple[str, ...] = ()
    base_path: str = ""
    xsrf: bool = True
    trusted_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.redirect_uri)
        return f"{parts.scheme}://{parts.netloc}"


class AuthService:
    """Implements `Auth` (the routes) and reads user info for the session core."""

    def __init__(
        self,
        settings: AuthSettings,
        provider: IdentityProvider,
        clock: Clock,
        ids: IdSource,
        signer: CookieSigner,
        tokens: TokenCodec,
    ) -> None:
        """`signer` and `tokens` are keyed with `settings.cookie_secret`."""
        self._settings = settings
        self._provider = provider
        self._clock = clock
        self._ids = ids
        self._signer = signer
        self._tokens = tokens

    # -- routes ------------------------------------------------------------------------

    async def login(self, provider_token: str | None, cookie_header: str | None) -> AuthAnswer:
        now = self._now()
        name = decode_provider_token(self._tokens, provider_token, now)
        provider = self._settings.providers.get(name) if name else None
        if provider is None:
            return self._home()
        state, nonce = self._ids.random_bytes(24).hex(), self._ids.random_bytes(24).hex()
        try:
            request = await self._provider.authorization_request(
                provider, self._settings.redirect_uri, state, nonce
            )
        except IdentityError as error:
            return self._failure(f"The login provider cannot be reached: {error.reason}")
        remembered = {
            "provider": provider.name,
            "state": state,
            "nonce": nonce,
            "verifier": request.code_verifier,
        }
        signed = self._signer.sign(STATE_COOKIE, json.dumps(remembered), now)
        cookie = self._cookie(STATE_COOKIE, signed, max_age=STATE_MAX_AGE)
        return AuthAnswer(location=request.url, cookies=(cookie,))

    async def callback(
        self,
        code: str | None,
        state: str | None,
        error: str | None,
        error_description: str | None,
        cookie_header: str | None,
    ) -> AuthAnswer:
        clear_state = self._clear(STATE_COOKIE)
        if error:
            detail = (error_description or error).replace("\r", " ").replace("\n", " ")
            log.warning("login provider answered with an error: %s", detail[:200])
            return self._failure(f"The login provider refused the login: {detail}", clear_state)
        remembered = self._remembered(cookie_header)
        if remembered is None or not state or not code or remembered.get("state") != state:
            return self._home(clear_state)  # stale, replayed or foreign callback
        provider = self._settings.providers.get(str(remembered.get("provider")))
        if provider is None:
            return self._home(clear_state)
        try:
            identity = await self._provider.exchange(
                provider,
                self._settings.redirect_uri,
                code,
                str(remembered.get("nonce")),
                remembered.get("verifier"),
            )
        except IdentityError as failure:
            log.warning("login failed: %s", failure.reason)
            return self._failure(f"The login could not be completed: {failure.reason}", clear_state)
        user = {
            **{k: v for k, v in identity.claims.items() if k not in ("origin", "is_logged_in")},
            "origin": self._settings.origin,
            "is_logged_in": True,
            "provider": provider.name,
        }
        tokens = {
            key: value
            for key, value in (
                ("id_token", identity.id_token),
                ("access_token", identity.access_token),
            )
            if value
        }
        cookies = [*clear_state, *self._set_chunked(USER_COOKIE, json.dumps(user))]
        cookies += self._set_chunked(TOKENS_COOKIE, json.dumps(tokens))
        return AuthAnswer(location=self._home_url(), cookies=tuple(cookies))

    async def logout(self, cookie_header: str | None) -> AuthAnswer:
        now = self._now()
        present = _cookie_map(cookie_header)
        cleared: list[Cookie] = []
        for name in (USER_COOKIE, TOKENS_COOKIE):
            for cookie_name in [name, *chunk_names(name, present)]:
                cleared += self._clear(cookie_name)
        raw_user = read_chunked(self._signer, USER_COOKIE, present, now, COOKIE_READ_MAX_AGE)
        user = _json_object(raw_user)
        provider = self._settings.providers.get(str(user.get("provider"))) if user else None
        if provider is not None and self._settings.redirect_uri.endswith("/oauth2callback"):
            try:
                end_session = await self._provider.end_session_url(provider)
            except IdentityError:
                end_session = None
            if end_session:
                raw_tokens = read_chunked(
                    self._signer, TOKENS_COOKIE, present, now, COOKIE_READ_MAX_AGE
                )
                id_token = _json_object(raw_tokens).get("id_token")
                params = {
                    "client_id": provider.client_id,
                    "post_logout_redirect_uri": self._settings.redirect_uri,
                }
                if isinstance(id_token, str):
                    params["id_token_hint"] = id_token
                return AuthAnswer(
                    location=_with_params(end_session, params), cookies=tuple(cleared)
                )
        return AuthAnswer(location=self._home_url(), cookies=tuple(cleared))

    # -- the session core's side ---------------------------------------------------------

    def user_info(self, client: ClientInfo, origin: str | None, token: str | None) -> UserInfo:
        """`st.user` for a WebSocket that offered `token` (the XSRF slot) from `origin`."""
        info: dict[str, Any] = {}
        header = "; ".join(f"{name}={value}" for name, value in client.cookies)
        xsrf_ok = not self._settings.xsrf or tokens_match(token, cookie_values(header, XSRF_COOKIE))
        if origin and xsrf_ok:
            info.update(self._user_from_cookies(dict(client.cookies), origin))
        for header_name, key in self._settings.trusted_headers.items():
            info[key] = client.header(header_name)
        return info

    def _user_from_cookies(self, cookies: Mapping[str, str], origin: str) -> dict[str, Any]:
        now = self._now()
        user = _json_object(
            read_chunked(self._signer, USER_COOKIE, cookies, now, COOKIE_READ_MAX_AGE)
        )
        if not user:
            return {}
        if user.get("origin") != _origin_of(origin):
            log.warning("identity cookie issued for another origin; ignoring it")
            return {}
        info = {k: v for k, v in user.items() if k not in ("origin", "is_logged_in")}
        info["is_logged_in"] = bool(user.get("is_logged_in", False))
        if self._settings.expose_tokens:
            raw = read_chunked(self._signer, TOKENS_COOKIE, cookies, now, COOKIE_READ_MAX_AGE)
            tokens = _json_object(raw)
            info["tokens"] = {
                name: tokens[f"{name}_token"]
                for name in self._settings.expose_tokens
                if isinstance(tokens.get(f"{name}_token"), str)
            }
        return info

    # -- helpers -------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock.now())

    def _remembered(self, cookie_header: str | None) -> dict[str, Any] | None:
        values = cookie_values(cookie_header, STATE_COOKIE)
        for value in values:
            raw = self._signer.unsign(STATE_COOKIE, value, self._now(), STATE_MAX_AGE)
            if raw is not None:
                return _json_object(raw)
        return None

    def _path(self) -> str:
        return self._settings.base_path or "/"

    def _home_url(self) -> str:
        return f"{self._settings.base_path}/"

    def _home(self, cookies: list[Cookie] | tuple[Cookie, ...] = ()) -> AuthAnswer:
        return AuthAnswer(location=self._home_url(), cookies=tuple(cookies))

    def _failure(self, message: str, cookies: list[Cookie] | tuple[Cookie, ...] = ()) -> AuthAnswer:
        page = AuthPage(
            html=(
                "<!doctype html><meta charset=utf-8><title>Login failed</title>"
                f"<h1>Login failed</h1><p>{escape(message)}</p>"
                f'<p><a href="{escape(self._home_url())}">Back to the app</a></p>'
            ),
        )
        return AuthAnswer(page=page, cookies=tuple(cookies))

    def _cookie(self, name: str, value: str, max_age: int) -> Cookie:
        return Cookie(
            name, value, path=self._path(), same_site="Lax", http_only=True, max_age=max_age
        )

    def _clear(self, name: str) -> list[Cookie]:
        paths = {self._path(), "/"}
        return [
            Cookie(name, "", path=path, same_site="Lax", http_only=True, max_age=0)
            for path in sorted(paths)
        ]

    def _set_chunked(self, name: str, value: str) -> list[Cookie]:
        attributes = len(f"; Path={self._path()}; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax; HttpOnly")
        pieces = chunk_cookies(self._signer, name, value, self._now(), attributes)
        return [self._cookie(cookie_name, signed, COOKIE_MAX_AGE) for cookie_name, signed in pieces]


def _cookie_map(cookie_header: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in (cookie_header or "").split(";"):
        key, sep, value = pair.strip().partition("=")
        if sep:
            found.setdefault(key.strip(), value.strip())
    return found


def _json_object(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_params(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
