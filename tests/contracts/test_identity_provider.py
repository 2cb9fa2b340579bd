"""The `IdentityProvider` contract, against a real OpenID Connect provider process.

`oidc-provider-mock` runs on a loopback port for the whole module (`tests.support.oidc`).
Where a test needs a provider the mock cannot play (one that advertises PKCE, rotates its
keys, has no logout endpoint, answers garbage or nothing at all), a small loopback "front"
server answers some discovery fields itself and leaves the rest to the mock.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc.jwk import KeySet

from hexlit.adapters.identity.authlib_oidc import AuthlibIdentityProvider
from hexlit.ports.errors import IdentityError
from hexlit.ports.identity import IdentityProvider, ProviderConfig
from tests.support.oidc import MockProvider, oidc_provider

T = TypeVar("T")

REDIRECT_URI = "http://127.0.0.1:8501/oauth2callback"
CLIENT_ID = "hexlit-client"
CLIENT_SECRET = "s3cret-never-shown"
STATE = "state-1234"
NONCE = "nonce-5678"
RUN_TIMEOUT = 30.0

IMPLEMENTATIONS: dict[str, Callable[[float], IdentityProvider]] = {
    "authlib": lambda timeout: AuthlibIdentityProvider(timeout=timeout, trust_env=False),
}

Route = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


def run(coroutine: Awaitable[T], timeout: float = RUN_TIMEOUT) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(timeout):
            return await coroutine

    return asyncio.run(bounded())


def as_json(document: object, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(document).encode()


class Front:
    """A loopback HTTP server answering from `routes` (path → handler), counting hits."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _answer(self) -> None:
                path = urlsplit(self.path).path
                front.hits[path] += 1
                route = front.routes.get(path)
                status, headers, body = route(self) if route else (404, {}, b"not here")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    @property
    def metadata_url(self) -> str:
        return self.url("/.well-known/openid-configuration")

    def serve_metadata(self, document: dict[str, Any]) -> None:
        self.routes["/.well-known/openid-configuration"] = lambda _: as_json(document)

    def __enter__(self) -> Front:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture(scope="module")
def idp() -> Iterator[MockProvider]:
    with oidc_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def idp_metadata(idp: MockProvider) -> dict[str, Any]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        document: dict[str, Any] = client.get(idp.metadata_url).raise_for_status().json()
    return document


@pytest.fixture(scope="module")
def decoy_keys() -> dict[str, Any]:
    """Two public RSA keys (with key ids) that sign nothing the provider issues."""
    return dict(KeySet.generate_key_set("RSA", 2048, count=2).as_dict(private=False))


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def make_identity(request: pytest.FixtureRequest) -> Callable[[float], IdentityProvider]:
    return IMPLEMENTATIONS[request.param]


@pytest.fixture
def identity(make_identity: Callable[[float], IdentityProvider]) -> IdentityProvider:
    return make_identity(10.0)


@pytest.fixture
def front() -> Iterator[Front]:
    with Front() as server:
        yield server


def config_for(metadata_url: str, **client_kwargs: str) -> ProviderConfig:
    return ProviderConfig(
        name="default",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        server_metadata_url=metadata_url,
        client_kwargs=client_kwargs,
    )


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


async def sign_in(
    identity: IdentityProvider,
    idp: MockProvider,
    provider: ProviderConfig,
    sub: str,
    email: str | None = None,
    nonce: str = NONCE,
) -> tuple[str, str | None]:
    """Authorize as `sub` at the mock; the callback's `code`, and the PKCE verifier."""
    request = await identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE)
    location = await asyncio.to_thread(idp.authorize, request.url, sub, email)
    assert location.startswith(REDIRECT_URI + "?")
    callback = query(location)
    assert callback["state"] == STATE
    return callback["code"], request.code_verifier


# -- the authorization request ----------------------------------------------------------------


def test_authorization_request_targets_the_provider_with_our_state_and_nonce(
    identity: IdentityProvider, idp: MockProvider, idp_metadata: dict[str, Any]
) -> None:
    provider = config_for(idp.metadata_url, prompt="select_account", login_hint="a@b.c")
    request = run(identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE))

    assert request.url.startswith(idp_metadata["authorization_endpoint"] + "?")
    params = query(request.url)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["scope"] == "openid email profile"
    assert params["state"] == STATE == request.state
    assert params["nonce"] == NONCE == request.nonce
    assert params["prompt"] == "select_account"
    assert params["login_hint"] == "a@b.c"
    assert CLIENT_SECRET not in request.url
    # The mock does not advertise PKCE: no challenge, no verifier.
    assert "code_challenge_methods_supported" not in idp_metadata
    assert "code_challenge" not in params
    assert request.code_verifier is None


