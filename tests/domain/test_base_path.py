"""`normalize_base_path`: `server.baseUrlPath` as every route and cookie will use it."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hexlit.domain.base_path import normalize_base_path

raw_paths = st.text(max_size=30) | st.text(alphabet="/ \tab.-", max_size=20)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("", ""),
        ("/", ""),
        ("//", ""),
        ("  /  ", ""),
        ("a", "/a"),
        ("/a", "/a"),
        ("a/", "/a"),
        ("a/b/", "/a/b"),
        ("/a/b", "/a/b"),
        ("//a/b//", "/a/b"),
        (" /app/ ", "/app"),
        ("a//b", "/a//b"),  # inner slashes are the user's business
    ],
)
def test_the_rule(raw: str, normal: str) -> None:
    assert normalize_base_path(raw) == normal


@settings(max_examples=150)
@given(raw_paths)
def test_empty_or_one_leading_slash_and_no_trailing_slash(raw: str) -> None:
    path = normalize_base_path(raw)
    if path:
        assert path.startswith("/")
        assert not path.startswith("//")
        assert not path.endswith("/")


@settings(max_examples=150)
@given(st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True), max_size=4))
def test_segments_are_kept_whatever_the_slashes_around_them(segments: list[str]) -> None:
    joined = "/".join(segments)
    expected = f"/{joined}" if joined else ""
    for raw in (joined, f"/{joined}", f"{joined}/", f"//{joined}//"):
        assert normalize_base_path(raw) == expected


@settings(max_examples=150)
@given(raw_paths)
@example("a /")
@example("a/\t/")
def test_idempotent(raw: str) -> None:
    once = normalize_base_path(raw)
    assert normalize_base_path(once) == once


@settings(max_examples=150)
@given(st.text(alphabet=st.characters().filter(lambda c: not c.isspace()), max_size=30))
def test_idempotent_without_whitespace(raw: str) -> None:
    once = normalize_base_path(raw)
    assert normalize_base_path(once) == once
