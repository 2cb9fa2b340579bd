"""Two hexlit replicas behind a real nginx, sharing a real Redis: the issue-7 deployment.

Everything runs on loopback and as real processes: `redis-server` (tests.support.redis),
an OIDC provider (tests.support.oidc), two `python -m hexlit.composition run
builtin:counter ... --hexlit.store redis` processes of the same stack sharing one
cookie secret (`STREAMLIT_SERVER_COOKIE_SECRET`; as in Streamlit, a secret is never a
flag) (the module runs once per stack), and nginx (tests.support.nginx):
round-robin for plain HTTP, the WebSocket hashed on the client address. Tests talk to
each replica directly (to pin "rendered on A, served by B") and through nginx.

Nothing here is skipped: a missing prerequisite (nginx, redis-server, the Redis adapters,
the `redis` store setting) fails the module loudly. Every wait is bounded.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from tests.support.files import BOUNDARY, multipart, sha256
from tests.support.net import free_port
from tests.support.nginx import NginxProxy, nginx_proxy
from tests.support.oidc import MockProvider, oidc_provider
from tests.support.processes import stop_process
from tests.support.redis import RedisServer, redis_server, stored_snapshot_generation
from tests.support.stacks import WEB_STACKS
from tests.support.tokens import encode_provider_token

TIMEOUT = 10.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
RECOVERY_TIMEOUT = 10.0
OUTAGE_ANSWER_WITHIN = 5.0
COOKIE_SECRET = "replica-test-shared-cookie-secret"
# A short resume window makes the session core refresh the shared directory every 5 s
# (a quarter of it), so sessions held through a Redis restart are announced again quickly.
RECONNECT_TTL = "20"
MEDIA_SIZE = 5000
MEDIA_BYTES = bytes(index % 251 for index in range(MEDIA_SIZE))


# -- processes ------------------------------------------------------------------------


@dataclass
class Replica:
    """One `hexlit run` process on a loopback port."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def logs(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- replica {self.name} (exit {self.process.poll()})\n{text[-6000:]}"


