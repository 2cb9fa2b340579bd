"""`OriginPolicy`: which origins may open a WebSocket, which hosts may be served."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexlit.domain.origin_policy import OriginPolicy
from hexlit.ports.errors import BadRequest, HostRejected, OriginRejected

STRICT = OriginPolicy(enable_cors=True)
OPEN = OriginPolicy(enable_cors=False)

hostnames = st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z][a-z0-9-]{0,12}){0,3}", fullmatch=True)
ports = st.integers(min_value=1, max_value=65535)


def test_no_origin_is_allowed() -> None:
    assert STRICT.websocket_origin_allowed(None, "example.com")
    assert STRICT.websocket_origin_allowed(None, None)
    STRICT.check_websocket(None, "example.com")


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://example.com", "example.com"),
        ("http://example.com:8501", "example.com:8501"),
        ("HTTPS://Example.COM:8501", "example.com:8501"),
        ("https://example.com:8501", "EXAMPLE.com:8501"),
        ("https://example.com", " example.com "),
    ],
)
def test_same_host_origin_is_allowed(origin: str, host: str) -> None:
    assert STRICT.websocket_origin_allowed(origin, host)
    STRICT.check_websocket(origin, host)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://evil.example", "example.com"),
        ("https://example.com:9999", "example.com:8501"),  # same name, another port
        ("https://example.com.evil.example", "example.com"),
        ("null", "example.com"),
        ("not a url", "example.com"),
    ],
)
def test_foreign_origin_depends_on_cors(origin: str, host: str) -> None:
    assert not STRICT.websocket_origin_allowed(origin, host)
    with pytest.raises(OriginRejected):
        STRICT.check_websocket(origin, host)
    assert OPEN.websocket_origin_allowed(origin, host)
    OPEN.check_websocket(origin, host)


@settings(max_examples=100)
@given(
    st.sampled_from(["localhost", "LOCALHOST", "127.0.0.1", "[::1]", "0.0.0.0"]),
    st.one_of(st.none(), ports),
    st.sampled_from(["http", "https"]),
    hostnames,
)
def test_local_origins_are_allowed_on_any_port(
    name: str, port: int | None, scheme: str, host: str
) -> None:
    origin = f"{scheme}://{name}" + ("" if port is None else f":{port}")
    assert STRICT.websocket_origin_allowed(origin, host)


def test_cors_allowed_origins_count_by_hostname_for_websockets() -> None:
    policy = OriginPolicy(cors_allowed_origins=("https://app.example.com",))
    assert policy.websocket_origin_allowed("https://app.example.com", "server.internal")
    # As in Streamlit, scheme and port of the Origin do not matter here.
    assert policy.websocket_origin_allowed("http://app.example.com:8080", "server.internal")
    assert not policy.websocket_origin_allowed("https://other.example.com", "server.internal")
    assert not policy.websocket_origin_allowed("https://example.com", "server.internal")


def test_trusted_hostnames_are_allowed_for_websockets() -> None:
    policy = OriginPolicy(trusted_hostnames=frozenset({"10.0.0.5", "myhost"}))
    assert policy.websocket_origin_allowed("http://10.0.0.5:8501", "proxy.example")
    assert policy.websocket_origin_allowed("http://myhost", "proxy.example")
    assert not policy.websocket_origin_allowed("http://10.0.0.6:8501", "proxy.example")


def test_cors_allow_origin_answers_star_when_cors_is_off() -> None:
    assert OPEN.cors_allow_origin("https://anything.example") == "*"
    assert OPEN.cors_allow_origin(None) == "*"


def test_cors_allow_origin_echoes_exactly_listed_origins() -> None:
    policy = OriginPolicy(cors_allowed_origins=("https://a.example", "http://b.example:8080"))
    assert policy.cors_allow_origin("https://a.example") == "https://a.example"
    assert policy.cors_allow_origin("http://b.example:8080") == "http://b.example:8080"
    assert policy.cors_allow_origin(" https://a.example ") == "https://a.example"
    assert policy.cors_allow_origin("http://a.example") is None
    assert policy.cors_allow_origin("https://a.example:443") is None
    assert policy.cors_allow_origin("http://b.example") is None
    assert policy.cors_allow_origin("https://c.example") is None
    assert policy.cors_allow_origin(None) is None


def test_every_host_is_allowed_without_a_list() -> None:
    assert STRICT.host_allowed(None)
    assert STRICT.host_allowed("")
    assert STRICT.host_allowed("anything:1")


@pytest.mark.parametrize(
    ("pattern", "host", "allowed"),
    [
        ("*", "anything.example", True),
        ("*", "10.1.2.3:8501", True),
        ("*.example.com", "sub.example.com", True),
        ("*.example.com", "a.b.example.com:8501", True),
        ("*.example.com", "SUB.Example.COM", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "badexample.com", False),
        ("*.example.com", "example.com.evil", False),
        ("example.com", "example.com", True),
        ("example.com", "example.com:8501", True),
        ("example.com", "Example.Com.", True),
        ("example.com", "sub.example.com", False),
        ("Example.COM", "example.com", True),
        ("::1", "[::1]:8501", True),
    ],
)
def test_host_patterns(pattern: str, host: str, allowed: bool) -> None:
    policy = OriginPolicy(allowed_hosts=(pattern,))
    assert policy.host_allowed(host) is allowed
    if allowed:
        policy.check_websocket(None, host)
    else:
        with pytest.raises(HostRejected):
            policy.check_websocket(None, host)


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "user@example.com",
        "user:pw@example.com",
        "example.com/path",
        "example.com?q=1",
        "example.com#frag",
        "example.com:99999",
        "example.com:port",
        "a:99999",
        "[::1",
        ":8501",
        "example.com evil.example",
        'example.com"<script>',
        "example.com\\evil.example",
        "exa\tmple.com",
        "ex\u0430mple.com",
        "[::1]x",
    ],
)
def test_malformed_host_headers_are_rejected_when_a_list_is_set(host: str | None) -> None:
    """A request without a usable Host is a bad request (400), on every route."""
    policy = OriginPolicy(allowed_hosts=("*",))
    assert not policy.host_allowed(host)
    with pytest.raises(BadRequest):
        policy.check_websocket(None, host)
    with pytest.raises(BadRequest):
        policy.check_host(host)


@pytest.mark.parametrize("host", [None, "", "user@example.com", "example.com:99999"])
def test_without_a_list_any_host_passes_check_host(host: str | None) -> None:
    OPEN.check_host(host)
    STRICT.check_host(host)


def test_a_well_formed_host_off_the_list_passes_check_host() -> None:
    """The list itself is the handshake's business (`check_websocket`), as in Streamlit."""
    OriginPolicy(allowed_hosts=("example.com",)).check_host("other.example:8501")


