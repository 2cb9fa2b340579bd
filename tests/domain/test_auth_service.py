"""AuthService rules with a fake identity provider: no open redirects, stateless login,
cookies that cannot be forged, user info only with the XSRF token and the right origin."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from hexlit.adapters.formats.signed_cookies import ItsdangerousCookieSigner
from hexlit.adapters.formats.tokens import JoserfcTokenCodec
from hexlit.domain.auth_service import USER_COOKIE, AuthService, AuthSettings
from hexlit.domain.xsrf import XSRF_COOKIE, XsrfToken, encode_token
from hexlit.ports.errors import IdentityError
from hexlit.ports.identity import AuthorizationRequest, Identity, ProviderConfig
from hexlit.ports.runtime import ClientInfo
from tests.domain.fakes import FakeClock, SequentialIds
from tests.support.tokens import encode_provider_token

SECRET = "a test secret for the auth rules"
PROVIDER_URL = "https://idp.example/authorize"
REDIRECT = "https://app.example/base/oauth2callback"
PROVIDER = ProviderConfig("default", "client", "client-secret", "https://idp.example/meta")


class FakeProvider:
    """An `IdentityProvider` that signs in whoever presents the code "good-code"."""

    def __init__(self) -> None:
        self.codes_used: list[str] = []

    async def authorization_request(
        self, provider: ProviderConfig, redirect_uri: str, state: str, nonce: str
    ) -> AuthorizationRequest:
        return AuthorizationRequest(f"{PROVIDER_URL}?state={state}", state, nonce, None)

    async def exchange(
        self,
        provider: ProviderConfig,
        redirect_uri: str,
        code: str,
        nonce: str,
        verifier: str | None,
    ) -> Identity:
        if code != "good-code" or code in self.codes_used:
            raise IdentityError("invalid_grant")
        self.codes_used.append(code)
        return Identity({"sub": "alice", "email": "alice@example.com"}, "id-token", "access-token")

    async def end_session_url(self, provider: ProviderConfig) -> str | None:
        return "https://idp.example/logout"


def service(provider: FakeProvider | None = None) -> AuthService:
    settings_ = AuthSettings(
        cookie_secret=SECRET,
        redirect_uri=REDIRECT,
        providers={"default": PROVIDER},
        expose_tokens=("id",),
        base_path="/base",
    )
    return AuthService(
        settings_,
        provider or FakeProvider(),
        FakeClock(),
        SequentialIds(),
        ItsdangerousCookieSigner(SECRET),
        JoserfcTokenCodec(SECRET),
    )


def cookie_header(cookies: Mapping[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def set_cookies(answer: object) -> dict[str, str]:
    return {c.name: c.value for c in answer.cookies if c.value}  # type: ignore[attr-defined]


def full_login(auth: AuthService) -> dict[str, str]:
    now = int(FakeClock().now())
    token = encode_provider_token("default", SECRET, now)
    start = asyncio.run(auth.login(token, None))
    assert start.location is not None
    assert start.location.startswith(PROVIDER_URL)
    state = start.location.split("state=")[1]
    done = asyncio.run(
        auth.callback("good-code", state, None, None, cookie_header(set_cookies(start)))
    )
    assert done.location == "/base/"
    return set_cookies(done)


def xsrf_pair() -> tuple[str, str]:
    token = encode_token(XsrfToken(b"\x01" * 16, 1_700_000_000), b"\x02" * 4)
    return token, token


@settings(max_examples=200, deadline=None)
@given(
    provider_token=st.one_of(st.none(), st.text(max_size=60)),
    code=st.one_of(st.none(), st.text(max_size=20)),
    state=st.one_of(st.none(), st.text(max_size=20)),
    error=st.one_of(st.none(), st.text(max_size=20)),
    cookies=st.text(max_size=80),
)
def test_no_answer_ever_redirects_off_site(
    provider_token: str | None, code: str | None, state: str | None, error: str | None, cookies: str
) -> None:
    auth = service()
    answers = [
        asyncio.run(auth.login(provider_token, cookies)),
        asyncio.run(auth.callback(code, state, error, None, cookies)),
        asyncio.run(auth.logout(cookies)),
    ]
    for answer in answers:
        if answer.location is not None:
            assert answer.location == "/base/" or answer.location.startswith("https://idp.example/")
        else:
            assert answer.page is not None


def test_login_is_stateless_and_sets_the_identity_cookies() -> None:
    cookies = full_login(service())
    assert USER_COOKIE in cookies
    # a second service (another replica) with the same secret reads them
    client = ClientInfo(cookies=tuple({**cookies, XSRF_COOKIE: xsrf_pair()[1]}.items()))
    info = service().user_info(client, "https://app.example", xsrf_pair()[0])
    assert info["email"] == "alice@example.com"
    assert info["is_logged_in"] is True
    assert info["tokens"] == {"id": "id-token"}


def test_user_info_needs_the_token_and_the_origin_it_was_issued_for() -> None:
    cookies = full_login(service())
    jar = tuple({**cookies, XSRF_COOKIE: xsrf_pair()[1]}.items())
    auth = service()
    assert auth.user_info(ClientInfo(cookies=jar), "https://app.example", "wrong") == {}
    assert auth.user_info(ClientInfo(cookies=jar), None, xsrf_pair()[0]) == {}
    assert auth.user_info(ClientInfo(cookies=jar), "https://evil.example", xsrf_pair()[0]) == {}


@settings(max_examples=100, deadline=None)
@given(index=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
def test_a_tampered_identity_cookie_is_ignored(index: int, replacement: str) -> None:
    cookies = full_login(service())
    value = cookies[USER_COOKIE]
    position = index % len(value)
    tampered = value[:position] + replacement + value[position + 1 :]
    jar = tuple({**cookies, USER_COOKIE: tampered, XSRF_COOKIE: xsrf_pair()[1]}.items())
    info = service().user_info(ClientInfo(cookies=jar), "https://app.example", xsrf_pair()[0])
    if tampered != value:
        assert info == {}


def test_a_replayed_code_and_a_provider_error_are_pages_not_crashes() -> None:
    provider = FakeProvider()
    auth = service(provider)
    full_login(auth)
    token = encode_provider_token("default", SECRET, int(FakeClock().now()))
    start = asyncio.run(auth.login(token, None))
    state = (start.location or "").split("state=")[1]
    replay = asyncio.run(
        auth.callback("good-code", state, None, None, cookie_header(set_cookies(start)))
    )
    assert replay.page is not None
    assert "Login failed" in replay.page.html
    refused = asyncio.run(auth.callback(None, None, "access_denied", "<script>x</script>", None))
    assert refused.page is not None
    assert "<script>" not in refused.page.html


def test_logout_clears_both_cookies_and_uses_the_end_session_endpoint() -> None:
    cookies = full_login(service())
    answer = asyncio.run(service().logout(cookie_header(cookies)))
    cleared = {c.name for c in answer.cookies if c.max_age == 0}
    assert {"_streamlit_user", "_streamlit_user_tokens"} <= cleared
    assert answer.location is not None
    assert answer.location.startswith("https://idp.example/logout?")
    assert "id_token_hint=id-token" in answer.location
    assert json.dumps(REDIRECT)[1:-1].replace("/", "%2F").replace(":", "%3A") in answer.location
