"""The `TokenCodec` contract over its adapter (joserfc), with the provider token's claims
rule over it (spec §4.5): the `st.login` token, an HS256 JWT keyed with the cookie secret.

Compatibility is checked against Streamlit 1.67's own `auth_util.encode_provider_token` /
`decode_provider_token` (joserfc), joserfc directly, and Authlib's legacy `authlib.jose`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any
from unittest import mock

import joserfc.jwt
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hexlit.adapters.formats.tokens import ALGORITHM, JoserfcTokenCodec
from hexlit.domain import provider_token
from hexlit.domain.provider_token import LIFETIME, MAX_TOKEN_LENGTH
from hexlit.ports.tokens import TokenCodec

SECRET = "a-long-random-cookie-secret"
NOW = 1_700_000_000
HEADER = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"
"""b64('{"typ":"JWT","alg":"HS256"}'), joserfc's header."""

new_codec: Callable[[str], TokenCodec] = JoserfcTokenCodec
"""The `TokenCodec` under contract: the only one (ADR 0021)."""


def encode_provider_token(provider: str, secret: str, now: int, lifetime: int = LIFETIME) -> str:
    """The claims rule over the codec keyed with `secret`."""
    return provider_token.encode_provider_token(new_codec(secret), provider, now, lifetime)


def decode_provider_token(token: str | None, secret: str, now: int) -> str | None:
    return provider_token.decode_provider_token(new_codec(secret), token, now)


providers = st.one_of(st.sampled_from(["default", "google", "microsoft"]), st.text(min_size=1))
secrets = st.one_of(st.just(SECRET), st.text(min_size=14, max_size=40))
timestamps = st.integers(min_value=0, max_value=4_000_000_000)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(header: dict[str, Any] | str, claims: dict[str, Any] | str, secret: str = SECRET) -> str:
    """A token with any header and claims (raw JSON text allowed), MACed with HS256."""
    header_text = header if isinstance(header, str) else json.dumps(header)
    claims_text = claims if isinstance(claims, str) else json.dumps(claims)
    signing_input = f"{b64(header_text.encode())}.{b64(claims_text.encode())}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


@pytest.fixture(scope="module")
def auth_util() -> ModuleType:
    """Streamlit 1.67's auth helpers (imported once: the import takes a while)."""
    util: ModuleType = importlib.import_module("streamlit.auth_util")
    return util


@pytest.fixture(scope="module")
def authlib_jwt() -> Any:
    # `authlib.deprecate` installs an "always" filter for its warning when imported, so
    # import it first: the "ignore" below then takes precedence for `authlib.jose`,
    # which is deprecated in favour of joserfc.
    importlib.import_module("authlib.deprecate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jose = importlib.import_module("authlib.jose")
        return jose.jwt


@contextmanager
def streamlit_secret(auth_util: ModuleType, secret: str, now: int | None = None) -> Iterator[None]:
    """Streamlit's signing secret (from secrets.toml) and, optionally, its clock."""
    with mock.patch.object(auth_util, "get_signing_secret", return_value=secret):
        if now is None:
            yield
        else:
            with mock.patch.object(
                auth_util, "_get_provider_token_expiration_timestamp", return_value=now + 120
            ):
                yield


def oct_key(secret: str) -> Any:
    from joserfc.jwk import OctKey

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc warns about keys under 14 bytes
        return OctKey.import_key(secret)


# --- the format -----------------------------------------------------------------------


@given(providers, secrets, timestamps)
def test_round_trip(provider: str, secret: str, now: int) -> None:
    token = encode_provider_token(provider, secret, now)
    assert token.startswith(HEADER + ".")
    assert decode_provider_token(token, secret, now) == provider
    assert decode_provider_token(token, secret, now + LIFETIME - 1) == provider


def test_example_token() -> None:
    """As Streamlit 1.67 mints it (computed with its `encode_provider_token`)."""
    assert encode_provider_token("google", "a-long-enough-secret", NOW) == (
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"
        ".eyJwcm92aWRlciI6Imdvb2dsZSIsImV4cCI6MTcwMDAwMDEyMH0"
        ".e8FagIIbqgS9xvmWvjweyq_HaIKYJmZM_rqGU8f5uHo"
    )
    assert ALGORITHM == "HS256"
    assert LIFETIME == 120


def test_claims() -> None:
    token = encode_provider_token("Ünï", SECRET, NOW, lifetime=5)
    claims = token.split(".")[1]
    decoded = base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4))
    assert decoded == '{"provider":"Ünï","exp":1700000005}'.encode()


