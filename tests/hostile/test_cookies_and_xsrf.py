"""Tampered `_streamlit_xsrf` cookies and forged identity cookies.

A malformed XSRF cookie gets a fresh one, never an error; an upload whose token does not
truly match its cookie is 403; an identity cookie that the server did not sign, for this
origin, within its age, leaves the session anonymous. A correctly signed cookie is read
(the control that shows the forged ones fail for the right reason).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from hexlit.adapters.formats.signed_cookies import ItsdangerousCookieSigner as CookieSigner
from hexlit.domain.xsrf import decode_token
from tests.hostile.wire import exchange, get, still_serves
from tests.support.files import BOUNDARY, live_session, multipart
from tests.support.server import ServerUnderTest

TIMEOUT = 10.0
SECRET = "the cookie secret of the hostile suite"
USER = "_streamlit_user"
DAY = 24 * 3600
ZEROS = "0" * 32

MALFORMED_XSRF_COOKIES = [
    "2|||",
    "2|zzzzzzzz|" + ZEROS + "|1",
    "2|00000000|" + ZEROS + "|-1",
    "2|00000000|" + ZEROS + "|" + "9" * 5000,
    "2|00000000|" + "0" * 31 + "|1",
    "2|00000000|" + "A" * 32 + "|1",
    "3|00000000|" + ZEROS + "|1",
    "%7C%7C%7C",
    '"unterminated',
    "\u00e9t\u00e9",
    "x" * 4000,
]


def test_a_malformed_xsrf_cookie_gets_a_fresh_one(server: ServerUnderTest) -> None:
    wrong = []
    for value in MALFORMED_XSRF_COOKIES:
        raw = (
            "GET /_stcore/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Cookie: _streamlit_xsrf={value}\r\nConnection: close\r\n\r\n"
        )
        reply = exchange(server.port, raw.encode())
        assert not reply.hung, value[:20]
        issued = reply.first.headers.get("set-cookie", "")
        fresh = issued.removeprefix("_streamlit_xsrf=").split(";")[0]
        if reply.status != 200 or decode_token(fresh) is None:
            wrong.append((value[:20], reply.status, issued[:60]))
    assert wrong == []
    still_serves(server.port)


def test_an_upload_with_a_tampered_token_is_403(server: ServerUnderTest) -> None:
    with live_session(server) as session:
        real = session.xsrf
        flipped = real[:12] + ("1" if real[12] != "1" else "2") + real[13:]
        other = "2|00000000|" + "ab" * 16 + "|1"
        pairs = {
            "one digit of the cookie changed": (real, flipped),
            "one digit of the header changed": (flipped, real),
            "another valid token in the header": (other, real),
            "version 1 of another token": ("ab" * 16, real),
            "the same garbage twice": ("garbage", "garbage"),
            "the same undecodable v2 twice": ("2|zz|zz|1",) * 2,
            "the cookie name in other case": (real, None),
        }
        wrong = []
        for shape, (header, cookie) in pairs.items():
            jar = f"_streamlit_xsrf={cookie}" if cookie else f"_Streamlit_Xsrf={real}"
            status = send(server, "PUT", session.upload_url(), header, jar, BODY)
            if status != 403:
                wrong.append((shape, status))
        assert wrong == []
        url = session.upload_url()
        assert send(server, "DELETE", url, other, f"_streamlit_xsrf={real}") == 403
        # and the genuine pair still works
        assert send(server, "PUT", url, real, f"_streamlit_xsrf={real}", BODY) == 204


BODY = multipart(("a.txt", b"x", "text/plain"))


def send(
    server: ServerUnderTest, method: str, url: str, token: str, cookie: str, body: bytes = b""
) -> int | None:
    """An upload request with this XSRF header and Cookie line, written by hand."""
    path = url.split(str(server.port), 1)[1]
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\nX-Xsrftoken: {token}\r\nCookie: {cookie}\r\n"
        "Connection: close\r\n\r\n"
    )
    reply = exchange(server.port, head.encode() + body)
    assert not reply.hung
    return reply.status


@pytest.fixture(scope="module")
def auth_server(stack: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerUnderTest]:
    """A server with `[auth]` configured; no provider is ever contacted by these tests."""
    folder = tmp_path_factory.mktemp(f"auth-{stack}")
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:1/oauth2callback"\n'
        f'cookie_secret = "{SECRET}"\n'
        'client_id = "hostile"\nclient_secret = "hostile-secret"\n'
        'server_metadata_url = "http://127.0.0.1:1/.well-known/openid-configuration"\n'
    )
    with ServerUnderTest(stack, workdir=Path(folder)) as running:
        yield running


def whoami(server: ServerUnderTest, cookies: dict[str, str]) -> dict[str, object]:
    """`st.user` of a session opened same-origin, with a valid XSRF token, and `cookies`."""
    health = exchange(server.port, get("/_stcore/health")).first
    xsrf = health.headers["set-cookie"].split(";")[0].removeprefix("_streamlit_xsrf=")
    jar = "; ".join(f"{k}={v}" for k, v in {**cookies, "_streamlit_xsrf": xsrf}.items())
    with connect(
        server.ws_url(),
        subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
        origin=f"http://127.0.0.1:{server.port}",  # type: ignore[arg-type]
        additional_headers={"Cookie": jar},
        open_timeout=TIMEOUT,
    ) as ws:
        ws.recv(timeout=TIMEOUT)
        ws.send(b"whoami")
        reply = ws.recv(timeout=TIMEOUT)
    assert isinstance(reply, bytes)
    return dict(json.loads(reply.decode().removeprefix("user ")))


def identity(server: ServerUnderTest) -> str:
    return json.dumps(
        {"email": "mallory@example.com", "origin": f"http://127.0.0.1:{server.port}",
         "is_logged_in": True}
    )  # fmt: skip


def test_a_genuine_identity_cookie_is_read(auth_server: ServerUnderTest) -> None:
    """The control: signed by the server's secret, for this origin, recently."""
    now = int(time.time())
    genuine = CookieSigner(SECRET).sign(USER, identity(auth_server), now)
    user = whoami(auth_server, {USER: genuine})
    assert user["is_logged_in"] is True
    assert user["email"] == "mallory@example.com"


