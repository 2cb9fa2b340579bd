"""`parse_range`: one `Range` header against content of `size` bytes (spec §1.3.6).

The property tests compare the parser with a reference model that works on the
header's parts (unit, form, numbers) rather than on its text, and checks the outcome
with Python's slice semantics on `range(size)` (no bytes are allocated).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexlit.domain.byte_range import ByteRange, parse_range
from hexlit.ports.errors import HexlitError, RangeNotSatisfiable

MAX_SIZE = 10**6

sizes = st.one_of(
    st.integers(min_value=0, max_value=MAX_SIZE),
    st.integers(min_value=0, max_value=8),
)
numbers = st.one_of(
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=0, max_value=MAX_SIZE + 10),
    st.integers(min_value=0, max_value=10**40),
)
leading_zeros = st.text(alphabet="0", max_size=3)
ows = st.text(alphabet=" \t", max_size=2)
units = st.sampled_from(["bytes", "BYTES", "Bytes", "bYtEs", "items", "byte", "", "bytes2"])


@dataclass(frozen=True)
class Spec:
    """One range of a header, by parts: `a-b`, `a-` (end None) or `-n` (start None)."""

    start: int | None
    end: int | None


@dataclass(frozen=True)
class Header:
    unit: str
    specs: tuple[Spec, ...]
    text: str


def render_number(value: int, zeros: str) -> str:
    return zeros + str(value)


@st.composite
def specs(draw: st.DrawFn) -> tuple[Spec, str]:
    form = draw(st.sampled_from(["a-b", "a-", "-n"]))
    pad = [draw(ows) for _ in range(4)]
    if form == "-n":
        count = draw(numbers)
        text = f"{pad[0]}-{pad[1]}{render_number(count, draw(leading_zeros))}{pad[2]}"
        return Spec(None, count), text
    start = draw(numbers)
    start_text = render_number(start, draw(leading_zeros))
    if form == "a-":
        return Spec(start, None), f"{pad[0]}{start_text}{pad[1]}-{pad[2]}"
    end = draw(numbers)
    end_text = render_number(end, draw(leading_zeros))
    return Spec(start, end), f"{pad[0]}{start_text}{pad[1]}-{pad[2]}{end_text}{pad[3]}"


@st.composite
def headers(draw: st.DrawFn) -> Header:
    unit = draw(units)
    drawn = draw(st.lists(specs(), min_size=1, max_size=3))
    text = f"{draw(ows)}{unit}{draw(ows)}=" + ",".join(spec_text for _, spec_text in drawn)
    return Header(unit, tuple(spec for spec, _ in drawn), text)


def reference(header: Header, size: int) -> range | None:
    """The bytes (as a slice of `range(size)`) the header selects; None: unsatisfiable."""
    everything = range(size)
    if size == 0 or header.unit.lower() != "bytes" or len(header.specs) != 1:
        return None
    (spec,) = header.specs
    if spec.start is None:
        assert spec.end is not None
        return everything[-spec.end :] if spec.end > 0 else None
    if spec.start >= size or (spec.end is not None and spec.start > spec.end):
        return None
    return everything[spec.start :] if spec.end is None else everything[spec.start : spec.end + 1]


def check_outcome(header: str, size: int) -> ByteRange | None:
    """Run the parser; it either returns a range inside the content or raises 416."""
    try:
        result = parse_range(header, size)
    except RangeNotSatisfiable as error:
        refused_size = error.size
    else:
        assert result is not None
        assert 0 <= result.start <= result.end < size
        assert result.length == result.end - result.start + 1
        return result
    assert refused_size == size
    return None


@settings(max_examples=150, deadline=None)
@given(headers(), sizes)
def test_matches_the_reference_model(header: Header, size: int) -> None:
    expected = reference(header, size)
    result = check_outcome(header.text, size)
    if expected is None:
        assert result is None
    else:
        assert result is not None
        assert range(size)[result.start : result.end + 1] == expected
        assert result.length == len(expected)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet="bytesBYTES=-,0123456789 \t+_x\u0663", max_size=30),
    ),
    sizes,
)
def test_any_text_yields_a_range_inside_the_content_or_416(header: str, size: int) -> None:
    if not header.strip(" \t"):
        assert parse_range(header, size) is None
    else:
        check_outcome(header, size)


@given(sizes)
def test_no_header_or_a_blank_one_serves_everything(size: int) -> None:
    assert parse_range(None, size) is None
    assert parse_range("", size) is None
    assert parse_range(" \t", size) is None


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=0-9", 10, (0, 9)),
        ("bytes=2-5", 10, (2, 5)),
        ("bytes=2-500", 10, (2, 9)),  # end clamped
        ("bytes=9-9", 10, (9, 9)),
        ("bytes=3-", 10, (3, 9)),
        ("bytes=0-", 1, (0, 0)),
        ("bytes=-1", 10, (9, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-10", 10, (0, 9)),
        ("bytes=-11", 10, (0, 9)),  # suffix longer than the content: everything
        ("BYTES=1-2", 10, (1, 2)),
        ("Bytes=1-2", 10, (1, 2)),
        (" bytes = 1 - 2 ", 10, (1, 2)),
        ("bytes=\t-\t4", 10, (6, 9)),
        ("bytes=0001-0002", 10, (1, 2)),
        ("bytes=0-" + "9" * 5000, 10, (0, 9)),  # far beyond int()'s digit limit
        ("bytes=-" + "9" * 5000, 10, (0, 9)),
        ("bytes=" + "0" * 5000 + "4-", 10, (4, 9)),
    ],
)
def test_satisfiable_ranges(header: str, size: int, expected: tuple[int, int]) -> None:
    assert parse_range(header, size) == ByteRange(*expected)


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=0-0", 0),  # any range on empty content
        ("bytes=-1", 0),
        ("bytes=0-", 0),
        ("bytes=10-", 10),  # start at the size
        ("bytes=11-20", 10),
        ("bytes=" + "9" * 5000 + "-", 10),
        ("bytes=" + "9" * 5000 + "-" + "9" * 4999, 10),
        ("bytes=5-4", 10),  # start after end
        ("bytes=-0", 10),  # empty suffix
        ("bytes=-000", 10),
        ("bytes=0-1,3-4", 10),  # several ranges
        ("bytes=0-1,", 10),
        ("bytes=,0-1", 10),
        ("items=0-1", 10),  # other units
        ("byte=0-1", 10),
        ("bytes2=0-1", 10),
        ("=0-1", 10),
        ("byte\u017f=0-1", 10),  # LONG S: matches `s` only under Unicode case folding
        ("bytes 0-1", 10),  # malformed
        ("bytes=", 10),
        ("bytes=-", 10),
        ("bytes=--1", 10),
        ("bytes=1--2", 10),
        ("bytes=1-2-3", 10),
        ("bytes=+1-2", 10),
        ("bytes=1-+2", 10),
        ("bytes=-+2", 10),
        ("bytes=1_0-20", 10),
        ("bytes=\u0663-4", 10),  # ARABIC-INDIC DIGIT THREE: a digit to int(), not to HTTP
        ("bytes=0x1-2", 10),
        ("bytes=1 2-3", 10),
        ("bytes=a-b", 10),
        ("bytes=0-1\n", 10),
        ("bytes=0-1=", 10),
        ("bytes==0-1", 10),
    ],
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.size == size
    assert isinstance(caught.value, HexlitError)
    assert caught.value.reason


def test_content_range_strings() -> None:
    assert ByteRange(0, 9).content_range(10) == "bytes 0-9/10"
    assert ByteRange(7, 9).content_range(1000) == "bytes 7-9/1000"


def test_range_lengths() -> None:
    assert ByteRange(0, 0).length == 1
    assert ByteRange(3, 9).length == 7


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (4, 3), (-2, -1)])
def test_a_range_is_never_empty_or_negative(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="invalid byte range"):
        ByteRange(start, end)


def test_a_negative_size_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_range("bytes=0-1", -1)
