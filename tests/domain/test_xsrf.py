"""The `_streamlit_xsrf` token (spec §4.1): encoding, tolerant decoding, validation.

Compatibility is checked against the real implementations (the dev extra installs them):
Tornado's `RequestHandler._decode_xsrf_token` and `xsrf_token` algorithm (Streamlit
≤ 1.56) and Streamlit 1.67's `starlette_app_utils`.
"""

from __future__ import annotations

import binascii
import importlib
import re
from types import ModuleType

import pytest
import tornado.util
import tornado.web
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hexlit.domain.xsrf import (
    XSRF_COOKIE,
    XsrfToken,
    cookie_value_for,
    decode_token,
    encode_token,
    tokens_match,
)

token_bytes = st.binary(min_size=16, max_size=16)
masks = st.binary(min_size=4, max_size=4)
timestamps = st.one_of(
    st.integers(min_value=1_600_000_000, max_value=2_000_000_000),
    st.integers(min_value=0, max_value=10**20 - 1),
)
xsrf_tokens = st.builds(XsrfToken, token_bytes, timestamps)
HEX = "0123456789abcdef"
near_misses = st.one_of(
    st.text(),
    st.text(alphabet=HEX + "ABCDEF|%7Cc2\"' -+x", max_size=60),
    st.builds(
        lambda version, mask, masked, stamp, sep: sep.join([version, mask, masked, stamp]),
        st.sampled_from(["2", "1", "3", "02", "", " 2"]),
        st.text(alphabet=HEX + "AG", min_size=6, max_size=10),
        st.text(alphabet=HEX + "AG", min_size=30, max_size=34),
        st.text(alphabet="0123456789+- _", max_size=24),
        st.sampled_from(["|", "%7C", "%7c", "||", ","]),
    ),
)
disguised_encodings = st.builds(
    lambda token, mask, bar, quote, v1: (
        quote
        + (token.token.hex() if v1 else bar.join(encode_token(token, mask).split("|")))
        + quote
    ),
    xsrf_tokens,
    masks,
    st.sampled_from(["|", "%7C", "%7c"]),
    st.sampled_from(["", '"', '""']),
    st.booleans(),
)
"""Decodable values as proxies and browsers may pass them on."""

TOKEN = bytes(range(16))
MASK = b"\x01\x02\x03\x04"
NOW = 1_700_000_000
OTHER = bytes(range(16, 32))


def reference_xor(mask: bytes, data: bytes) -> bytes:
    return bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))


def tornado_v2(token: bytes, mask: bytes, timestamp: int) -> str:
    """The v2 value `RequestHandler.xsrf_token` writes, with Tornado's own mask function."""
    masked = tornado.util._websocket_mask(mask, token)
    return b"|".join(
        [b"2", binascii.b2a_hex(mask), binascii.b2a_hex(masked), str(timestamp).encode()]
    ).decode("ascii")


def tornado_decode(value: str) -> tuple[int | None, bytes | None, float | None]:
    """Tornado's own decoder; it reads nothing of the handler it is a method of."""
    return tornado.web.RequestHandler._decode_xsrf_token(object(), value)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def streamlit_utils() -> ModuleType:
    """Streamlit 1.67's XSRF helpers (imported once: the import takes a while)."""
    utils: ModuleType = importlib.import_module(
        "streamlit.web.server.starlette.starlette_app_utils"
    )
    return utils


def test_cookie_name() -> None:
    assert XSRF_COOKIE == "_streamlit_xsrf"


@given(xsrf_tokens, masks)
def test_round_trip(token: XsrfToken, mask: bytes) -> None:
    encoded = encode_token(token, mask)
    assert re.fullmatch(r"2\|[0-9a-f]{8}\|[0-9a-f]{32}\|(0|[1-9][0-9]*)", encoded)
    assert encoded.split("|")[1] == mask.hex()
    assert bytes.fromhex(encoded.split("|")[2]) == reference_xor(mask, token.token)
    assert decode_token(encoded) == token


def test_example_encoding() -> None:
    encoded = encode_token(XsrfToken(TOKEN, NOW), b"abcd")
    assert encoded == "2|61626364|6163616765676563696b696f6d6f6d6b|1700000000"


@settings(max_examples=150)
@given(xsrf_tokens, masks, st.data())
def test_one_changed_character_never_yields_the_same_value(
    token: XsrfToken, mask: bytes, data: st.DataObject
) -> None:
    original = encode_token(token, mask)
    index = data.draw(st.integers(min_value=0, max_value=len(original) - 1))
    replacement = data.draw(
        st.one_of(st.sampled_from(HEX + 'ABCDEF|%"2 '), st.characters()).filter(
            lambda char: char != original[index]
        )
    )
    tampered = original[:index] + replacement + original[index + 1 :]
    decoded = decode_token(tampered)
    assert decoded is None or decoded != token
    same_token = decoded is not None and decoded.token == token.token
    assert tokens_match(tampered, [original]) is same_token
    assert tokens_match(original, [tampered]) is same_token
    if same_token:
        # Only the timestamp changed: it is not authenticated (nor is it in Tornado).
        assert decoded is not None
        assert decoded.timestamp != token.timestamp
        assert tampered.rsplit("|", 1)[0] == original.rsplit("|", 1)[0]


