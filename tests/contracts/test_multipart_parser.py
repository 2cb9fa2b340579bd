"""The `MultipartParser` contract over its adapter (python-multipart), and `boundary_of`:
`multipart/form-data` bodies fed in any chunks.

A reference encoder, written here independently of the parser, builds bodies from lists
of parts. The properties: any chunking (byte by byte included) gives back the encoded
parts; the parser never holds more than a delimiter's worth of a part's data, nor more
than its headers limit; any strict prefix of a body is refused, never accepted.
"""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hexlit.adapters.formats.multipart import PythonMultipart, PythonMultipartBody, boundary_of
from hexlit.ports.errors import BadRequest
from hexlit.ports.multipart import Event, MultipartLimits, PartData, PartEnd, PartStart

BCHARS = string.ascii_letters + string.digits + "'()+_,-./:=? "
WEBKIT = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
SLACK = 8
"""How many bytes beyond a delimiter (or the headers limit) the parser may hold back."""


def new_parser(
    boundary: bytes, max_header_bytes: int = 16 * 1024, max_parts: int = 64
) -> PythonMultipartBody:
    """The `MultipartBody` under contract (the only implementation: ADR 0021)."""
    return PythonMultipartBody(boundary, MultipartLimits(max_header_bytes, max_parts))


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes
    extended: bool = False
    """Send the filename as RFC 5987 `filename*` (with a plain `filename` fallback)."""
    disposition_header: str = "Content-Disposition"


Parsed = tuple[str, str | None, str | None, bytes]


class Sample(NamedTuple):
    boundary: bytes
    body: bytes
    parts: list[Part]
    epilogue: bytes