@contextmanager
def hexlit_replica(name: str, stack: str, redis_url: str, folder: Path) -> Iterator[Replica]:
    """Start `hexlit run builtin:counter` with the Redis store; stop it by PID."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # No STREAMLIT_/HEXLIT_ variables but the secret, and a private HOME: the flags do the rest.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
    env["HOME"] = str(folder)
    env["STREAMLIT_SERVER_COOKIE_SECRET"] = COOKIE_SECRET
    command = [
        sys.executable, "-m", "hexlit.composition", "run", "builtin:counter",
        "--web", stack,
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.disconnectedSessionTTL", RECONNECT_TTL,
        "--hexlit.store", "redis",
        "--hexlit.redis_url", redis_url,
    ]  # fmt: skip
    log = folder / "hexlit.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    replica = Replica(name, port, process, log)
    try:
        _wait_until_healthy(replica)
        yield replica
    finally:
        stop_process(process, STOP_TIMEOUT)


def _wait_until_healthy(replica: Replica) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise AssertionError(f"hexlit replica {replica.name} exited at start\n{replica.logs()}")
        try:
            health = httpx.get(f"{replica.url}/_stcore/health", timeout=1.0)
            if health.status_code == 200:
                return
            last = f"{health.status_code} {health.text}"
        except httpx.TransportError as error:
            last = repr(error)
        time.sleep(0.1)
    raise AssertionError(
        f"hexlit replica {replica.name} not healthy in {START_TIMEOUT}s ({last})\n{replica.logs()}"
    )


@dataclass
class Cluster:
    stack: str
    redis: RedisServer
    provider: MockProvider
    a: Replica
    b: Replica
    proxy: NginxProxy

    def logs(self) -> str:
        return "\n".join([self.a.logs(), self.b.logs(), self.proxy.logs()])


@pytest.fixture(scope="module", params=WEB_STACKS)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    stack = str(request.param)
    folder = tmp_path_factory.mktemp(f"replicas-{stack}")
    proxy_port = free_port()  # the public URL, which the login's redirect_uri names
    with ExitStack() as running:
        redis = running.enter_context(redis_server())
        provider = running.enter_context(oidc_provider())
        secrets = login_secrets(provider, f"http://127.0.0.1:{proxy_port}/oauth2callback")
        replicas = []
        for name in ("a", "b"):
            (folder / name / ".streamlit").mkdir(parents=True)
            (folder / name / ".streamlit" / "secrets.toml").write_text(secrets)
            replicas.append(
                running.enter_context(hexlit_replica(name.upper(), stack, redis.url, folder / name))
            )
        a, b = replicas
        proxy = running.enter_context(nginx_proxy([a.port, b.port], port=proxy_port))
        yield Cluster(stack, redis, provider, a, b, proxy)


def login_secrets(provider: MockProvider, redirect_uri: str) -> str:
    """`[auth]` with no `cookie_secret`: the shared `server.cookieSecret` signs."""
    return (
        "[auth]\n"
        f'redirect_uri = "{redirect_uri}"\n'
        'client_id = "hexlit-replicas"\n'
        'client_secret = "hexlit-replicas-secret"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
    )


# -- a browser: one XSRF cookie, WebSockets to any base URL ---------------------------


def xsrf_cookie(base_url: str) -> str:
    """The `_streamlit_xsrf` cookie a browser gets from `/_stcore/health`."""
    health = httpx.get(f"{base_url}/_stcore/health", timeout=TIMEOUT)
    assert health.status_code == 200, health.text
    cookie = health.cookies.get("_streamlit_xsrf")
    assert cookie, "the health probe handed out no XSRF cookie"
    return cookie


@dataclass
class Session:
    """An open WebSocket to the built-in `counter` app on one replica (or through nginx)."""

    ws: ClientConnection
    session_id: str
    hello: str
    xsrf: str

    @property
    def upstream(self) -> str:
        """The replica nginx chose for this WebSocket (its `X-Upstream` header)."""
        assert self.ws.response is not None
        return str(self.ws.response.headers["x-upstream"])

    def recv(self) -> str:
        frame = self.ws.recv(timeout=TIMEOUT)
        assert isinstance(frame, bytes)
        return frame.decode()

    def command(self, text: str, replies: int = 1) -> list[str]:
        self.ws.send(text.encode())
        return [self.recv() for _ in range(replies)]

    def media(self, size: int = MEDIA_SIZE) -> str:
        """Render media in this session; its URL path (`/media/ID.mp4`)."""
        (line,) = self.command(f"media media {size} video/mp4")
        kind, path = line.split(" ", 1)
        assert kind == "media", line
        return path

    def upload_path(self) -> tuple[str, str]:
        """A fresh file id of this session and its upload path."""
        (line,) = self.command("upload-urls 1")
        word, file_id, _ = line.split()
        assert word == "upload-url", line
        return file_id, f"/_stcore/upload_file/{self.session_id}/{file_id}"

    def files(self, *file_ids: str) -> list[str]:
        """`file NAME SIZE SHA256` for each file of the session the app can see."""
        self.ws.send(f"files {','.join(file_ids)}".encode())
        self.ws.send(b"marker-end")
        lines = []
        while (line := self.recv()) != "marker-end":
            lines.append(line)
        return lines


@contextmanager
def open_session(
    ws_base: str,
    xsrf: str,
    resume: str | None = None,
    cookies: dict[str, str] | None = None,
    origin: str | None = None,
) -> Iterator[Session]:
    protocols = ["streamlit", xsrf] + ([resume] if resume else [])
    jar = {**(cookies or {}), "_streamlit_xsrf": xsrf}
    with connect(
        f"{ws_base}/_stcore/stream",
        subprotocols=protocols,  # type: ignore[arg-type]
        additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
        origin=origin,  # type: ignore[arg-type]
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    ) as ws:
        first = ws.recv(timeout=TIMEOUT)
        assert isinstance(first, bytes)
        hello = first.decode()
        assert hello.startswith("hello "), hello
        yield Session(ws, hello.split()[1], hello, xsrf)


def handshake_status(port: int, host: str, origin: str) -> int:
    """The status of a WebSocket handshake sent by hand with this Host and Origin."""
    request = (
        "GET /_stcore/stream HTTP/1.1\r\n"
        f"Host: {host}\r\nOrigin: {origin}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(request.encode())
        return int(sock.makefile("rb").readline().split()[1])


def put_upload(url: str, xsrf: str, body: bytes) -> httpx.Response:
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "X-Xsrftoken": xsrf,
        "Cookie": f"_streamlit_xsrf={xsrf}",
    }
    return httpx.put(url, content=body, headers=headers, timeout=TIMEOUT)


def delete_upload(url: str, xsrf: str) -> httpx.Response:
    headers = {"X-Xsrftoken": xsrf, "Cookie": f"_streamlit_xsrf={xsrf}"}
    return httpx.delete(url, headers=headers, timeout=TIMEOUT)


def eventually(check: Callable[[], str | None], within: float, what: str) -> None:
    """Run `check` until it returns None (success) or `within` seconds pass."""
    deadline = time.monotonic() + within
    reason: str | None = "never ran"
    while time.monotonic() < deadline:
        try:
            reason = check()
        except (httpx.TransportError, WebSocketException, TimeoutError, AssertionError) as error:
            reason = repr(error)
        if reason is None:
            return
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {within}s; last: {reason}")


# -- media ----------------------------------------------------------------------------


def test_media_rendered_through_a_is_served_by_b(cluster: Cluster) -> None:
    xsrf = xsrf_cookie(cluster.a.url)
    with open_session(cluster.a.ws_url, xsrf) as session:
        path = session.media()
        on_b = httpx.get(cluster.b.url + path, timeout=TIMEOUT)
        assert on_b.status_code == 200, cluster.logs()
        assert on_b.content == MEDIA_BYTES
        assert on_b.headers["content-type"] == "video/mp4"

        ranged = httpx.get(
            cluster.b.url + path, headers={"Range": "bytes=100-199"}, timeout=TIMEOUT
        )
        assert ranged.status_code == 206
        assert ranged.content == MEDIA_BYTES[100:200]

        upstreams = set()
        for _ in range(6):
            proxied = httpx.get(cluster.proxy.url + path, timeout=TIMEOUT)
            assert proxied.status_code == 200, cluster.logs()
            assert proxied.content == MEDIA_BYTES
            upstreams.add(proxied.headers["x-upstream"])
        assert upstreams == {f"127.0.0.1:{cluster.a.port}", f"127.0.0.1:{cluster.b.port}"}


# -- uploads --------------------------------------------------------------------------


def test_an_upload_put_on_b_reaches_the_session_held_by_a(cluster: Cluster) -> None:
    xsrf = xsrf_cookie(cluster.a.url)  # a browser cookie: the same one works on every replica
    data = os.urandom(200_000)
    with open_session(cluster.a.ws_url, xsrf) as session:
        file_id, path = session.upload_path()
        response = put_upload(cluster.b.url + path, xsrf, multipart(("data.bin", data, "x/y")))
        assert response.status_code == 204, f"{response.text}\n{cluster.logs()}"
        assert session.files(file_id) == [f"file data.bin {len(data)} {sha256(data)}"]

        # ...and a DELETE on B removes it from the session on A.
        assert delete_upload(cluster.b.url + path, xsrf).status_code == 204
        assert session.files(file_id) == []


def test_uploads_through_nginx_reach_the_session_whichever_replica_takes_them(
    cluster: Cluster,
) -> None:
    xsrf = xsrf_cookie(cluster.proxy.url)
    with open_session(cluster.a.ws_url, xsrf) as session:
        upstreams = set()
        for index in range(4):
            data = f"upload {index} ".encode() * 1000
            file_id, path = session.upload_path()
            response = put_upload(
                cluster.proxy.url + path, xsrf, multipart(("u.txt", data, "text/plain"))
            )
            assert response.status_code == 204, f"{response.text}\n{cluster.logs()}"
            upstreams.add(response.headers["x-upstream"])
            assert session.files(file_id) == [f"file u.txt {len(data)} {sha256(data)}"]
        assert len(upstreams) == 2


def test_an_upload_for_a_session_nobody_holds_is_400_on_b(cluster: Cluster) -> None:
    xsrf = xsrf_cookie(cluster.b.url)
    path = f"/_stcore/upload_file/{uuid.uuid4()}/{uuid.uuid4()}"
    response = put_upload(cluster.b.url + path, xsrf, multipart(("a.txt", b"x", "text/plain")))
    assert response.status_code == 400, response.text


# -- the WebSocket through nginx ------------------------------------------------------


def test_the_websocket_through_nginx_resumes_the_same_session(cluster: Cluster) -> None:
    xsrf = xsrf_cookie(cluster.proxy.url)
    with open_session(cluster.proxy.ws_url, xsrf) as first:
        assert first.hello.endswith("resumed=0 count=0")
        assert first.command("inc") == ["count 1"]
        session_id = first.session_id
        upstream = first.upstream
    for _ in range(3):  # every reconnect returns to the replica that holds the session
        with open_session(cluster.proxy.ws_url, xsrf, resume=session_id) as again:
            assert again.hello == f"hello {session_id} resumed=1 count=1"
            assert again.upstream == upstream


@pytest.mark.parametrize(("origin_host", "status"), [("app.example", 101), ("evil.example", 403)])
def test_nginx_passes_the_host_so_the_origin_check_works_behind_it(
    cluster: Cluster, origin_host: str, status: int
) -> None:
    """A site on a public name: the Origin matches the Host only if nginx forwards Host
    (with its port) unchanged; a foreign Origin is still refused by the replica."""
    host = f"app.example:{cluster.proxy.port}"
    origin = f"http://{origin_host}:{cluster.proxy.port}"
    assert handshake_status(cluster.proxy.port, host, origin) == status, cluster.proxy.logs()


def test_without_affinity_a_reconnect_to_the_other_replica_restores_the_session(
    cluster: Cluster,
) -> None:
    """Round-robin sends the reconnect to the replica that does not hold the session; it
    restores the session from its snapshot in Redis (ADR 0011), state and all."""
    with nginx_proxy([cluster.a.port, cluster.b.port], sticky_websocket=False) as loose:
        xsrf = xsrf_cookie(loose.url)
        with open_session(loose.ws_url, xsrf) as first:
            first.command("inc")
            session_id = first.session_id
            upstream = first.upstream
            wait_for_the_snapshot_of(cluster.redis, session_id)
        with open_session(loose.ws_url, xsrf, resume=session_id) as again:
            assert again.upstream != upstream
            assert again.hello == f"hello {session_id} resumed=1 count=1", (
                f"{snapshot_counters(upstream)}\n{snapshot_counters(again.upstream)}\n"
                f"{cluster.logs()}"
            )


def snapshot_counters(upstream: str) -> str:
    """Every `hexlit_snapshot*` line of a replica's metrics, for a failure message."""
    metrics = httpx.get(f"http://{upstream}/_stcore/metrics", timeout=TIMEOUT).text
    lines = [line for line in metrics.splitlines() if line.startswith("hexlit_snapshot")]
    return f"{upstream}: " + "; ".join(lines)