def test_the_timestamp_is_not_authenticated() -> None:
    original = encode_token(XsrfToken(TOKEN, NOW), MASK)
    tampered = original.rsplit("|", 1)[0] + "|42"
    assert decode_token(tampered) == XsrfToken(TOKEN, 42)
    assert tokens_match(tampered, [original])


@given(xsrf_tokens, masks, st.lists(st.sampled_from(["%7C", "%7c", "|"]), min_size=3, max_size=3))
def test_percent_encoded_bars_are_tolerated(token: XsrfToken, mask: bytes, bars: list[str]) -> None:
    parts = encode_token(token, mask).split("|")
    proxied = parts[0] + "".join(bar + part for bar, part in zip(bars, parts[1:], strict=True))
    assert decode_token(proxied) == token
    assert tokens_match(proxied, [encode_token(token, b"\xff\xee\xdd\xcc")])


def test_quoted_values_are_tolerated() -> None:
    encoded = encode_token(XsrfToken(TOKEN, NOW), MASK)
    assert decode_token(f'"{encoded}"') == XsrfToken(TOKEN, NOW)
    assert decode_token(f'"{TOKEN.hex()}"') == XsrfToken(TOKEN, 0)
    assert tokens_match(encoded, [f'"{encode_token(XsrfToken(TOKEN, NOW), b"wxyz")}"'])
    assert tokens_match(f'"{encoded}"', [encoded])


def test_version_1_tokens_are_read_without_a_timestamp() -> None:
    assert decode_token(TOKEN.hex()) == XsrfToken(TOKEN, 0)
    assert tokens_match(TOKEN.hex(), [encode_token(XsrfToken(TOKEN, NOW), MASK)])
    assert tokens_match(encode_token(XsrfToken(TOKEN, NOW), MASK), [TOKEN.hex()])


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        '""',
        "2",
        "2|",
        "2|||",
        "1|01020304|" + "00" * 16 + "|1",  # unknown version
        "3|01020304|" + "00" * 16 + "|1",
        "02|01020304|" + "00" * 16 + "|1",
        "2|0102030|" + "00" * 16 + "|1",  # short mask
        "2|0102030405|" + "00" * 16 + "|1",  # long mask
        "2|01020304|" + "00" * 15 + "|1",  # short token
        "2|01020304|" + "00" * 17 + "|1",  # long token
        "2|01020304|" + "00" * 16 + "|",  # no timestamp
        "2|01020304|" + "00" * 16 + "|-1",
        "2|01020304|" + "00" * 16 + "|+1",
        "2|01020304|" + "00" * 16 + "|1_0",
        "2|01020304|" + "00" * 16 + "|1.5",
        "2|01020304|" + "00" * 16 + "|" + "9" * 21,
        "2|01020304|" + "00" * 16 + "|" + "9" * 5000,  # beyond int()'s digit limit
        "2|01020304|" + "00" * 16 + "|\u0661",  # ARABIC-INDIC DIGIT ONE
        "2|01020304|" + "00" * 16 + "|1|",
        "2|01020304|" + "00" * 16 + "|1\n",
        "2|0102030g|" + "00" * 16 + "|1",
        "2|01020304|" + "0 " * 16 + "|1",  # bytes.fromhex would skip the spaces
        "2|0102030A|" + "00" * 16 + "|1",  # uppercase hex: neither Tornado nor Streamlit writes it
        TOKEN.hex().upper(),
        TOKEN.hex()[:-2],  # v1 of the wrong length
        TOKEN.hex() + "00",
        "not a token",
        "PLACEHOLDER_AUTH_TOKEN",  # what the frontend sends when it has no cookie
    ],
)
def test_undecodable_values(value: str | None) -> None:
    assert decode_token(value) is None
    assert not tokens_match(value, [encode_token(XsrfToken(TOKEN, NOW), MASK)])
    if value is not None:
        assert not tokens_match(encode_token(XsrfToken(TOKEN, NOW), MASK), [value])


@given(near_misses)
@example("2%7C")
@example('"')
def test_garbage_never_raises(value: str) -> None:
    decoded = decode_token(value)
    assert decoded is None or isinstance(decoded, XsrfToken)
    tokens_match(value, [value, "garbage"])
    cookie_value_for([value], TOKEN, MASK, NOW)


def test_every_cookie_of_the_name_is_tried() -> None:
    supplied = encode_token(XsrfToken(TOKEN, NOW), MASK)
    other = encode_token(XsrfToken(OTHER, NOW), MASK)
    matching = encode_token(XsrfToken(TOKEN, NOW - 5), b"zzzz")
    assert tokens_match(supplied, [other, "garbage", matching])
    assert tokens_match(supplied, [matching, other])
    assert not tokens_match(supplied, [other, "garbage"])
    assert not tokens_match(supplied, [])
    assert not tokens_match(None, [matching])
    assert not tokens_match("", [matching])