def quoted(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return b'"' + escaped.encode() + b'"'


def encode_part_headers(part: Part) -> bytes:
    disposition = part.disposition_header.encode() + b": form-data; name=" + quoted(part.name)
    if part.filename is not None:
        if part.extended:
            encoded = quote(part.filename, safe="").encode()
            disposition += b"; filename=\"fallback.bin\"; filename*=UTF-8''" + encoded
        else:
            disposition += b"; filename=" + quoted(part.filename)
    lines = [disposition]
    if part.content_type is not None:
        lines.append(b"Content-Type: " + part.content_type.encode())
    return b"".join(line + b"\r\n" for line in lines)


def encode(
    boundary: bytes,
    parts: list[Part],
    preamble: bytes = b"",
    padding: bytes = b"",
    epilogue: bytes = b"",
) -> bytes:
    """The reference encoder: RFC 2046 framing, RFC 7578 headers."""
    out = [preamble + b"\r\n"] if preamble else []
    for part in parts:
        out.append(b"--" + boundary + padding + b"\r\n")
        out.append(encode_part_headers(part) + b"\r\n")
        out.append(part.data + b"\r\n")
    out.append(b"--" + boundary + b"--" + epilogue)
    return b"".join(out)


def expected(parts: list[Part]) -> list[Parsed]:
    return [(p.name, p.filename, p.content_type, p.data) for p in parts]


def collect(events: list[Event]) -> list[Parsed]:
    """The parts an event stream describes, checking the stream is well formed."""
    parts: list[Parsed] = []
    current: PartStart | None = None
    data: list[bytes] = []
    for event in events:
        if isinstance(event, PartStart):
            assert current is None
            current, data = event, []
        elif isinstance(event, PartData):
            assert current is not None
            assert event.data, "PartData is never empty"
            assert type(event.data) is bytes
            data.append(event.data)
        else:
            assert isinstance(event, PartEnd)
            assert current is not None
            parts.append((current.name, current.filename, current.content_type, b"".join(data)))
            current = None
    assert current is None
    return parts


def bound(parser: PythonMultipartBody, max_header_bytes: int) -> int:
    return len(parser.delimiter) + SLACK + max_header_bytes


def feed_in_chunks(
    parser: PythonMultipartBody, body: bytes, cuts: list[int], max_header_bytes: int = 16 * 1024
) -> list[Event]:
    """Feed `body` split at `cuts`, checking the memory bound after every feed."""
    events: list[Event] = []
    points = [0, *sorted(cuts), len(body)]
    for start, end in itertools.pairwise(points):
        events += parser.feed(body[start:end])
        assert parser.buffered <= bound(parser, max_header_bytes)
    return events


def feed_then_close(parser: PythonMultipartBody, body: bytes, cuts: list[int]) -> list[Event]:
    events = feed_in_chunks(parser, body, cuts)
    parser.close()
    return events


def parse(body: bytes, boundary: bytes, cuts: list[int] | None = None) -> list[Parsed]:
    return collect(feed_then_close(new_parser(boundary), body, cuts or []))


# --- strategies ---

boundaries = st.one_of(
    st.just(WEBKIT),
    st.text(alphabet=BCHARS, min_size=1, max_size=70)
    .filter(lambda b: not b.endswith(" "))
    .map(str.encode),
    st.sampled_from([b"a", b"-", b"--", b"x--", b"=?"]),
)
awkward_chars = st.sampled_from(list("\"\\;= \t%'*:\x00\u00e9\u3000\U0001f600"))
header_texts = st.text(
    alphabet=st.one_of(awkward_chars, st.characters(codec="utf-8", exclude_characters="\r\n")),
    max_size=20,
)
any_texts = st.text(
    alphabet=st.one_of(awkward_chars, st.characters(codec="utf-8"), st.sampled_from("\r\n")),
    max_size=20,
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(
        ["image/png", "text/plain; charset=utf-8", "application/octet-stream", "x/\u00e9"]
    ),
)


@st.composite
def data_for(draw: st.DrawFn, boundary: bytes) -> bytes:
    """Bytes full of near-delimiters: `--`, CRLFs, prefixes of the delimiter, the
    boundary itself without the CRLF before it."""
    delimiter = b"\r\n--" + boundary
    fragments = st.one_of(
        st.binary(max_size=40),
        st.sampled_from([b"--", b"\r\n", b"\r", b"\n", b"\r\n-", b"\r\n--", b"-" + boundary]),
        st.just(b"--" + boundary),
        st.just(b"--" + boundary + b"--"),
        st.integers(1, len(delimiter) - 1).map(lambda k: delimiter[:k]),
        st.integers(1, len(delimiter) - 1).map(lambda k: delimiter[k:]),
    )
    return without_delimiter(b"".join(draw(st.lists(fragments, max_size=12))), delimiter)


def without_delimiter(data: bytes, delimiter: bytes) -> bytes:
    """`data` with the CR of each delimiter dropped, as an encoder's boundary choice
    would guarantee. Each round drops a CR, and a delimiter holds one: it ends."""
    while delimiter in data:
        data = data.replace(delimiter, delimiter[1:], 1)
    return data


@st.composite
def parts_for(draw: st.DrawFn, boundary: bytes) -> Part:
    kind = draw(st.sampled_from(["field", "file", "extended"]))
    return Part(
        name=draw(header_texts),
        filename=None
        if kind == "field"
        else draw(any_texts if kind == "extended" else header_texts),
        content_type=draw(content_types),
        data=draw(data_for(boundary)),
        extended=kind == "extended",
        disposition_header=draw(
            st.sampled_from(["Content-Disposition", "content-disposition", "CONTENT-disposition"])
        ),
    )


@st.composite
def bodies(draw: st.DrawFn) -> Sample:
    """A boundary, a valid body, the parts it encodes and its epilogue."""
    boundary = draw(boundaries)
    parts = draw(st.lists(parts_for(boundary), max_size=4))
    preamble = draw(st.one_of(st.just(b""), data_for(boundary)))
    if preamble.startswith(b"--" + boundary):  # it would be the first delimiter
        preamble = b"x" + preamble
    padding = draw(st.sampled_from([b"", b" ", b"\t \t"]))
    epilogue = draw(st.one_of(st.just(b""), st.just(b"\r\n"), st.binary(max_size=30)))
    return Sample(boundary, encode(boundary, parts, preamble, padding, epilogue), parts, epilogue)


def cuts_for(body: bytes) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, len(body)), max_size=30)


# --- round trips ---


@settings(max_examples=200, deadline=None)
@given(st.data(), bodies())
def test_any_chunking_gives_back_the_encoded_parts(data: st.DataObject, sample: Sample) -> None:
    cuts = data.draw(cuts_for(sample.body))
    assert parse(sample.body, sample.boundary, cuts) == expected(sample.parts)


@settings(max_examples=60, deadline=None)
@given(bodies())
def test_byte_by_byte_gives_the_same_parts(sample: Sample) -> None:
    every_byte = list(range(1, len(sample.body)))
    assert parse(sample.body, sample.boundary, every_byte) == expected(sample.parts)