def wait_for_the_snapshot_of(redis: RedisServer, session_id: str) -> None:
    """Until this session's snapshot is in Redis (bounded).

    Not a replica's saved-snapshots counter: an earlier test's session, held by the same
    replica, can write its pending snapshot while this test runs and move the counter
    before this session's own snapshot is stored. The reconnect then raced the save, and
    the other replica rightly answered a fresh session.
    """
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if stored_snapshot_generation(redis.url, session_id) is not None:
            return
        time.sleep(0.05)
    raise AssertionError(f"no snapshot of session {session_id} stored within {TIMEOUT}s")


# -- login ----------------------------------------------------------------------------


def test_a_login_started_on_a_completes_on_b_and_a_knows_the_user(cluster: Cluster) -> None:
    """No per-process login state: the state cookie A set is accepted by B's callback, and
    the identity cookie B set is read by A (the same `server.cookieSecret` on both)."""
    token = encode_provider_token("default", COOKIE_SECRET, int(time.time()))
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as browser:
        start = browser.get(f"{cluster.a.url}/auth/login?provider={token}")
        assert start.status_code == 302, f"{start.text}\n{cluster.logs()}"
        assert start.headers["location"].startswith(cluster.provider.issuer)
        callback = cluster.provider.authorize(
            start.headers["location"], sub="carol", email="carol@example.com"
        )
        assert callback.startswith(f"{cluster.proxy.url}/oauth2callback?")
        done = browser.get(cluster.b.url + callback.removeprefix(cluster.proxy.url))
        assert done.status_code == 302, f"{done.text}\n{cluster.logs()}"
        assert done.headers["location"] == "/"
        cookies = {name: value for name, value in browser.cookies.items()}
    assert "_streamlit_user" in cookies
    # The page was served from the public origin (nginx), so the browser's WebSocket
    # says so; the identity cookie is bound to that origin.
    xsrf = xsrf_cookie(cluster.a.url)
    with open_session(cluster.a.ws_url, xsrf, cookies=cookies, origin=cluster.proxy.url) as session:
        (line,) = session.command("whoami")
    user = json.loads(line.removeprefix("user "))
    assert user["is_logged_in"] is True
    assert (user["sub"], user["email"]) == ("carol", "carol@example.com")