@given(token_bytes, token_bytes, masks, masks)
def test_tokens_match_compares_token_bytes_only(
    first: bytes, second: bytes, mask_a: bytes, mask_b: bytes
) -> None:
    a = encode_token(XsrfToken(first, 1), mask_a)
    b = encode_token(XsrfToken(second, 2), mask_b)
    assert tokens_match(a, [b]) is (first == second)


def test_cookie_value_keeps_the_existing_token_under_a_new_mask() -> None:
    existing = encode_token(XsrfToken(TOKEN, NOW - 100), MASK)
    value = cookie_value_for(["garbage", existing], OTHER, b"wxyz", NOW)
    assert value == encode_token(XsrfToken(TOKEN, NOW - 100), b"wxyz")
    assert value != existing
    assert tokens_match(value, [existing])


def test_cookie_value_uses_the_first_decodable_cookie() -> None:
    first = encode_token(XsrfToken(OTHER, 5), MASK)
    second = encode_token(XsrfToken(TOKEN, 6), MASK)
    assert decode_token(cookie_value_for([first, second], TOKEN, MASK, NOW)) == XsrfToken(OTHER, 5)


def test_cookie_value_upgrades_a_version_1_cookie_with_the_current_time() -> None:
    assert decode_token(cookie_value_for([TOKEN.hex()], OTHER, MASK, NOW)) == XsrfToken(TOKEN, NOW)


@pytest.mark.parametrize("existing", [[], ["garbage"], ["", "2|x|y|z"]])
def test_cookie_value_starts_a_fresh_token_without_a_usable_cookie(existing: list[str]) -> None:
    assert cookie_value_for(existing, OTHER, MASK, NOW) == encode_token(XsrfToken(OTHER, NOW), MASK)


def test_cookie_values_are_raw() -> None:
    value = cookie_value_for(
        ["%7C".join(encode_token(XsrfToken(TOKEN, 1), MASK).split("|"))], OTHER, MASK, NOW
    )
    assert "%" not in value
    assert '"' not in value
    assert value.count("|") == 3


@pytest.mark.parametrize("token", [b"", b"\x00" * 15, b"\x00" * 17])
def test_a_token_is_16_bytes(token: bytes) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        XsrfToken(token, NOW)


@pytest.mark.parametrize("timestamp", [-1, 10**20])
def test_a_timestamp_fits_the_format(timestamp: int) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        XsrfToken(TOKEN, timestamp)


@pytest.mark.parametrize("mask", [b"", b"\x00" * 3, b"\x00" * 5])
def test_a_mask_is_4_bytes(mask: bytes) -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        encode_token(XsrfToken(TOKEN, NOW), mask)


# --- compatibility with the real implementations ---------------------------------------


@given(token_bytes, masks, timestamps)
def test_reads_what_tornado_writes(token: bytes, mask: bytes, timestamp: int) -> None:
    assert decode_token(tornado_v2(token, mask, timestamp)) == XsrfToken(token, timestamp)
    assert decode_token(binascii.b2a_hex(token).decode("ascii")) == XsrfToken(token, 0)


@given(xsrf_tokens, masks)
def test_tornado_reads_what_hexlit_writes(token: XsrfToken, mask: bytes) -> None:
    assert tornado_decode(encode_token(token, mask)) == (2, token.token, token.timestamp)


@given(st.one_of(near_misses, disguised_encodings))
def test_whatever_hexlit_reads_tornado_reads_alike(value: str) -> None:
    decoded = decode_token(value)
    if decoded is None:
        return
    unquoted = value.strip('"').replace("%7C", "|").replace("%7c", "|")
    version, token, timestamp = tornado_decode(unquoted)
    assert token == decoded.token
    if version == 2:
        assert timestamp == decoded.timestamp


@given(token=xsrf_tokens)
def test_reads_what_streamlit_writes(streamlit_utils: ModuleType, token: XsrfToken) -> None:
    written = streamlit_utils.generate_xsrf_token_string(token.token, token.timestamp)
    assert decode_token(written) == token


@given(token=xsrf_tokens, mask=masks, other=token_bytes)
def test_streamlit_validates_what_hexlit_writes(
    streamlit_utils: ModuleType, token: XsrfToken, mask: bytes, other: bytes
) -> None:
    utils = streamlit_utils
    encoded = encode_token(token, mask)
    assert utils.decode_xsrf_token_string(encoded) == (token.token, token.timestamp)
    assert utils.validate_xsrf_token(encoded, encode_token(token, b"\x00\x00\x00\x00"))
    other_cookie = encode_token(XsrfToken(other, token.timestamp), mask)
    assert utils.validate_xsrf_token(encoded, other_cookie) is tokens_match(encoded, [other_cookie])


def test_tornado_masks_like_hexlit() -> None:
    assert tornado.util._websocket_mask(MASK, TOKEN) == reference_xor(MASK, TOKEN)
    assert encode_token(XsrfToken(TOKEN, NOW), MASK) == tornado_v2(TOKEN, MASK, NOW)