def test_authorization_request_uses_the_configured_scope(
    identity: IdentityProvider, idp: MockProvider
) -> None:
    provider = config_for(idp.metadata_url, scope="openid email")
    request = run(identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE))
    assert query(request.url)["scope"] == "openid email"


def test_pkce_s256_when_the_provider_advertises_it(
    identity: IdentityProvider, idp: MockProvider, idp_metadata: dict[str, Any], front: Front
) -> None:
    front.serve_metadata({**idp_metadata, "code_challenge_methods_supported": ["plain", "S256"]})
    provider = config_for(front.metadata_url)

    async def scenario() -> tuple[str, str | None, Any]:
        request = await identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE)
        code, verifier = await sign_in(identity, idp, provider, "pkce-user")
        signed_in = await identity.exchange(provider, REDIRECT_URI, code, NONCE, verifier)
        return request.url, request.code_verifier, signed_in

    url, verifier, signed_in = run(scenario())
    params = query(url)
    assert verifier is not None
    assert 43 <= len(verifier) <= 128
    assert params["code_challenge_method"] == "S256"
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert verifier not in url
    assert signed_in.claims["sub"] == "pkce-user"


# -- the code exchange ------------------------------------------------------------------------


def test_round_trip_returns_the_chosen_subject_and_email(
    identity: IdentityProvider, idp: MockProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = config_for(idp.metadata_url)

    async def scenario() -> Any:
        code, verifier = await sign_in(identity, idp, provider, "alice", "alice@example.com")
        return await identity.exchange(provider, REDIRECT_URI, code, NONCE, verifier)

    signed_in = run(scenario())
    assert signed_in.claims["sub"] == "alice"
    assert signed_in.claims["email"] == "alice@example.com"
    assert signed_in.claims["iss"] == idp.issuer
    assert signed_in.claims["nonce"] == NONCE
    assert signed_in.id_token
    assert signed_in.id_token.count(".") == 2
    assert signed_in.access_token
    for secret in (signed_in.id_token, signed_in.access_token, CLIENT_SECRET):
        assert secret not in repr(signed_in)
        assert secret not in caplog.text


def test_round_trip_with_the_mock_default_claims(
    identity: IdentityProvider, idp: MockProvider
) -> None:
    provider = config_for(idp.metadata_url)

    async def scenario() -> Any:
        code, verifier = await sign_in(identity, idp, provider, "bob")
        return await identity.exchange(provider, REDIRECT_URI, code, NONCE, verifier)

    assert run(scenario()).claims["sub"] == "bob"


def test_userinfo_is_merged_when_the_id_token_has_no_email(
    identity: IdentityProvider, idp: MockProvider, idp_metadata: dict[str, Any], front: Front
) -> None:
    def userinfo(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        headers = {"Authorization": handler.headers["Authorization"]}
        with httpx.Client(trust_env=False, timeout=10) as client:
            answer = client.get(idp_metadata["userinfo_endpoint"], headers=headers)
        return as_json({**answer.json(), "email": "carol@userinfo.example"}, answer.status_code)

    front.routes["/userinfo"] = userinfo
    front.serve_metadata({**idp_metadata, "userinfo_endpoint": front.url("/userinfo")})
    idp.set_claims("carol", {"name": "Carol", "team": "web"})
    provider = config_for(front.metadata_url)

    async def scenario(sub: str) -> Any:
        code, verifier = await sign_in(identity, idp, provider, sub)
        return await identity.exchange(provider, REDIRECT_URI, code, NONCE, verifier)

    carol = run(scenario("carol"))
    assert carol.claims["sub"] == "carol"
    assert carol.claims["name"] == "Carol"
    assert carol.claims["team"] == "web"
    assert carol.claims["email"] == "carol@userinfo.example"
    assert front.hits["/userinfo"] == 1

    # An ID token with an email needs no userinfo.
    idp.set_claims("dave", {"email": "dave@example.com"})
    assert run(scenario("dave")).claims["email"] == "dave@example.com"
    assert front.hits["/userinfo"] == 1


def test_wrong_nonce_is_refused(identity: IdentityProvider, idp: MockProvider) -> None:
    provider = config_for(idp.metadata_url)

    async def scenario() -> tuple[str, IdentityError]:
        code, verifier = await sign_in(identity, idp, provider, "mallory")
        with pytest.raises(IdentityError) as caught:
            await identity.exchange(provider, REDIRECT_URI, code, "another-nonce", verifier)
        return code, caught.value

    code, error = run(scenario())
    assert "nonce" in error.reason
    assert code not in error.reason
    assert CLIENT_SECRET not in error.reason


def test_a_code_works_once(identity: IdentityProvider, idp: MockProvider) -> None:
    provider = config_for(idp.metadata_url)

    async def scenario() -> tuple[str, IdentityError]:
        code, verifier = await sign_in(identity, idp, provider, "erin")
        first = await identity.exchange(provider, REDIRECT_URI, code, NONCE, verifier)
        assert first.claims["sub"] == "erin"
        with pytest.raises(IdentityError) as caught:
            await identity.exchange(provider, REDIRECT_URI, code, NONCE, verifier)
        return code, caught.value

    code, error = run(scenario())
    assert code not in error.reason


@pytest.mark.parametrize("code", ["garbage", "", "x" * 2000, "ünïcode\r\n"])
def test_a_made_up_code_is_refused(
    identity: IdentityProvider, idp: MockProvider, code: str
) -> None:
    provider = config_for(idp.metadata_url)
    with pytest.raises(IdentityError) as caught:
        run(identity.exchange(provider, REDIRECT_URI, code, NONCE, None))
    assert CLIENT_SECRET not in caught.value.reason
    if code:
        assert code not in caught.value.reason


def test_keys_are_refetched_once_when_the_provider_rotated_them(
    identity: IdentityProvider,
    idp: MockProvider,
    idp_metadata: dict[str, Any],
    front: Front,
    decoy_keys: dict[str, Any],
) -> None:
    with httpx.Client(trust_env=False, timeout=10) as client:
        real = client.get(idp_metadata["jwks_uri"]).raise_for_status().json()
    published = [{"keys": decoy_keys["keys"][:1]}]
    front.routes["/jwks"] = lambda _: as_json(published[0])
    front.serve_metadata({**idp_metadata, "jwks_uri": front.url("/jwks")})
    provider = config_for(front.metadata_url)

    async def scenario(sub: str) -> Any:
        code, verifier = await sign_in(identity, idp, provider, sub)
        return await identity.exchange(provider, REDIRECT_URI, code, NONCE, verifier)

    # Keys fetched during this very exchange are not fetched again.
    with pytest.raises(IdentityError, match="signature"):
        run(scenario("frank"))
    assert front.hits["/jwks"] == 1
    # The provider "rotates" to the key it signs with: the stale cache is refreshed once.
    published[0] = real
    assert run(scenario("grace")).claims["sub"] == "grace"
    assert front.hits["/jwks"] == 2
    assert run(scenario("heidi")).claims["sub"] == "heidi"
    assert front.hits["/jwks"] == 2


def test_a_token_signed_by_no_published_key_is_refused(
    identity: IdentityProvider,
    idp: MockProvider,
    idp_metadata: dict[str, Any],
    front: Front,
    decoy_keys: dict[str, Any],
) -> None:
    front.routes["/jwks"] = lambda _: as_json(decoy_keys)
    front.serve_metadata({**idp_metadata, "jwks_uri": front.url("/jwks")})
    provider = config_for(front.metadata_url)

    async def scenario(sub: str) -> None:
        code, verifier = await sign_in(identity, idp, provider, sub)
        await identity.exchange(provider, REDIRECT_URI, code, NONCE, verifier)

    for attempt, sub in enumerate(["ivan", "judy"], start=1):
        with pytest.raises(IdentityError, match="signature"):
            run(scenario(sub))
        assert front.hits["/jwks"] == attempt  # At most one fetch per exchange.


def test_the_issuer_must_be_the_discovered_one(
    identity: IdentityProvider, idp: MockProvider, idp_metadata: dict[str, Any], front: Front
) -> None:
    # The discovery document names another issuer than the one signing the tokens.
    front.serve_metadata({**idp_metadata, "issuer": "http://127.0.0.1:1"})
    provider = config_for(front.metadata_url)

    async def scenario() -> None:
        code, verifier = await sign_in(identity, idp, provider, "mike")
        await identity.exchange(provider, REDIRECT_URI, code, NONCE, verifier)

    with pytest.raises(IdentityError, match="iss"):
        run(scenario())


# -- discovery and failures -------------------------------------------------------------------


def test_discovery_is_fetched_once(
    identity: IdentityProvider, idp_metadata: dict[str, Any], front: Front
) -> None:
    front.serve_metadata(idp_metadata)
    provider = config_for(front.metadata_url)

    async def scenario() -> None:
        for _ in range(3):
            await identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE)
        await identity.end_session_url(provider)

    run(scenario())
    assert front.hits["/.well-known/openid-configuration"] == 1


def test_end_session_url_is_the_providers(
    identity: IdentityProvider, idp: MockProvider, idp_metadata: dict[str, Any], front: Front
) -> None:
    assert run(identity.end_session_url(config_for(idp.metadata_url))) == (
        f"{idp.issuer}/oauth2/end_session"
    )
    without = {k: v for k, v in idp_metadata.items() if k != "end_session_endpoint"}
    front.serve_metadata(without)
    assert run(identity.end_session_url(config_for(front.metadata_url))) is None


def test_an_unreachable_provider_fails_quickly(identity: IdentityProvider) -> None:
    with socket.socket() as reserved:  # Bound, never listening: connections are refused.
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        provider = config_for(f"http://127.0.0.1:{port}/.well-known/openid-configuration")
        started = time.monotonic()
        with pytest.raises(IdentityError, match="could not be reached"):
            run(identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE))
        with pytest.raises(IdentityError):
            run(identity.exchange(provider, REDIRECT_URI, "code", NONCE, None))
        with pytest.raises(IdentityError):
            run(identity.end_session_url(provider))
    assert time.monotonic() - started < 5


