"""The `CookieSigner` contract over its adapter (itsdangerous), and the chunking rule
over it (spec §4.5): signed, chunked auth cookies as Streamlit 1.67 writes them.

Compatibility is checked against the real implementations: itsdangerous 2.x's
`URLSafeTimedSerializer` (byte for byte, on a fixed clock), and Streamlit 1.67's
`starlette_app_utils.create_signed_value` / `decode_signed_value` and
`auth_util.set_cookie_with_chunks` / `get_cookie_with_chunks` (on the real clock).
"""

from __future__ import annotations

import base64
import importlib
import json
import random
import re
import time
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import itsdangerous
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hexlit.adapters.formats.signed_cookies import ItsdangerousCookieSigner
from hexlit.domain.cookie_chunks import MAX_COOKIE_BYTES, chunk_cookies, chunk_names, read_chunked
from hexlit.ports.cookies import CookieSigner

new_signer: Callable[[str], CookieSigner] = ItsdangerousCookieSigner
"""The `CookieSigner` under contract: the only one (ADR 0021)."""

USER = "_streamlit_user"
TOKENS = "_streamlit_user_tokens"
SECRET = "a-long-random-cookie-secret"
NOW = 1_700_000_000
MAX_AGE = (30 + 1) * 86400
LAST_ITSDANGEROUS_SECOND = 253_402_300_799
"""9999-12-31T23:59:59Z: itsdangerous's `loads` makes a `datetime` of the timestamp."""
ATTRIBUTES = len("; Path=/; HttpOnly; SameSite=lax; Max-Age=2592000")
SIGNER = new_signer(SECRET)