@given(provider=providers, secret=secrets, lifetime=st.integers(min_value=1, max_value=10**6))
@example(provider="google", secret=SECRET, lifetime=LIFETIME)
def test_expiry(provider: str, secret: str, lifetime: int) -> None:
    token = encode_provider_token(provider, secret, NOW, lifetime)
    assert decode_provider_token(token, secret, NOW + lifetime - 1) == provider
    assert decode_provider_token(token, secret, NOW + lifetime) is None
    assert decode_provider_token(token, secret, NOW + lifetime + 10**6) is None
    assert (
        decode_provider_token(encode_provider_token(provider, secret, NOW, 0), secret, NOW) is None
    )


# --- compatibility --------------------------------------------------------------------


@given(provider=providers, secret=st.text(min_size=1, max_size=40), now=timestamps)
@example(provider="google", secret="a-long-enough-secret", now=NOW)
def test_byte_for_byte_as_streamlit(
    auth_util: ModuleType, provider: str, secret: str, now: int
) -> None:
    with streamlit_secret(auth_util, secret, now):
        theirs = auth_util.encode_provider_token(provider)
    assert encode_provider_token(provider, secret, now) == theirs


@settings(max_examples=50)
@given(provider=providers, secret=secrets)
def test_streamlit_decodes_ours_and_we_decode_streamlits(
    auth_util: ModuleType, provider: str, secret: str
) -> None:
    """On the real clock, through Streamlit's own code path."""
    ours = encode_provider_token(provider, secret, int(time.time()))
    with streamlit_secret(auth_util, secret):
        assert auth_util.decode_provider_token(ours)["provider"] == provider
        theirs = auth_util.encode_provider_token(provider)
        wrong = encode_provider_token(provider, secret + "x", int(time.time()))
        with pytest.raises(auth_util.StreamlitAuthError):
            auth_util.decode_provider_token(wrong)
    assert decode_provider_token(theirs, secret, int(time.time())) == provider


def test_streamlits_login_route_reads_ours(auth_util: ModuleType) -> None:
    routes = importlib.import_module("streamlit.web.server.starlette.starlette_auth_routes")
    with streamlit_secret(auth_util, SECRET):
        token = encode_provider_token("google", SECRET, int(time.time()))
        assert routes._parse_provider_token(token) == "google"
        expired = encode_provider_token("google", SECRET, int(time.time()) - LIFETIME - 5)
        assert routes._parse_provider_token(expired) is None


@given(provider=providers, secret=secrets, now=timestamps)
def test_joserfc_reads_ours_and_we_read_joserfc(provider: str, secret: str, now: int) -> None:
    ours = encode_provider_token(provider, secret, now)
    token = joserfc.jwt.decode(ours, oct_key(secret), algorithms=["HS256"])
    assert token.header == {"typ": "JWT", "alg": "HS256"}
    assert token.claims == {"provider": provider, "exp": now + LIFETIME}
    header = {"alg": "HS256", "kid": "k1"}
    theirs = joserfc.jwt.encode(header, {"provider": provider, "exp": now + 1}, oct_key(secret))
    assert decode_provider_token(theirs, secret, now) == provider


@given(provider=providers, secret=secrets, now=timestamps)
def test_authlib_reads_ours_and_we_read_authlib(
    authlib_jwt: Any, provider: str, secret: str, now: int
) -> None:
    """Streamlit's fallback when joserfc is missing (header order `alg`, `typ`)."""
    ours = encode_provider_token(provider, secret, now)
    assert authlib_jwt.decode(ours, secret) == {"provider": provider, "exp": now + LIFETIME}
    theirs = authlib_jwt.encode({"alg": "HS256"}, {"provider": provider, "exp": now + 1}, secret)
    assert decode_provider_token(theirs.decode("latin-1"), secret, now) == provider


# --- rejection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none"},
        {"alg": "None", "typ": "JWT"},
        {"alg": "RS256", "typ": "JWT"},
        {"alg": "HS512", "typ": "JWT"},
        {"alg": "hs256"},
        {"typ": "JWT"},
        {"alg": "HS256", "crit": ["b64"], "b64": False},
        {"alg": "HS256", "crit": []},
        '["HS256"]',
        '"HS256"',
        "{",
    ],
)
def test_headers_other_than_hs256_are_rejected(header: dict[str, Any] | str) -> None:
    claims = {"provider": "google", "exp": NOW + 60}
    assert decode_provider_token(jwt(header, claims), SECRET, NOW) is None
    unsigned = jwt(header, claims).rsplit(".", 1)[0] + "."
    assert decode_provider_token(unsigned, SECRET, NOW) is None