def test_a_silent_provider_times_out(make_identity: Callable[[float], IdentityProvider]) -> None:
    identity = make_identity(0.5)
    with socket.socket() as silent:  # Listening, never accepting, never answering.
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        provider = config_for(f"http://127.0.0.1:{port}/.well-known/openid-configuration")
        started = time.monotonic()
        with pytest.raises(IdentityError, match="in time"):
            run(identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE))
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "answer",
    [
        (200, {"Content-Type": "text/html"}, b"<html>Welcome to nginx</html>"),
        (200, {"Content-Type": "application/json"}, b"[1, 2, 3]"),
        (200, {"Content-Type": "application/json"}, b'{"issuer": "x"}'),
        (200, {"Content-Type": "application/json"}, b"\xff\xfe garbage"),
        (500, {"Content-Type": "application/json"}, b"{}"),
        (404, {}, b"no such page"),
    ],
    ids=["html", "json-array", "no-endpoints", "binary", "500", "404"],
)
def test_a_garbage_discovery_document_is_refused(
    identity: IdentityProvider, front: Front, answer: tuple[int, dict[str, str], bytes]
) -> None:
    front.routes["/.well-known/openid-configuration"] = lambda _: answer
    provider = config_for(front.metadata_url)
    with pytest.raises(IdentityError, match="unusable discovery document"):
        run(identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE))


