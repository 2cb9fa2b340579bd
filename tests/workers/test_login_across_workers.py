"""A login started on one worker finishes on the other, and the session on the first
worker sees the user: login state lives in signed cookies, and the workers share the
secret. A real OIDC provider (`oidc-provider-mock`), a real `hexlit.workers = 2`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.sync.client import connect

from tests.support.oidc import MockProvider, auth_secrets, oidc_provider
from tests.support.stacks import WEB_STACKS
from tests.support.tokens import encode_provider_token
from tests.workers.support import TIMEOUT, Workers, http_exchange

SECRET = "a cookie secret that is long enough for tests"


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with oidc_provider() as running:
        yield running


def cookies_set(headers: list[tuple[str, str]]) -> dict[str, str]:
    pairs = (
        value.split(";", 1)[0].partition("=") for name, value in headers if name == "set-cookie"
    )
    return {name: value for name, _, value in pairs if value}


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_a_login_begun_on_one_worker_ends_on_the_other(
    stack: str, provider: MockProvider, tmp_path: Path
) -> None:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        auth_secrets(provider, SECRET, "hexlit-tests")
    )
    with Workers(stack, tmp_path) as hexlit:
        first, second = hexlit.workers()
        token = encode_provider_token("default", SECRET, int(time.time()))
        with hexlit.connection_to(first) as sock:
            status, headers, _ = http_exchange(sock, "GET", f"/auth/login?provider={token}")
        assert status == 302
        jar = cookies_set(headers)
        callback = urlsplit(
            provider.authorize(dict(headers)["location"], sub="alice", email="alice@example.com")
        )
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        with hexlit.connection_to(second) as sock:
            status, headers, body = http_exchange(
                sock, "GET", f"{callback.path}?{callback.query}", Cookie=cookie
            )
        assert (status, dict(headers)["location"]) == (302, "/"), body[:300]
        jar.update(cookies_set(headers))
        assert "_streamlit_user" in jar

        with hexlit.connection_to(first) as sock:
            _, headers, _ = http_exchange(sock, "GET", "/_stcore/health")
        xsrf = cookies_set(headers)["_streamlit_xsrf"]
        jar["_streamlit_xsrf"] = xsrf
        with connect(
            f"ws://127.0.0.1:{hexlit.port}/_stcore/stream",
            sock=hexlit.connection_to(first),
            subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
            origin=f"http://127.0.0.1:{hexlit.port}",  # type: ignore[arg-type]
            additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
            open_timeout=TIMEOUT,
        ) as ws:
            ws.recv(timeout=TIMEOUT)
            ws.send(b"whoami")
            reply = ws.recv(timeout=TIMEOUT)
    assert isinstance(reply, bytes)
    user = json.loads(reply.decode().removeprefix("user "))
    assert (user["is_logged_in"], user["email"]) == (True, "alice@example.com")