secrets = st.one_of(st.text(min_size=1, max_size=40), st.just(SECRET))
names = st.one_of(
    st.sampled_from([USER, TOKENS, f"{USER}_1", f"{TOKENS}_12"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=30),
)
timestamps = st.one_of(
    st.integers(min_value=1_600_000_000, max_value=2_000_000_000),
    st.integers(min_value=0, max_value=2**64 - 1),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
values = st.one_of(
    st.text(),
    st.builds(json.dumps, json_values),
    st.builds(lambda text, times: text * times, st.text(max_size=12), st.integers(0, 300)),
)
"""Any string: what Streamlit stores (a dumped dict) and long, compressible ones."""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@pytest.fixture(scope="module")
def app_utils() -> ModuleType:
    """Streamlit 1.67's signing helpers (imported once: the import takes a while)."""
    utils: ModuleType = importlib.import_module(
        "streamlit.web.server.starlette.starlette_app_utils"
    )
    return utils


@pytest.fixture(scope="module")
def auth_util() -> ModuleType:
    util: ModuleType = importlib.import_module("streamlit.auth_util")
    return util


def their_serializer(secret: str, name: str, now: int) -> Any:
    """`URLSafeTimedSerializer(secret, salt=name)`, its clock stopped at `now`."""

    class StoppedClock(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return now

    return itsdangerous.URLSafeTimedSerializer(secret, salt=name, signer=StoppedClock)


# --- the format -----------------------------------------------------------------------


@given(secrets, names, values, timestamps)
def test_round_trip(secret: str, name: str, value: str, now: int) -> None:
    signer = new_signer(secret)
    signed = signer.sign(name, value, now)
    assert re.fullmatch(r"\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{27}", signed)
    assert signer.unsign(name, signed, now, 0) == value
    assert signer.unsign(name, signed, now, MAX_AGE) == value


def test_example_values() -> None:
    """As itsdangerous 2.2 writes them (computed with it)."""
    assert SIGNER.sign(USER, "hi", NOW) == "ImhpIg.ZVPxAA._wJ2YP6fHkxjopoRbsKdJZpLCiY"
    compressed = SIGNER.sign(USER, "x" * 500, NOW)
    assert compressed == ".eJxTqhgFIw4oAQCTjuql.ZVPxAA.KmaGECWZFHjk8ZhnNDe7JPwzw-o"


def test_payload_is_the_json_encoded_string() -> None:
    value = json.dumps({"email": "é@example.com", "is_logged_in": True})
    payload = SIGNER.sign(USER, value, NOW).split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert decoded == json.dumps(value, separators=(",", ":")).encode()


def test_timestamps_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        SIGNER.sign(USER, "v", -1)
    with pytest.raises(ValueError, match="timestamp"):
        SIGNER.sign(USER, "v", 2**64)
    assert SIGNER.unsign(USER, SIGNER.sign(USER, "v", 0), 0, 0) == "v"


# --- compatibility with itsdangerous and Streamlit -------------------------------------


@given(secret=secrets, name=names, value=values, now=timestamps)
@example(secret=SECRET, name=USER, value="x" * 5000, now=NOW)
@example(secret=SECRET, name=USER, value=json.dumps({"name": "Ünïcödé 😀"}), now=NOW)
def test_byte_for_byte_as_itsdangerous(secret: str, name: str, value: str, now: int) -> None:
    serializer = their_serializer(secret, name, now)
    theirs = serializer.dumps(value)
    ours = new_signer(secret).sign(name, value, now)
    assert ours == theirs
    if now <= LAST_ITSDANGEROUS_SECOND:
        assert serializer.loads(ours, max_age=MAX_AGE) == value
    assert new_signer(secret).unsign(name, theirs, now, MAX_AGE) == value


@pytest.mark.parametrize(
    "value",
    ["", "v", json.dumps({"email": "a@b.c", "is_logged_in": True}), "x" * 5000, "é😀" * 900],
)
def test_streamlit_reads_ours_and_we_read_streamlits(app_utils: ModuleType, value: str) -> None:
    ours = SIGNER.sign(USER, value, int(time.time()))
    assert app_utils.decode_signed_value(SECRET, USER, ours.encode("latin-1")) == value.encode()
    theirs = app_utils.create_signed_value(SECRET, USER, value).decode("latin-1")
    assert SIGNER.unsign(USER, theirs, int(time.time()), MAX_AGE) == value
    assert app_utils.decode_signed_value(SECRET, TOKENS, ours.encode()) is None


@given(value=values)
def test_both_payload_forms_are_read(value: str) -> None:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    signer = itsdangerous.TimestampSigner(SECRET, salt=USER)
    plain = signer.sign(b64(data)).decode()
    packed = signer.sign("." + b64(zlib.compress(data, 9))).decode()
    serializer = itsdangerous.URLSafeTimedSerializer(SECRET, salt=USER)
    now = int(time.time())
    for form in (plain, packed):
        assert serializer.loads(form) == value
        assert SIGNER.unsign(USER, form, now, MAX_AGE) == value


@given(other=st.one_of(st.integers(), st.lists(st.text()), st.dictionaries(st.text(), st.text())))
def test_json_other_than_a_string_is_refused(other: object) -> None:
    signed = their_serializer(SECRET, USER, NOW).dumps(other)
    assert SIGNER.unsign(USER, signed, NOW, MAX_AGE) is None


def test_itsdangerous_accepts_noncanonical_signatures_we_do_not() -> None:
    """The last signature character carries 2 unused bits, which itsdangerous ignores."""
    serializer = their_serializer(SECRET, USER, NOW)
    signed = serializer.dumps("v")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signed[-1])
    variants = [signed[:-1] + alphabet[last ^ low] for low in (1, 2, 3)]
    for variant in variants:
        assert serializer.loads(variant) == "v"
        assert SIGNER.unsign(USER, variant, NOW, MAX_AGE) is None


# --- rejection ------------------------------------------------------------------------


def tampered_variants(signed: str) -> list[str]:
    """Every one-character substitution (any Latin-1 character) and every deletion."""
    variants = [signed[:index] + signed[index + 1 :] for index in range(len(signed))]
    for index in range(len(signed)):
        for code in range(256):
            if chr(code) != signed[index]:
                variants.append(signed[:index] + chr(code) + signed[index + 1 :])
    return variants


@pytest.mark.parametrize("value", ["", '{"email":"a@b.c"}', "x" * 300])
def test_every_single_character_tamper_is_rejected(value: str) -> None:
    signed = SIGNER.sign(USER, value, NOW)
    for variant in tampered_variants(signed):
        assert SIGNER.unsign(USER, variant, NOW, MAX_AGE) is None, variant


@settings(max_examples=150)
@given(value=values, now=timestamps, data=st.data())
def test_any_tampered_byte_is_rejected(value: str, now: int, data: st.DataObject) -> None:
    signed = SIGNER.sign(USER, value, now)
    index = data.draw(st.integers(min_value=0, max_value=len(signed) - 1))
    replacement = data.draw(st.one_of(st.sampled_from("A_-.=0a"), st.characters()))
    tampered = signed[:index] + replacement + signed[index + 1 :]
    assume(tampered != signed)
    assert SIGNER.unsign(USER, tampered, now, 2**65) is None


@given(value=values, name=names, other=names)
def test_wrong_name_or_secret_is_rejected(value: str, name: str, other: str) -> None:
    assume(name != other)
    signed = SIGNER.sign(name, value, NOW)
    assert SIGNER.unsign(other, signed, NOW, MAX_AGE) is None
    assert new_signer(SECRET + "x").unsign(name, signed, NOW, MAX_AGE) is None


@given(
    signed_at=st.integers(min_value=0, max_value=2**37),
    offset=st.integers(min_value=-(2**20), max_value=2**20),
    max_age=st.integers(min_value=0, max_value=2**20),
)
@example(signed_at=NOW, offset=MAX_AGE, max_age=MAX_AGE)
@example(signed_at=NOW, offset=MAX_AGE + 1, max_age=MAX_AGE)
@example(signed_at=NOW, offset=-1, max_age=MAX_AGE)
def test_expiry_as_itsdangerous(signed_at: int, offset: int, max_age: int) -> None:
    signed = SIGNER.sign(USER, "v", signed_at)
    now = signed_at + offset
    expected = "v" if 0 <= offset <= max_age else None
    assert SIGNER.unsign(USER, signed, now, max_age) == expected
    if 0 <= now <= LAST_ITSDANGEROUS_SECOND:
        serializer = their_serializer(SECRET, USER, now)
        try:
            theirs = serializer.loads(signed, max_age=max_age)
        except itsdangerous.SignatureExpired:
            theirs = None
        assert theirs == expected


@given(
    st.one_of(
        st.text(),
        st.text(alphabet="AZaz09-_.=", max_size=80),
        st.builds(
            lambda parts: ".".join(parts),
            st.lists(st.text(alphabet="AZaz09-_=é", max_size=30), max_size=5),
        ),
    )
)
def test_garbage_never_raises(garbage: str) -> None:
    assert SIGNER.unsign(USER, garbage, NOW, MAX_AGE) is None


def test_signed_garbage_payloads_read_as_none() -> None:
    signer = itsdangerous.TimestampSigner(SECRET, salt=USER)
    now = int(time.time())
    for payload in ["", ".", "!!", "AAA", ".AAAA", "." + b64(b"not zlib"), b64(b"\xff"), b64(b"[")]:
        signed = signer.sign(payload).decode()
        assert SIGNER.unsign(USER, signed, now, MAX_AGE) is None
    deep = "." + b64(zlib.compress(b"[" * 100_000))
    assert SIGNER.unsign(USER, signer.sign(deep).decode(), now, MAX_AGE) is None
    no_timestamp = itsdangerous.Signer(SECRET, salt=USER).sign(b64(b'"v"')).decode()
    assert SIGNER.unsign(USER, no_timestamp, now, MAX_AGE) is None


# --- chunking -------------------------------------------------------------------------


def sized_value(kind: str, size: int, seed: int) -> str:
    """A `size`-character string: JSON-like, escape-heavy, random ASCII, Unicode or CJK."""
    rng = random.Random(seed)
    if kind == "json":
        claims = {"email": "someone@example.com", "name": "Some One", "is_logged_in": True}
        return (json.dumps(claims) * (size // 60 + 1))[:size]
    if kind == "cjk":
        return "".join(chr(rng.randrange(0x4E00, 0xA000)) for _ in range(size))
    alphabet = {
        "escapes": '"\\/\n\tab',
        "ascii": "".join(chr(code) for code in range(32, 127)),
        "unicode": "aé€😀\u4e2d\U0001f600\x00\ufffd\u2028",
    }[kind]
    return "".join(rng.choice(alphabet) for _ in range(size))


chunk_inputs = st.builds(
    sized_value,
    st.sampled_from(["json", "escapes", "ascii", "unicode", "cjk"]),
    st.one_of(
        st.integers(min_value=0, max_value=20_000), st.integers(min_value=3000, max_value=4100)
    ),
    st.integers(min_value=0, max_value=2**32),
)


@settings(max_examples=60, deadline=None)
@given(value=chunk_inputs, name=st.sampled_from([USER, TOKENS]), attributes=st.integers(0, 200))
@example(value="", name=USER, attributes=ATTRIBUTES)
@example(value="chunks-2", name=USER, attributes=ATTRIBUTES)
def test_chunking_round_trips_and_fits(value: str, name: str, attributes: int) -> None:
    cookies = chunk_cookies(SIGNER, name, value, NOW, attributes)
    for cookie_name, signed in cookies:
        assert len(cookie_name) + 1 + len(signed) + attributes <= MAX_COOKIE_BYTES
    names_written = [cookie_name for cookie_name, _ in cookies]
    if len(cookies) == 1:
        assert names_written == [name]
        assert SIGNER.unsign(name, cookies[0][1], NOW, MAX_AGE) == value
    else:
        assert names_written == [name] + [f"{name}_{index}" for index in range(1, len(cookies))]
        marker = SIGNER.unsign(name, cookies[0][1], NOW, MAX_AGE)
        assert marker == f"chunks-{len(cookies) - 1}"
    assert read_chunked(SIGNER, name, dict(cookies), NOW, MAX_AGE) == value
    assert chunk_names(name, names_written) == names_written[1:]


def test_a_small_value_is_one_cookie() -> None:
    [(name, signed)] = chunk_cookies(SIGNER, USER, '{"a": 1}', NOW, ATTRIBUTES)
    assert name == USER
    assert SIGNER.unsign(USER, signed, NOW, MAX_AGE) == '{"a": 1}'


@pytest.mark.parametrize("value", ["chunks-2", "chunks-0", "chunks-12 trailing", "chunks-٣"])
def test_values_that_look_like_a_chunk_count_round_trip(
    app_utils: ModuleType, auth_util: ModuleType, value: str
) -> None:
    now = int(time.time())
    cookies = dict(chunk_cookies(SIGNER, USER, value, now, ATTRIBUTES))
    assert read_chunked(SIGNER, USER, cookies, now, MAX_AGE) == value
    assert streamlit_reads(app_utils, auth_util, USER, cookies) == value.encode()


def test_limits_too_small_for_a_chunk_are_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        chunk_cookies(SIGNER, USER, "x" * 100, NOW, attributes_length=4050)
    with pytest.raises(ValueError, match="no room"):
        chunk_cookies(SIGNER, USER, "x" * 100, NOW, ATTRIBUTES, limit=60)


def big_value() -> str:
    return sized_value("ascii", 9000, 7)


def test_a_missing_or_bad_chunk_reads_as_none() -> None:
    cookies = dict(chunk_cookies(SIGNER, USER, big_value(), NOW, ATTRIBUTES))
    count = len(cookies) - 1
    assert count >= 3
    assert read_chunked(SIGNER, USER, cookies, NOW, MAX_AGE) == big_value()
    for index in range(1, count + 1):
        missing = {name: value for name, value in cookies.items() if name != f"{USER}_{index}"}
        assert read_chunked(SIGNER, USER, missing, NOW, MAX_AGE) is None
        forged = {**cookies, f"{USER}_{index}": cookies[f"{USER}_{index}"][:-1] + "A"}
        if forged != cookies:
            assert read_chunked(SIGNER, USER, forged, NOW, MAX_AGE) is None
    swapped = {**cookies, f"{USER}_1": cookies[f"{USER}_2"], f"{USER}_2": cookies[f"{USER}_1"]}
    assert read_chunked(SIGNER, USER, swapped, NOW, MAX_AGE) is None
    assert (
        read_chunked(SIGNER, USER, {k: v for k, v in cookies.items() if k != USER}, NOW, 9) is None
    )
    assert read_chunked(SIGNER, USER, cookies, NOW + MAX_AGE + 1, MAX_AGE) is None
    assert read_chunked(SIGNER, USER, {}, NOW, MAX_AGE) is None


def test_chunk_counts() -> None:
    zero = {USER: SIGNER.sign(USER, "chunks-0", NOW)}
    assert read_chunked(SIGNER, USER, zero, NOW, MAX_AGE) == ""
    huge = {USER: SIGNER.sign(USER, "chunks-" + "9" * 5000, NOW)}
    assert read_chunked(SIGNER, USER, huge, NOW, MAX_AGE) is None
    many = {USER: SIGNER.sign(USER, "chunks-999999999", NOW)}
    assert read_chunked(SIGNER, USER, many, NOW, MAX_AGE) is None


def test_chunk_names() -> None:
    present = [
        USER, TOKENS, f"{USER}_1", f"{USER}_12", f"{TOKENS}_1", f"{USER}_", f"{USER}_1a",
        f"{USER}__1", f"{USER}_²", f"{USER}_٣", f"{USER}_1", "other_1",
    ]  # fmt: skip
    assert chunk_names(USER, present) == [f"{USER}_1", f"{USER}_12"]
    assert chunk_names(TOKENS, present) == [f"{TOKENS}_1"]
    assert chunk_names(USER, []) == []


@given(st.lists(st.text(alphabet="_streamlituokn0123456789a", max_size=30)))
def test_chunk_names_as_streamlit_for_ascii_names(cookie_names: list[str]) -> None:
    """Streamlit's rule (`_clear_single_auth_cookie_and_chunks`), on ASCII names."""
    prefix = f"{USER}_"
    expected = [n for n in cookie_names if n.startswith(prefix) and n[len(prefix) :].isdigit()]
    assert chunk_names(USER, cookie_names) == list(dict.fromkeys(expected))


# --- chunking: compatibility with Streamlit's own code path -----------------------------


def streamlit_writes(
    auth_util: ModuleType,
    name: str,
    value: dict[str, Any],
    signed: Callable[[str, str], bytes],
    attributes: int = ATTRIBUTES,
) -> list[tuple[str, str]]:
    """The (name, signed value) pairs Streamlit's `set_cookie_with_chunks` sets."""
    written: list[tuple[str, str]] = []
    auth_util.set_cookie_with_chunks(
        lambda cookie_name, plain: written.append(
            (cookie_name, signed(cookie_name, plain).decode("latin-1"))
        ),
        signed,
        name,
        value,
        cookie_attr_size=attributes,
    )
    return written


def streamlit_reads(
    app_utils: ModuleType, auth_util: ModuleType, name: str, cookies: dict[str, str]
) -> bytes | None:
    """What Streamlit's `get_cookie_with_chunks` reads (as `starlette_websocket` calls it)."""

    def single(cookie_name: str) -> bytes | None:
        raw = cookies.get(cookie_name)
        if raw is None:
            return None
        decoded: bytes | None = app_utils.decode_signed_value(
            SECRET, cookie_name, raw.encode("latin-1")
        )
        return decoded

    result: bytes | None = auth_util.get_cookie_with_chunks(single, name)
    return result


def user_claims(size: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    return {
        "email": "someone@example.com",
        "name": "Ünïcödé Nàmé",
        "groups": [f"group-{rng.randrange(10**6)}" for _ in range(size)],
        "is_logged_in": True,
        "origin": "http://localhost:8501",
    }


@pytest.mark.parametrize(("size", "seed"), [(1, 0), (200, 1), (600, 2), (1500, 3)])
def test_we_read_what_streamlit_writes(
    app_utils: ModuleType, auth_util: ModuleType, size: int, seed: int
) -> None:
    claims = user_claims(size, seed)
    written = streamlit_writes(
        auth_util, USER, claims, lambda n, v: app_utils.create_signed_value(SECRET, n, v)
    )
    assert read_chunked(SIGNER, USER, dict(written), int(time.time()), MAX_AGE) == json.dumps(
        claims
    )
    assert chunk_names(USER, dict(written)) == [name for name, _ in written[1:]]


@pytest.mark.parametrize(
    "value",
    [
        json.dumps(user_claims(1500, 3)),
        sized_value("unicode", 6000, 1),
        sized_value("escapes", 9000, 2),
    ],
)
def test_streamlit_reads_what_we_write(
    app_utils: ModuleType, auth_util: ModuleType, value: str
) -> None:
    cookies = dict(chunk_cookies(SIGNER, TOKENS, value, int(time.time()), ATTRIBUTES))
    assert len(cookies) > 2
    assert streamlit_reads(app_utils, auth_util, TOKENS, cookies) == value.encode()


@settings(max_examples=30, deadline=None)
@given(size=st.integers(min_value=0, max_value=1500), seed=st.integers(0, 2**32))
def test_we_split_as_streamlit_where_its_cookies_fit(
    auth_util: ModuleType, size: int, seed: int
) -> None:
    claims = user_claims(size, seed)
    theirs = streamlit_writes(auth_util, USER, claims, lambda n, v: SIGNER.sign(n, v, NOW).encode())
    ours = chunk_cookies(SIGNER, USER, json.dumps(claims), NOW, ATTRIBUTES)
    assert all(len(n) + 1 + len(v) + ATTRIBUTES <= MAX_COOKIE_BYTES for n, v in theirs)
    assert ours == theirs


def test_where_streamlits_estimate_fails_ours_still_fits(auth_util: ModuleType) -> None:
    """Streamlit's base64 * 3/4 estimate holds for the ASCII JSON it stores (`json.dumps`
    escapes non-ASCII), not for high-entropy non-ASCII text: its splitter, given such a
    string directly, writes cookies over the limit; ours never does."""
    value = sized_value("cjk", 6000, 5)
    theirs: list[tuple[str, str]] = []
    auth_util._set_split_cookie(
        lambda n, v: theirs.append((n, SIGNER.sign(n, v, NOW))),
        lambda n, v: SIGNER.sign(n, v, NOW).encode(),
        USER,
        value,
        cookie_attr_size=ATTRIBUTES,
    )
    assert any(len(n) + 1 + len(v) + ATTRIBUTES > MAX_COOKIE_BYTES for n, v in theirs)
    ours = chunk_cookies(SIGNER, USER, value, NOW, ATTRIBUTES)
    assert all(len(n) + 1 + len(v) + ATTRIBUTES <= MAX_COOKIE_BYTES for n, v in ours)
    assert read_chunked(SIGNER, USER, dict(ours), NOW, MAX_AGE) == value
