"""hexlit's own streaming multipart parser (`domain/multipart.py`) against the adapter
over python-multipart, on the same hypothesis-generated bodies, each cut its own way.

Valid bodies (the reference encoder's) must give the same parts from both. Malformed
ones (truncated, a byte changed, bytes inserted) must get the same answer, parts or
refusal, except where the two parsers legitimately differ; each of those is shown by an
example below and recognised in a mutant by `explained`:

1. obsolete line folding in part headers: hexlit joined the lines, python-multipart
   refuses them (RFC 9112 §5.2 allows either; no browser folds);
2. a header name that is not an RFC 9110 token (a space, a non-ASCII byte):
   hexlit took it, python-multipart refuses it;
3. a line in a part's data that starts with the delimiter but does not end as one
   (`\\r\\n--boundary` followed by anything but `--` or padding and CRLF): hexlit
   refused the body, python-multipart keeps the line as data (RFC 2046 forbids the
   encoder to send it, and says nothing of what a reader does with it);
4. a bare CR in a header line: hexlit kept it in the value, python-multipart refuses.

The limits are not compared here: the headers limit counts different bytes (see
`test_multipart_parser.py`), and both stop at the same part count.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hexlit.adapters.formats.multipart import PythonMultipartBody
from hexlit.domain import multipart as hexlit_multipart
from hexlit.ports.errors import BadRequest
from hexlit.ports.multipart import MultipartLimits, PartData, PartStart
from tests.contracts.test_multipart_parser import Sample, bodies, cuts_for, expected

Outcome = tuple[str, list[tuple[str, str | None, str | None, bytes]]]
REFUSED: Outcome = ("refused", [])
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def run(
    events_of: Callable[[bytes], Sequence[object]],
    body: bytes,
    cuts: list[int],
    close: Callable[[], None],
) -> Outcome:
    """Feed `body` cut at `cuts`; the parts, or REFUSED for a `BadRequest`."""
    parts: list[tuple[str, str | None, str | None, bytes]] = []
    current: list[bytes] = []
    start_event: tuple[str, str | None, str | None] | None = None
    points = [0, *sorted(cuts), len(body)]
    try:
        for start, end in itertools.pairwise(points):
            for event in events_of(body[start:end]):
                if isinstance(event, PartStart | hexlit_multipart.PartStart):
                    start_event = (event.name, event.filename, event.content_type)
                    current = []
                elif isinstance(event, PartData | hexlit_multipart.PartData):
                    current.append(event.data)
                else:
                    assert start_event is not None
                    parts.append((*start_event, b"".join(current)))
        close()
    except BadRequest:
        return REFUSED
    return ("parts", parts)


def hexlit_outcome(boundary: bytes, body: bytes, cuts: list[int]) -> Outcome:
    parser = hexlit_multipart.MultipartParser(boundary)
    return run(parser.feed, body, cuts, parser.close)


def python_multipart_outcome(boundary: bytes, body: bytes, cuts: list[int]) -> Outcome:
    parser = PythonMultipartBody(boundary, MultipartLimits())
    return run(parser.feed, body, cuts, parser.close)


def explained(boundary: bytes, body: bytes) -> bool:
    """Whether `body` holds one of the four documented differences (a superset test:
    it looks at every line, data lines included)."""
    delimiter = b"\r\n--" + boundary
    lines = body.split(b"\r\n")
    if any(line[:1] in (b" ", b"\t") for line in lines[1:]):
        return True  # 1: a line that could be a folded header line
    for line in lines:
        name, colon, _ = line.partition(b":")
        if colon and not _TOKEN.fullmatch(name):
            return True  # 2: a header-like line whose name is not a token
        if b"\r" in line:
            return True  # 4: a bare CR
    for found in re.finditer(re.escape(delimiter), body):
        rest = body[found.end() :]
        if not (rest.startswith(b"--") or re.match(rb"[ \t]*\r\n", rest) or len(rest) < 2):
            return True  # 3: the delimiter opening a line that does not end as one
    return False


@settings(max_examples=300, deadline=None)
@given(st.data(), bodies())
def test_valid_bodies_give_the_same_parts_however_each_is_cut(
    data: st.DataObject, sample: Sample
) -> None:
    ours = hexlit_outcome(sample.boundary, sample.body, data.draw(cuts_for(sample.body)))
    theirs = python_multipart_outcome(
        sample.boundary, sample.body, data.draw(cuts_for(sample.body))
    )
    assert ours == theirs == ("parts", expected(sample.parts))


@st.composite
def mutants(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A valid body, then cut short, or with a byte changed, or with bytes inserted."""
    sample = draw(bodies())
    body = sample.body
    where = draw(st.integers(0, len(body)))
    kind = draw(st.sampled_from(["truncate", "change", "insert"]))
    fragment = draw(
        st.one_of(
            st.binary(min_size=1, max_size=6),
            st.sampled_from([b"\r", b"\n", b"\r\n", b"-", b"--", b" ", b":", b'"', b";"]),
            st.just(b"\r\n--" + sample.boundary),
        )
    )
    if kind == "truncate":
        body = body[:where]
    elif kind == "change" and where < len(body):
        body = body[:where] + fragment[:1] + body[where + 1 :]
    else:
        body = body[:where] + fragment + body[where:]
    return sample.boundary, body


@settings(max_examples=500, deadline=None)
@given(st.data(), mutants())
def test_malformed_bodies_get_the_same_answer_unless_a_documented_difference(
    data: st.DataObject, mutant: tuple[bytes, bytes]
) -> None:
    boundary, body = mutant
    ours = hexlit_outcome(boundary, body, data.draw(cuts_for(body)))
    theirs = python_multipart_outcome(boundary, body, data.draw(cuts_for(body)))
    if ours != theirs:
        assert explained(boundary, body), (ours, theirs)


FOLDED = b'--b\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\nx\r\n--b--'
NOT_A_TOKEN = b'--b\r\nContent-Disposition: form-data; name="a"\r\nX Y: z\r\n\r\nx\r\n--b--'
NEAR_DELIMITER = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--bX\r\n--b--'
BARE_CR = b'--b\r\nContent-Disposition: form-data; name="a"\r\nX-A: 1\r2\r\n\r\nx\r\n--b--'


@pytest.mark.parametrize(
    ("body", "hexlit_answer", "python_multipart_answer"),
    [
        (FOLDED, ("parts", [("a", None, None, b"x")]), REFUSED),
        (NOT_A_TOKEN, ("parts", [("a", None, None, b"x")]), REFUSED),
        (NEAR_DELIMITER, REFUSED, ("parts", [("a", None, None, b"x\r\n--bX")])),
        (BARE_CR, ("parts", [("a", None, None, b"x")]), REFUSED),
    ],
    ids=["obs-fold", "header name not a token", "delimiter-like data line", "bare CR in header"],
)
def test_the_documented_differences(
    body: bytes, hexlit_answer: Outcome, python_multipart_answer: Outcome
) -> None:
    assert explained(b"b", body)
    assert hexlit_outcome(b"b", body, []) == hexlit_answer
    assert python_multipart_outcome(b"b", body, []) == python_multipart_answer


def test_both_read_a_browser_upload_alike() -> None:
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="a.png"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + bytes(range(256)) + b"\r\n--XyZ--\r\n"
    )
    answer = ("parts", [("a.png", "a.png", "image/png", bytes(range(256)))])
    cuts = list(range(1, len(body)))
    assert hexlit_outcome(b"XyZ", body, cuts) == python_multipart_outcome(b"XyZ", body, cuts)
    assert hexlit_outcome(b"XyZ", body, []) == answer