def test_an_unsigned_token_is_rejected() -> None:
    from joserfc.jws import JWSRegistry

    registry = JWSRegistry(algorithms=["none"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc: "none" is deprecated
        unsigned = joserfc.jwt.encode(
            {"alg": "none"}, {"provider": "google", "exp": NOW + 60}, None, registry=registry
        )
    assert unsigned.endswith(".")
    assert decode_provider_token(unsigned, SECRET, NOW) is None


def test_an_rs256_token_is_rejected() -> None:
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048)
    token = joserfc.jwt.encode({"alg": "RS256"}, {"provider": "google", "exp": NOW + 60}, key)
    assert decode_provider_token(token, SECRET, NOW) is None


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW + 60},
        {"provider": None, "exp": NOW + 60},
        {"provider": "", "exp": NOW + 60},
        {"provider": 7, "exp": NOW + 60},
        {"provider": ["google"], "exp": NOW + 60},
        {"provider": "google"},
        {"provider": "google", "exp": None},
        {"provider": "google", "exp": True},
        {"provider": "google", "exp": str(NOW + 60)},
        {"provider": "google", "exp": NOW},
        {"provider": "google", "exp": NOW - 0.5},
        '{"provider": "google", "exp": NaN}',
        '{"provider": "google", "exp": Infinity}',
        '{"provider": "google", "exp": -Infinity}',
        '{"provider": "google", "exp": 1' + "0" * 5000 + "}",
        '["google"]',
        "google",
        "",
    ],
)
def test_invalid_claims_are_rejected(claims: dict[str, Any] | str) -> None:
    assert decode_provider_token(jwt({"alg": "HS256"}, claims), SECRET, NOW) is None


def test_valid_claim_variants_are_accepted() -> None:
    for exp in (NOW + 1, NOW + 0.5, 10**30):
        token = jwt({"alg": "HS256"}, {"provider": "google", "exp": exp, "extra": [1]})
        assert decode_provider_token(token, SECRET, NOW) == "google"


def test_wrong_secret_is_rejected() -> None:
    token = encode_provider_token("google", SECRET, NOW)
    assert decode_provider_token(token, SECRET + "x", NOW) is None
    assert decode_provider_token(token, SECRET[:-1], NOW) is None


def test_an_empty_secret_verifies_nothing(auth_util: ModuleType) -> None:
    """Streamlit (joserfc) refuses empty key material; so do we."""
    with pytest.raises(ValueError, match="empty"):
        encode_provider_token("google", "", NOW)
    assert (
        decode_provider_token(jwt({"alg": "HS256"}, {"provider": "g", "exp": NOW + 9}, ""), "", NOW)
        is None
    )
    with streamlit_secret(auth_util, ""), pytest.raises(ValueError, match="empty"):
        auth_util.encode_provider_token("google")


def test_every_single_character_tamper_is_rejected() -> None:
    token = encode_provider_token("google", SECRET, NOW)
    for index in range(len(token)):
        assert decode_provider_token(token[:index] + token[index + 1 :], SECRET, NOW) is None
        for code in range(256):
            if chr(code) != token[index]:
                tampered = token[:index] + chr(code) + token[index + 1 :]
                assert decode_provider_token(tampered, SECRET, NOW) is None, tampered


@settings(max_examples=150)
@given(provider=providers, now=timestamps, data=st.data())
def test_any_tampered_byte_is_rejected(provider: str, now: int, data: st.DataObject) -> None:
    token = encode_provider_token(provider, SECRET, now)
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.one_of(st.sampled_from("A_-.=0a"), st.characters()))
    tampered = token[:index] + replacement + token[index + 1 :]
    assume(tampered != token)
    assert decode_provider_token(tampered, SECRET, now) is None


def test_joserfc_and_we_agree_on_a_noncanonical_signature() -> None:
    """The last MAC character has 2 unused bits; joserfc refuses other spellings too."""
    from joserfc.errors import JoseError

    token = encode_provider_token("google", SECRET, NOW)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    for low in (1, 2, 3):
        variant = token[:-1] + alphabet[last ^ low]
        assert decode_provider_token(variant, SECRET, NOW) is None
        with pytest.raises((JoseError, ValueError)):
            joserfc.jwt.decode(variant, oct_key(SECRET), algorithms=["HS256"])


@given(
    st.one_of(
        st.none(),
        st.text(),
        st.text(alphabet="AZaz09-_.=", max_size=80),
        st.builds(
            lambda parts: ".".join(parts),
            st.lists(st.text(alphabet="eyJAZaz09-_=é", max_size=40), max_size=5),
        ),
    )
)
def test_garbage_never_raises(garbage: str | None) -> None:
    assert decode_provider_token(garbage, SECRET, NOW) is None


def test_oversized_tokens_are_rejected() -> None:
    token = encode_provider_token("p" * MAX_TOKEN_LENGTH, SECRET, NOW)
    assert len(token) > MAX_TOKEN_LENGTH
    assert decode_provider_token(token, SECRET, NOW) is None
    fitting = encode_provider_token("p" * 5000, SECRET, NOW)
    assert decode_provider_token(fitting, SECRET, NOW) == "p" * 5000