def test_forged_identity_cookies_stay_anonymous(auth_server: ServerUnderTest) -> None:
    now = int(time.time())
    right, wrong_secret = CookieSigner(SECRET), CookieSigner("a guessed secret")
    claims = identity(auth_server)
    genuine = right.sign(USER, claims, now)
    signed_part, _, signature = genuine.rpartition(".")
    payload, _, timestamp = signed_part.rpartition(".")
    forged = {
        "unsigned JSON": {USER: claims.replace('"', "'")},
        "another secret": {USER: wrong_secret.sign(USER, claims, now)},
        "signed for another cookie name": {USER: right.sign("_streamlit_xsrf", claims, now)},
        "expired": {USER: right.sign(USER, claims, now - 32 * DAY)},
        "from the future": {USER: right.sign(USER, claims, now + DAY)},
        "payload swapped under the signature": {
            USER: right.sign(USER, claims.replace("mallory", "mallorz"), now).rpartition(".")[0]
            + f".{signature}"
        },
        "signature cut": {USER: f"{payload}.{timestamp}.{signature[:-2]}"},
        "no signature": {USER: f"{payload}.{timestamp}"},
        "a chunk missing": {
            USER: right.sign(USER, "chunks-2", now),
            f"{USER}_1": right.sign(f"{USER}_1", claims[:20], now),
        },
        "a chunk from another secret": {
            USER: right.sign(USER, "chunks-2", now),
            f"{USER}_1": right.sign(f"{USER}_1", claims[:20], now),
            f"{USER}_2": wrong_secret.sign(f"{USER}_2", claims[20:], now),
        },
        "a huge chunk count": {USER: right.sign(USER, "chunks-" + "9" * 30, now)},
        "many chunks announced, none sent": {USER: right.sign(USER, "chunks-100000", now)},
    }
    wrong = [shape for shape, cookies in forged.items() if whoami(auth_server, cookies) != {}]
    assert wrong == []
    still_serves(auth_server.port)