@settings(max_examples=100, deadline=None)
@given(st.data(), boundaries, st.binary(min_size=1, max_size=3000))
def test_a_parts_data_is_never_held_back(
    data: st.DataObject, boundary: bytes, payload: bytes
) -> None:
    """Everything that cannot start a delimiter is emitted at once: what is held back
    after a feed is a strict prefix of the delimiter."""
    delimiter = b"\r\n--" + boundary
    assume(delimiter not in payload)
    head = b"--" + boundary + b"\r\n" + encode_part_headers(Part("f", "f", None, b"")) + b"\r\n"
    stream = head + payload  # the part's data, not yet ended
    parser = new_parser(boundary, max_header_bytes=256)
    emitted = b""
    points = [0, *sorted(data.draw(cuts_for(stream))), len(stream)]
    for start, end in itertools.pairwise(points):
        for event in parser.feed(stream[start:end]):
            if isinstance(event, PartData):
                emitted += event.data
        held = stream[len(head) + len(emitted) : end]
        assert len(held) < len(delimiter)
        assert delimiter.startswith(held), "only a possible delimiter start is held back"
        assert parser.buffered <= bound(parser, 256)
    assert payload.startswith(emitted)


# --- truncation ---


@settings(max_examples=200, deadline=None)
@given(st.data(), bodies())
def test_any_strict_prefix_of_a_body_is_refused(data: st.DataObject, sample: Sample) -> None:
    """Up to the last byte of the closing delimiter: the epilogue is optional."""
    end = len(sample.body) - len(sample.epilogue)
    prefix = sample.body[: data.draw(st.integers(0, end - 1))]
    parser = new_parser(sample.boundary)
    cuts = data.draw(cuts_for(prefix))
    with pytest.raises(BadRequest):
        feed_then_close(parser, prefix, cuts)


def test_an_empty_body_is_refused() -> None:
    parser = new_parser(b"x")
    with pytest.raises(BadRequest, match="truncated multipart body"):
        parser.close()


# --- the headers limit ---


@settings(max_examples=100, deadline=None)
@given(st.data(), st.integers(60, 300), st.integers(-3, 3))
def test_the_headers_limit_does_not_depend_on_chunking(
    data: st.DataObject, limit: int, over: int
) -> None:
    """Header names and values of `limit` bytes together pass, one byte more fails,
    however the body is cut. (hexlit's own parser counted the lines' framing too: CRLFs,
    colons and the spaces after them; python-multipart hands over names and values.)"""
    disposition = b'\r\nContent-Disposition: form-data; name="f"\r\nX-Pad: '
    names_and_values = len(b'Content-Dispositionform-data; name="f"X-Pad')
    pad = b"p" * (limit + over - names_and_values)
    body = b"--b" + disposition + pad + b"\r\n\r\nDATA\r\n--b--"
    parser = new_parser(b"b", max_header_bytes=limit)
    cuts = data.draw(cuts_for(body))
    if over > 0:
        with pytest.raises(BadRequest, match="multipart part headers too long"):
            feed_in_chunks(parser, body, cuts, limit)
    else:
        events = feed_in_chunks(parser, body, cuts, limit)
        parser.close()
        assert collect(events) == [("f", None, None, b"DATA")]


def test_headers_that_never_end_are_refused_once_over_the_limit() -> None:
    parser = new_parser(b"b", max_header_bytes=100)
    body = b"--b\r\nContent-Disposition: form-data; name=f\r\n" + b"X-Long: aaaaaaaaaa" * 100
    with pytest.raises(BadRequest, match="too long"):
        feed_in_chunks(parser, body, list(range(0, len(body), 7)), max_header_bytes=100)


# --- the parts limit ---


@pytest.mark.parametrize("count", [1, 3])
def test_at_most_max_parts_parts(count: int) -> None:
    parts = [Part(f"f{i}", None, None, b"x") for i in range(count)]
    body = encode(b"b", parts)
    parser = new_parser(b"b", max_parts=count)
    assert collect(parser.feed(body)) == expected(parts)
    parser.close()
    parser = new_parser(b"b", max_parts=count)
    with pytest.raises(BadRequest, match="too many multipart parts"):
        parser.feed(encode(b"b", [*parts, Part("extra", None, None, b"")]))


# --- a browser's body ---


def test_a_browser_upload() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    body = (
        b"--" + WEBKIT + b"\r\n"
        b'Content-Disposition: form-data; name="a.png"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n"
        b"\r\n" + png + b"\r\n"
        b"--" + WEBKIT + b"--\r\n"
    )
    content_type = "multipart/form-data; boundary=" + WEBKIT.decode()
    boundary = boundary_of(content_type)
    assert boundary == WEBKIT
    parser = new_parser(boundary)
    events = parser.feed(body)
    parser.close()
    assert events == [
        PartStart("a.png", "a.png", "image/png"),
        PartData(png),
        PartEnd(),
    ]


