"""`parse_offer`: the Streamlit frontend's `Sec-WebSocket-Protocol` list, by position.

A present header must be a list of RFC 7230 tokens (empty entries allowed, at least one
not empty, at most `MAX_HEADER_LENGTH` characters); anything else is a `BadRequest`.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hexlit.domain.subprotocol import MAX_HEADER_LENGTH, StreamOffer, is_session_id, parse_offer
from hexlit.ports.errors import BadRequest

TOKEN_ALPHABET = "!#$%&'*+.^_`|~-" + string.ascii_letters + string.digits
SESSION_ALPHABET = string.ascii_letters + string.digits + "-"

tokens = st.text(alphabet=TOKEN_ALPHABET, min_size=1, max_size=40)
session_ids = st.text(alphabet=SESSION_ALPHABET, min_size=1, max_size=64)
padding = st.text(alphabet=" \t", max_size=3)
xsrf_v2_tokens = st.builds(
    lambda mask, digest, stamp: f"2|{mask}|{digest}|{stamp}",
    st.text(alphabet="0123456789abcdef", min_size=8, max_size=8),
    st.text(alphabet="0123456789abcdef", min_size=32, max_size=64),
    st.integers(min_value=0, max_value=2**34),
)


def looks_like_session_id(candidate: str) -> bool:
    """The rule, written independently of the regex under test."""
    return 1 <= len(candidate) <= 64 and all(c in SESSION_ALPHABET for c in candidate)


def is_token_list(header: str) -> bool:
    """The acceptance rule, written independently of the parser under test."""
    entries = [entry.strip(" \t") for entry in header.split(",")]
    return (
        len(header) <= MAX_HEADER_LENGTH
        and any(entries)
        and all(all(c in TOKEN_ALPHABET for c in entry) for entry in entries)
    )


def test_no_header_offers_nothing() -> None:
    assert parse_offer(None) == StreamOffer(None, None, None)


@pytest.mark.parametrize("blank", ["", " ", "\t", ",", " , , ", ",,,"])
def test_a_blank_header_is_refused(blank: str) -> None:
    with pytest.raises(BadRequest):
        parse_offer(blank)


def test_the_frontends_three_entries() -> None:
    offer = parse_offer("streamlit, 2|1a2b3c4d|abcdef0123456789|1700000000, s-1")
    assert offer == StreamOffer("streamlit", "2|1a2b3c4d|abcdef0123456789|1700000000", "s-1")


def test_empty_entries_keep_positions() -> None:
    assert parse_offer("streamlit,,s-1") == StreamOffer("streamlit", None, "s-1")
    assert parse_offer(",token,s-1") == StreamOffer(None, "token", "s-1")
    assert parse_offer("streamlit, token") == StreamOffer("streamlit", "token", None)
    assert parse_offer("streamlit") == StreamOffer("streamlit", None, None)


def test_entries_past_the_third_are_ignored() -> None:
    assert parse_offer("a, b, c, d, e") == StreamOffer("a", "b", "c")


@pytest.mark.parametrize(
    "header",
    [
        "streamlit, bad token, s-1",
        '"streamlit", tok, s-1',
        "streamlit, tok, s 1",
        "streamlit;v=1, tok",
        "streamlit, tök",
        "streamlit,\ntok",
    ],
)
def test_an_entry_that_is_not_a_token_refuses_the_header(header: str) -> None:
    with pytest.raises(BadRequest):
        parse_offer(header)


def test_header_length_boundary() -> None:
    prefix, suffix = "streamlit, ", ", s-1"
    token = "a" * (MAX_HEADER_LENGTH - len(prefix) - len(suffix))
    at_limit = prefix + token + suffix
    assert len(at_limit) == MAX_HEADER_LENGTH
    assert parse_offer(at_limit) == StreamOffer("streamlit", token, "s-1")
    with pytest.raises(BadRequest):
        parse_offer(at_limit + " ")


@settings(max_examples=200)
@given(
    st.one_of(st.none(), tokens),
    st.one_of(st.none(), tokens),
    st.one_of(st.none(), session_ids),
)
def test_positions_are_kept_when_entries_are_empty(
    selected: str | None, token: str | None, session_id: str | None
) -> None:
    assume(any((selected, token, session_id)))  # an all-blank header is refused
    header = ",".join(entry or "" for entry in (selected, token, session_id))
    assert parse_offer(header) == StreamOffer(selected, token, session_id)


@settings(max_examples=200)
@given(tokens, tokens, session_ids, st.lists(padding, min_size=6, max_size=6))
def test_whitespace_around_entries_is_stripped(
    selected: str, token: str, session_id: str, pads: list[str]
) -> None:
    entries = (selected, token, session_id)
    header = ",".join(f"{pads[2 * i]}{entry}{pads[2 * i + 1]}" for i, entry in enumerate(entries))
    assert parse_offer(header) == StreamOffer(selected, token, session_id)


@settings(max_examples=100)
@given(xsrf_v2_tokens, st.uuids())
def test_streamlit_xsrf_v2_token_and_uuid_session(token: str, session: object) -> None:
    offer = parse_offer(f"streamlit, {token}, {session}")
    assert offer == StreamOffer("streamlit", token, str(session))


@settings(max_examples=200)
@given(
    tokens.filter(lambda candidate: not looks_like_session_id(candidate))
    | st.text(alphabet=SESSION_ALPHABET, min_size=65, max_size=100)
)
def test_ill_formed_session_ids_are_dropped(candidate: str) -> None:
    offer = parse_offer(f"streamlit, token, {candidate}")
    assert offer == StreamOffer("streamlit", "token", None)


@settings(max_examples=300)
@given(st.text())
def test_is_session_id_is_the_documented_rule(candidate: str) -> None:
    assert is_session_id(candidate) == looks_like_session_id(candidate)


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(), max_size=200) | st.text(alphabet=",\t a|-", max_size=50))
def test_refuses_exactly_the_headers_that_are_not_token_lists(header: str) -> None:
    try:
        offer = parse_offer(header)
    except BadRequest:
        assert not is_token_list(header)
        return
    assert is_token_list(header)
    for entry in (offer.selected, offer.token, offer.session_id):
        assert entry is None or (entry and all(c in TOKEN_ALPHABET for c in entry))
    assert offer.session_id is None or looks_like_session_id(offer.session_id)


@settings(max_examples=30)
@given(tokens, tokens, session_ids, st.integers(min_value=1, max_value=3 * MAX_HEADER_LENGTH))
def test_headers_over_the_limit_are_refused(
    selected: str, token: str, session_id: str, extra: int
) -> None:
    header = f"{selected}, {token}, {session_id}"
    header += " " * (MAX_HEADER_LENGTH - len(header) + extra)
    assert len(header) > MAX_HEADER_LENGTH
    assert parse_offer(header.strip()) == StreamOffer(selected, token, session_id)
    with pytest.raises(BadRequest):
        parse_offer(header)


@settings(max_examples=200)
@given(tokens, tokens | xsrf_v2_tokens, session_ids | st.uuids().map(str))
def test_round_trip(selected: str, token: str, session_id: str) -> None:
    offer = parse_offer(", ".join((selected, token, session_id)))
    assert (offer.selected, offer.token, offer.session_id) == (selected, token, session_id)
