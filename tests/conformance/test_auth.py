"""OIDC login, callback, identity cookies and logout against a real provider process.

The provider is `oidc-provider-mock`, started on loopback for this module; hexlit runs
the built-in `counter` app, whose `whoami` command shows the session's user info (what
`st.user` would see). Every case runs on both stacks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.net import free_port
from tests.support.oidc import MockProvider, auth_secrets, oidc_provider
from tests.support.server import ServerUnderTest
from tests.support.tokens import encode_provider_token

TIMEOUT = 15.0
SECRET = "a cookie secret that is long enough for tests"


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with oidc_provider() as running:
        yield running


@pytest.fixture(scope="module")
def auth_server(
    stack: str, provider: MockProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerUnderTest]:
    folder = tmp_path_factory.mktemp(f"auth-{stack}")
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "secrets.toml").write_text(
        auth_secrets(provider, SECRET, "hexlit-tests", extra='expose_tokens = ["id"]\n')
    )
    options = {"server.port": free_port()}
    with ServerUnderTest(stack, options, workdir=folder) as running:
        yield running


@contextmanager
def login(
    server: ServerUnderTest, provider: MockProvider, sub: str, email: str
) -> Iterator[httpx.Client]:
    """A browser-like client that went through the whole login; it holds the cookies."""
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        yield _logged_in(client, server, provider, sub, email)


def _logged_in(
    client: httpx.Client, server: ServerUnderTest, provider: MockProvider, sub: str, email: str
) -> httpx.Client:
    token = encode_provider_token("default", SECRET, int(time.time()))
    start = client.get(server.url(f"/auth/login?provider={token}"))
    assert start.status_code == 302
    assert start.headers["location"].startswith(provider.issuer)
    callback = provider.authorize(start.headers["location"], sub=sub, email=email)
    done = client.get(callback)
    assert done.status_code == 302, done.text
    assert done.headers["location"] == "/"
    return client


def whoami(
    server: ServerUnderTest, cookies: dict[str, str], origin: str | None = None
) -> dict[str, object]:
    health = httpx.get(server.url("/_stcore/health"), timeout=TIMEOUT)
    xsrf = health.cookies["_streamlit_xsrf"]
    jar = {**cookies, "_streamlit_xsrf": xsrf}
    header = "; ".join(f"{k}={v}" for k, v in jar.items())
    with connect(
        server.ws_url(),
        subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
        origin=origin or f"http://127.0.0.1:{server.port}",  # type: ignore[arg-type]
        additional_headers={"Cookie": header},
        open_timeout=TIMEOUT,
    ) as ws:
        ws.recv(timeout=TIMEOUT)
        ws.send(b"whoami")
        reply = ws.recv(timeout=TIMEOUT)
    assert isinstance(reply, bytes)
    return dict(json.loads(reply.decode().removeprefix("user ")))


def test_the_whole_login_reaches_st_user(
    auth_server: ServerUnderTest, provider: MockProvider
) -> None:
    with login(auth_server, provider, sub="alice", email="alice@example.com") as browser:
        cookies = dict(browser.cookies)
        assert "_streamlit_user" in cookies
        user = whoami(auth_server, cookies)
    assert user["is_logged_in"] is True
    assert user["sub"] == "alice"
    assert user["email"] == "alice@example.com"
    assert user["provider"] == "default"
    assert isinstance(user["tokens"], dict)
    assert set(user["tokens"]) == {"id"}
    assert "origin" not in user


def test_logout_clears_the_cookies(auth_server: ServerUnderTest, provider: MockProvider) -> None:
    with login(auth_server, provider, sub="bob", email="bob@example.com") as browser:
        out = browser.get(auth_server.url("/auth/logout"))
        assert out.status_code == 302
        cleared = [h for h in out.headers.get_list("set-cookie") if "Max-Age=0" in h]
        assert any(h.startswith("_streamlit_user=;") for h in cleared)
        assert any(h.startswith("_streamlit_user_tokens=;") for h in cleared)
        location = out.headers["location"]
        if location != "/":  # through the provider's end-session page
            query = parse_qs(urlsplit(location).query)
            assert query["post_logout_redirect_uri"] == [
                f"http://127.0.0.1:{auth_server.port}/oauth2callback"
            ]
        assert whoami(auth_server, {}) == {}


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_a_bad_provider_token_goes_back_to_the_app(
    auth_server: ServerUnderTest, token: str
) -> None:
    response = httpx.get(auth_server.url(f"/auth/login?provider={token}"), timeout=TIMEOUT)
    assert (response.status_code, response.headers["location"]) == (302, "/")


def test_an_expired_provider_token_goes_back_to_the_app(auth_server: ServerUnderTest) -> None:
    token = encode_provider_token("default", SECRET, int(time.time()) - 3600)
    response = httpx.get(auth_server.url(f"/auth/login?provider={token}"), timeout=TIMEOUT)
    assert (response.status_code, response.headers["location"]) == (302, "/")


def test_a_callback_with_a_wrong_or_missing_state_logs_nobody_in(
    auth_server: ServerUnderTest, provider: MockProvider
) -> None:
    client = httpx.Client(timeout=TIMEOUT)
    token = encode_provider_token("default", SECRET, int(time.time()))
    start = client.get(auth_server.url(f"/auth/login?provider={token}"))
    callback = provider.authorize(start.headers["location"], sub="mallory")
    forged = callback.replace("state=", "state=x")
    wrong = client.get(forged)
    assert (wrong.status_code, wrong.headers["location"]) == (302, "/")
    assert "_streamlit_user=" not in " ".join(wrong.headers.get_list("set-cookie")).replace(
        "_streamlit_user=;", ""
    )
    stateless = httpx.get(callback, timeout=TIMEOUT)  # another browser: no state cookie
    assert (stateless.status_code, stateless.headers["location"]) == (302, "/")
    client.close()


def test_a_replayed_code_is_refused_with_a_page(
    auth_server: ServerUnderTest, provider: MockProvider
) -> None:
    client = httpx.Client(timeout=TIMEOUT)
    token = encode_provider_token("default", SECRET, int(time.time()))
    start = client.get(auth_server.url(f"/auth/login?provider={token}"))
    state_cookie = client.cookies.get("_hexlit_oidc_state")
    callback = provider.authorize(start.headers["location"], sub="eve")
    assert client.get(callback).status_code == 302
    replay = httpx.get(
        callback, cookies={"_hexlit_oidc_state": state_cookie or ""}, timeout=TIMEOUT
    )
    assert replay.status_code == 400
    assert "Login failed" in replay.text
    client.close()


def test_an_error_from_the_provider_is_a_clear_page(auth_server: ServerUnderTest) -> None:
    response = httpx.get(
        auth_server.url(
            "/oauth2callback?error=access_denied&error_description=User+said+no%0D%0Ainjected"
        ),
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert "User said no" in response.text
    assert "<script" not in response.text


def test_forged_or_foreign_identity_cookies_are_ignored(
    auth_server: ServerUnderTest, provider: MockProvider
) -> None:
    with login(auth_server, provider, sub="carol", email="carol@example.com") as browser:
        cookies = dict(browser.cookies)
    value = cookies["_streamlit_user"]
    tampered = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    assert whoami(auth_server, {**cookies, "_streamlit_user": tampered}) == {}
    assert whoami(auth_server, cookies, origin="http://localhost:1") == {}


def test_without_the_xsrf_token_cookies_are_not_read(
    auth_server: ServerUnderTest, provider: MockProvider
) -> None:
    with login(auth_server, provider, sub="dave", email="dave@example.com") as browser:
        cookies = dict(browser.cookies)
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    with connect(
        auth_server.ws_url(),
        subprotocols=["streamlit", "PLACEHOLDER_AUTH_TOKEN"],  # type: ignore[list-item]
        origin=f"http://127.0.0.1:{auth_server.port}",  # type: ignore[arg-type]
        additional_headers={"Cookie": header},
        open_timeout=TIMEOUT,
    ) as ws:
        ws.recv(timeout=TIMEOUT)
        ws.send(b"whoami")
        assert ws.recv(timeout=TIMEOUT) == b"user {}"


def test_trusted_user_headers(tmp_path: Path, stack: str) -> None:
    options = {"server.trustedUserHeaders": {"X-Forwarded-Email": "email"}}
    with ServerUnderTest(stack, options, workdir=tmp_path) as server:
        health = httpx.get(server.url("/_stcore/health"), timeout=TIMEOUT)
        xsrf = health.cookies["_streamlit_xsrf"]
        with connect(
            server.ws_url(),
            subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
            additional_headers={"X-Forwarded-Email": "proxy@example.com"},
            open_timeout=TIMEOUT,
        ) as ws:
            ws.recv(timeout=TIMEOUT)
            ws.send(b"whoami")
            assert ws.recv(timeout=TIMEOUT) == b'user {"email": "proxy@example.com"}'