# -- a Redis outage -------------------------------------------------------------------


def test_a_redis_outage_gives_503_then_recovers_without_restarting_hexlit(
    cluster: Cluster,
) -> None:
    a, b, redis = cluster.a, cluster.b, cluster.redis
    xsrf = xsrf_cookie(a.url)
    body = multipart(("o.txt", b"outage", "text/plain"))
    with open_session(a.ws_url, xsrf) as held:
        old_media = held.media()
        _, held_upload = held.upload_path()
        port = redis.port
        redis.stop()
        try:
            started = time.monotonic()
            media = httpx.get(b.url + old_media, timeout=TIMEOUT)
            took = time.monotonic() - started
            assert media.status_code == 503, f"{media.status_code} {media.text}\n{cluster.logs()}"
            assert took < OUTAGE_ANSWER_WITHIN, f"media answered after {took:.1f}s"

            started = time.monotonic()
            upload = put_upload(b.url + held_upload, xsrf, body)
            took = time.monotonic() - started
            assert upload.status_code == 503, (
                f"{upload.status_code} {upload.text}\n{cluster.logs()}"
            )
            assert took < OUTAGE_ANSWER_WITHIN, f"upload answered after {took:.1f}s"

            assert "shared store unreachable" in b.logs(), "the outage is not logged"

            # The WebSocket does not depend on Redis: the session on A keeps serving.
            assert held.command("inc") == ["count 1"]
        finally:
            redis.start()
        assert redis.port == port, "Redis must come back on the same port"

        # Neither replica was restarted: both recover on their own.
        assert (a.process.poll(), b.process.poll()) == (None, None)
        for render, serve in ((a, b), (b, a)):
            eventually(
                functools.partial(_media_crosses, render, serve, xsrf),
                RECOVERY_TIMEOUT,
                f"media rendered on {render.name} served by {serve.name} after the restart",
            )
            eventually(
                functools.partial(_upload_crosses, render, serve, xsrf),
                RECOVERY_TIMEOUT,
                f"upload on {serve.name} for a session on {render.name} after the restart",
            )

        # The session held through the outage is announced again (refreshed), so uploads
        # for it that land on B work again too.
        def held_session_accepts_uploads() -> str | None:
            file_id, path = held.upload_path()
            response = put_upload(b.url + path, xsrf, body)
            if response.status_code != 204:
                return f"{response.status_code} {response.text}"
            listed = held.files(file_id)
            return None if listed == [f"file o.txt 6 {sha256(b'outage')}"] else repr(listed)

        eventually(held_session_accepts_uploads, RECOVERY_TIMEOUT, "uploads for the held session")
        assert held.command("inc") == ["count 2"]
    assert (a.process.poll(), b.process.poll()) == (None, None)


def _media_crosses(render: Replica, serve: Replica, xsrf: str) -> str | None:
    with open_session(render.ws_url, xsrf) as session:
        (line,) = session.command(f"media media {MEDIA_SIZE} video/mp4")
        if not line.startswith("media /media/"):
            return line
        response = httpx.get(serve.url + line.split(" ", 1)[1], timeout=TIMEOUT)
        if response.status_code != 200:
            return f"{response.status_code} {response.text}"
        return None if response.content == MEDIA_BYTES else "wrong bytes"


def _upload_crosses(holder: Replica, lands: Replica, xsrf: str) -> str | None:
    data = os.urandom(50_000)
    with open_session(holder.ws_url, xsrf) as session:
        file_id, path = session.upload_path()
        response = put_upload(lands.url + path, xsrf, multipart(("r.bin", data, "x/y")))
        if response.status_code != 204:
            return f"{response.status_code} {response.text}"
        listed = session.files(file_id)
        return None if listed == [f"file r.bin {len(data)} {sha256(data)}"] else repr(listed)