def test_host_is_checked_before_origin() -> None:
    policy = OriginPolicy(allowed_hosts=("example.com",))
    with pytest.raises(HostRejected):
        policy.check_websocket("https://evil.example", "other.example")


def test_rejections_are_forbidden_and_never_echo_input() -> None:
    policy = OriginPolicy(allowed_hosts=("example.com",))
    with pytest.raises(HostRejected) as host_error:
        policy.check_websocket(None, "secret-host.example")
    with pytest.raises(OriginRejected) as origin_error:
        policy.check_websocket("https://secret-origin.example", "example.com")
    assert "secret" not in host_error.value.reason
    assert "secret" not in origin_error.value.reason


@settings(max_examples=100)
@given(hostnames, st.one_of(st.none(), ports), st.sampled_from(["http", "https"]))
def test_same_host_is_always_allowed(name: str, port: int | None, scheme: str) -> None:
    host = name if port is None else f"{name}:{port}"
    assert STRICT.websocket_origin_allowed(f"{scheme}://{host}", host)
    assert OriginPolicy(allowed_hosts=(name,)).host_allowed(host)


policies = st.builds(
    OriginPolicy,
    enable_cors=st.booleans(),
    cors_allowed_origins=st.lists(st.text(max_size=30), max_size=3).map(tuple),
    trusted_hostnames=st.frozensets(st.text(max_size=20), max_size=3),
    allowed_hosts=st.lists(st.text(max_size=20) | st.just("*"), max_size=3).map(tuple),
)
header_text = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.text(alphabet="[]:@/?#.%a1 \t", max_size=30),
    st.builds(lambda s, h: f"{s}://{h}", st.sampled_from(["http", "https", "ws", ""]), st.text()),
)


@settings(max_examples=300)
@given(policies, header_text, header_text)
def test_check_websocket_only_ever_rejects_semantically(
    policy: OriginPolicy, origin: str | None, host: str | None
) -> None:
    with contextlib.suppress(OriginRejected, HostRejected, BadRequest):
        policy.check_websocket(origin, host)
    policy.cors_allow_origin(origin)


@settings(max_examples=200)
@given(header_text, header_text)
def test_cors_off_without_host_list_accepts_every_handshake(
    origin: str | None, host: str | None
) -> None:
    OPEN.check_websocket(origin, host)


@pytest.mark.parametrize("policy", [OPEN, OriginPolicy(allowed_hosts=("*",))])
@pytest.mark.parametrize(
    ("hosts", "version"), [((), "1.1"), (("a.example", "b.example"), "1.1"), (("a", "a"), "1.0")]
)
def test_no_host_in_http_11_or_several_hosts_are_a_bad_request(
    policy: OriginPolicy, hosts: tuple[str, ...], version: str
) -> None:
    with pytest.raises(BadRequest):
        policy.check_request_hosts(hosts, version)


def test_one_host_or_none_in_http_10_is_fine_without_a_list() -> None:
    OPEN.check_request_hosts(("",), "1.1")
    OPEN.check_request_hosts((), "1.0")
    with pytest.raises(BadRequest):
        OriginPolicy(allowed_hosts=("*",)).check_request_hosts((), "1.0")