def test_a_failed_discovery_is_not_cached(
    identity: IdentityProvider, idp_metadata: dict[str, Any], front: Front
) -> None:
    front.routes["/.well-known/openid-configuration"] = lambda _: (503, {}, b"starting")
    provider = config_for(front.metadata_url)
    with pytest.raises(IdentityError):
        run(identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE))
    front.serve_metadata(idp_metadata)
    request = run(identity.authorization_request(provider, REDIRECT_URI, STATE, NONCE))
    assert request.url.startswith(idp_metadata["authorization_endpoint"])


def test_a_garbage_token_answer_is_refused(
    identity: IdentityProvider, idp_metadata: dict[str, Any], front: Front
) -> None:
    front.routes["/token"] = lambda _: as_json({"access_token": "a", "id_token": "not.a.jwt"})
    front.serve_metadata({**idp_metadata, "token_endpoint": front.url("/token")})
    provider = config_for(front.metadata_url)
    with pytest.raises(IdentityError, match="ID token"):
        run(identity.exchange(provider, REDIRECT_URI, "code", NONCE, None))
    front.routes["/token"] = lambda _: (200, {}, b"<html>")
    with pytest.raises(IdentityError, match="token endpoint"):
        run(identity.exchange(provider, REDIRECT_URI, "code", NONCE, None))