def test_a_form_with_fields_and_files() -> None:
    body = (
        b"preamble to ignore\r\n--X\r\n"
        b'content-disposition: form-data; name="title"\r\n\r\nhello\r\n'
        b"--X\r\n"
        b'CONTENT-DISPOSITION: Form-Data; NAME="doc"; FILENAME="r\xc3\xa9sum\xc3\xa9.txt"\r\n'
        b"content-type: text/plain\r\n\r\n--X is here\r\nbut --X\r\n-X\r\n"
        b"--X\r\n"
        b'Content-Disposition: form-data; name="empty"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\r\n"
        b"--X--\r\nepilogue to ignore, even --X\r\n--X--"
    )
    assert parse(body, b"X") == [
        ("title", None, None, b"hello"),
        ("doc", "résumé.txt", "text/plain", b"--X is here\r\nbut --X\r\n-X"),
        ("empty", "", "application/octet-stream", b""),
    ]


# --- headers ---


def parse_one(headers: bytes) -> PartStart:
    body = b"--b\r\n" + headers + b"\r\n\r\ndata\r\n--b--"
    event = new_parser(b"b").feed(body)[0]
    assert isinstance(event, PartStart)
    return event


@pytest.mark.parametrize(
    ("disposition", "name", "filename"),
    [
        (b'form-data; name="a"; filename="b"', "a", "b"),
        (b"form-data; name=a; filename=b", "a", "b"),
        (b'form-data;name="a";filename="b" ', "a", "b"),
        (b'form-data; name="a;b=c"; filename="d;e"', "a;b=c", "d;e"),
        (b'form-data; name="say \\"hi\\""', 'say "hi"', None),
        (b'form-data; name="a\\\\b"', "a\\b", None),
        (b'form-data; name="f"; filename="C:\\Users\\me\\a.png"', "f", "C:\\Users\\me\\a.png"),
        (b"form-data; name=\"f\"; filename*=utf-8''%E2%82%AC%20rates.txt", "f", "€ rates.txt"),
        (b"form-data; name=\"f\"; filename*=UTF-8'en'a%22b", "f", 'a"b'),
        (b'form-data; name="f"; filename*=utf-8\'\'new.txt; filename="old.txt"', "f", "new.txt"),
        (b'form-data; name="f"; filename="old.txt"; filename*=utf-8\'\'new.txt', "f", "new.txt"),
        (b'form-data; name="f"; filename="old.txt"; filename*=koi8-r\'\'x', "f", "old.txt"),
        (b"form-data; name=\"f\"; filename*=iso-8859-1''%E9t%E9", "f", "été"),
        (b'form-data; name="\xe2\x82\xac"; filename="\xf0\x9f\x98\x80.png"', "€", "😀.png"),
        (b'form-data; name="bad\xff"', "bad\ufffd", None),
        (b'form-data; flag; name="a"', "a", None),
        (b'form-data; name="first"; name="second"', "first", None),
    ],
)
def test_content_disposition(disposition: bytes, name: str, filename: str | None) -> None:
    assert parse_one(b"Content-Disposition: " + disposition) == PartStart(name, filename, None)


def test_header_names_are_case_insensitive() -> None:
    start = parse_one(
        b'cOnTeNt-DiSpOsItIoN: form-data; name="a"\r\nCONTENT-TYPE:text/csv \r\nX-Other: y'
    )
    assert start == PartStart("a", None, "text/csv")


def test_folded_header_lines_are_refused() -> None:
    """Obsolete line folding (RFC 5322 obs-fold, which RFC 9112 §5.2 lets a recipient
    refuse) is refused by python-multipart; hexlit's own parser joined the lines. No
    browser folds a part header (ADR 0021)."""
    with pytest.raises(BadRequest, match="malformed multipart part header"):
        parse_one(b'Content-Disposition: form-data;\r\n name="a"\r\nContent-Type: text/csv')


@pytest.mark.parametrize(
    "headers",
    [
        b"Content-Type: text/plain",
        b'Content-Disposition: attachment; name="a"',
        b'Content-Disposition: inline; filename="a"',
        b'Content-Disposition: form-data; filename="a"',
        b'Content-Disposition: form-data; name="a',
        b'Content-Disposition: form-data; name="a"\r\nno colon here',
        b'Content-Disposition: form-data; name="a"\r\n: no name',
        b' folded: first\r\nContent-Disposition: form-data; name="a"',
    ],
)
def test_malformed_part_headers_are_refused(headers: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_one(headers)


def test_a_part_without_headers_is_refused() -> None:
    with pytest.raises(BadRequest, match="Content-Disposition"):
        new_parser(b"b").feed(b"--b\r\n\r\ndata\r\n--b--")


@pytest.mark.parametrize("line_end", [b"X\r\n", b"-X\r\n", b" x\r\n"])
def test_a_malformed_delimiter_line_is_refused(line_end: bytes) -> None:
    parser = new_parser(b"b")
    with pytest.raises(BadRequest, match="malformed multipart delimiter"):
        parser.feed(b"--b" + line_end + b'Content-Disposition: form-data; name="a"\r\n\r\n')


# --- the end of the body, and misuse ---


def test_the_epilogue_and_later_feeds_are_ignored() -> None:
    parser = new_parser(b"b")
    assert collect(parser.feed(b"--b--\r\n--b\r\ngarbage")) == []
    assert parser.feed(b"--b\r\nmore garbage") == []
    assert parser.buffered == 0
    parser.close()


def test_feed_after_close_is_refused() -> None:
    parser = new_parser(b"b")
    parser.feed(b"--b--")
    parser.close()
    with pytest.raises(BadRequest):
        parser.feed(b"")


def test_feed_after_an_error_is_refused() -> None:
    parser = new_parser(b"b")
    with pytest.raises(BadRequest):
        parser.feed(b"--b\r\nContent-Type: text/plain\r\n\r\n")
    with pytest.raises(BadRequest):
        parser.feed(b"\r\n--b--")
    with pytest.raises(BadRequest):
        parser.close()


@pytest.mark.parametrize("boundary", [b"", b"a\r\nb", b"x" * 71, b"trailing "])
def test_the_parser_refuses_a_boundary_rfc_2046_forbids(boundary: bytes) -> None:
    with pytest.raises(ValueError, match="boundary"):
        new_parser(boundary)


# --- boundary_of ---


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/form-data; boundary=abc", b"abc"),
        ('multipart/form-data; boundary="abc"', b"abc"),
        ("Multipart/Form-Data; BOUNDARY=AbC", b"AbC"),
        ('multipart/form-data;charset=utf-8;boundary="a b:c?"', b"a b:c?"),
        ('multipart/form-data; name="x;boundary=no"; boundary=yes', b"yes"),
        ("multipart/form-data; boundary=" + WEBKIT.decode(), WEBKIT),
        ("multipart/form-data; boundary=" + "x" * 70, b"x" * 70),
        ("  multipart/form-data ; boundary = abc ", b"abc"),
    ],
)
def test_boundary_of(content_type: str, boundary: bytes) -> None:
    assert boundary_of(content_type) == boundary


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain; boundary=abc",
        "multipart/mixed; boundary=abc",
        "multipart/form-data",
        "multipart/form-data; charset=utf-8",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary=""',
        "multipart/form-data; boundary=" + "x" * 71,
        "multipart/form-data; boundary=a\u00e9b",
        'multipart/form-data; boundary="a;b"',
        'multipart/form-data; boundary="ab ";',
        'multipart/form-data; boundary="abc',
        "multipart/form-data; boundary=a\tb",
    ],
)
def test_boundary_of_refuses(content_type: str | None) -> None:
    with pytest.raises(BadRequest, match="expected a multipart/form-data body"):
        boundary_of(content_type)


@given(st.text(alphabet=BCHARS, min_size=1, max_size=70).filter(lambda b: not b.endswith(" ")))
def test_boundary_of_reads_any_rfc_2046_boundary_quoted(boundary: str) -> None:
    assert boundary_of(f'multipart/form-data; boundary="{boundary}"') == boundary.encode()


@pytest.mark.parametrize(
    ("filename", "is_file"), [(None, False), ("", False), ("a.txt", True), (" ", True)]
)
def test_only_a_part_with_a_filename_is_a_file(filename: str | None, is_file: bool) -> None:
    assert PartStart("file", filename, None).is_file is is_file


@pytest.mark.parametrize("name", [b"Content-Disposition", b"content-type"])
def test_a_repeated_singleton_part_header_is_refused(name: bytes) -> None:
    value = (
        b'form-data; name="f"; filename="f"' if name.lower() == b"content-disposition" else b"a/b"
    )
    head = b'--B\r\nContent-Disposition: form-data; name="f"; filename="f"\r\nContent-Type: a/b\r\n'
    parser = new_parser(b"B")
    with pytest.raises(BadRequest, match="repeated"):
        parser.feed(head + name + b": " + value + b"\r\n\r\ndata\r\n--B--\r\n")


def test_the_parser_opens_a_body_for_a_content_type() -> None:
    body = PythonMultipart().body("multipart/form-data; boundary=b", MultipartLimits())
    events = body.feed(b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n--b--')
    body.close()
    assert collect(events) == [("f", None, None, b"x")]
    with pytest.raises(BadRequest, match="expected a multipart/form-data body"):
        PythonMultipart().body("text/plain", MultipartLimits())
