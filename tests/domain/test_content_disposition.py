"""`attachment`: the `Content-Disposition` of a download (spec §1.3.6, §4.4).

Every header is read back with a reference RFC 6266 decoder written here, which prefers
`filename*` (RFC 5987: charset, language, percent-encoded bytes) over `filename`.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_to_bytes

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hexlit.domain.content_disposition import attachment

FALLBACK = "streamlit_download.bin"
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAM = re.compile(rf";[ \t]*({_TOKEN})[ \t]*=[ \t]*({_TOKEN}|{_QUOTED})[ \t]*")
_EXT_VALUE = re.compile(
    r"([!#$&+^`{}~0-9A-Za-z-]+)'([A-Za-z0-9-]*)'((?:%[0-9A-Fa-f]{2}|[!#$&+.^_`|~0-9A-Za-z-])*)"
)


def decode_disposition(header: str) -> str | None:
    """The filename a conforming client reads from a `Content-Disposition` value."""
    disposition = header.partition(";")[0]
    assert disposition.strip().lower() == "attachment"
    params: dict[str, str] = {}
    position = len(disposition)
    while position < len(header):
        match = _PARAM.match(header, position)
        assert match is not None, f"unparsable parameters in {header!r}"
        name, value = match.group(1).lower(), match.group(2)
        assert name not in params, f"duplicate parameter {name}"
        params[name] = value
        position = match.end()
    if "filename*" in params:
        ext = _EXT_VALUE.fullmatch(params["filename*"])
        assert ext is not None, f"bad ext-value {params['filename*']!r}"
        charset, _language, encoded = ext.groups()
        return unquote_to_bytes(encoded).decode(charset)
    if "filename" in params:
        value = params["filename"]
        if value.startswith('"'):
            return re.sub(r"\\(.)", r"\1", value[1:-1])
        return value
    return None


def streamlit_form(name: str) -> str:
    """Streamlit 1.67's rule, as spec §1.3.6 states it (hexlit adds `/` to the unsafe)."""
    if name.isascii() and not re.search(r'["\\\x00-\x1f\x7f]', name):
        return f'attachment; filename="{name}"'
    return f"attachment; filename*=utf-8''{quote(name, safe='')}"


@settings(max_examples=150)
@given(st.text())
@example("")
@example('"')
@example("\\")
@example("a\\b/c.txt")
@example('report "final".pdf')
@example("line\r\nbreak")
@example("tab\there")
@example("del\x7f")
@example("café.pdf")
@example("日本語.txt")
@example("emoji 🎉.png")
@example("50% off.txt")
@example("%41.txt")
@example("a;b=c.txt")
@example(" spaced ")
@example("filename*=x")
def test_any_name_round_trips(name: str) -> None:
    header = attachment(name, FALLBACK)
    assert header.isascii()
    assert not re.search(r"[\x00-\x1f\x7f]", header)
    assert decode_disposition(header) == (name or FALLBACK)


@given(st.text())
def test_the_quoted_form_carries_only_harmless_characters(name: str) -> None:
    header = attachment(name, FALLBACK)
    if header.startswith('attachment; filename="'):
        quoted = header.removeprefix('attachment; filename="').removesuffix('"')
        assert re.fullmatch(r"[\x20-\x7e]+", quoted)
        assert not set(quoted) & {'"', "\\", "/"}
    else:
        assert header.startswith("attachment; filename*=utf-8''")
        encoded = header.removeprefix("attachment; filename*=utf-8''")
        assert not set(encoded) & {'"', "\\", "/", " ", ";", "'"}


@given(st.text().filter(lambda name: "/" not in name))
def test_matches_streamlit_except_for_slashes(name: str) -> None:
    if name:
        assert attachment(name, FALLBACK) == streamlit_form(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("data.csv", 'attachment; filename="data.csv"'),
        ("my report; v2.txt", 'attachment; filename="my report; v2.txt"'),
        ("~!#$%&'()*+,-.:<=>?@[]^_`{|}", 'attachment; filename="~!#$%&\'()*+,-.:<=>?@[]^_`{|}"'),
        ('say "hi".txt', "attachment; filename*=utf-8''say%20%22hi%22.txt"),
        ("a\\b.txt", "attachment; filename*=utf-8''a%5Cb.txt"),
        ("a/b.txt", "attachment; filename*=utf-8''a%2Fb.txt"),  # Streamlit: filename="a/b.txt"
        ("a/b\\c.txt", "attachment; filename*=utf-8''a%2Fb%5Cc.txt"),  # path kept, encoded
        ("café.pdf", "attachment; filename*=utf-8''caf%C3%A9.pdf"),
        ("x\r\nSet-Cookie: a=b", "attachment; filename*=utf-8''x%0D%0ASet-Cookie%3A%20a%3Db"),
        ("tab\t.txt", "attachment; filename*=utf-8''tab%09.txt"),
    ],
)
def test_examples(name: str, expected: str) -> None:
    assert attachment(name, FALLBACK) == expected


def test_a_missing_or_empty_name_downloads_as_the_fallback() -> None:
    assert attachment(None, FALLBACK) == 'attachment; filename="streamlit_download.bin"'
    assert attachment("", "streamlit_download.mp4") == (
        'attachment; filename="streamlit_download.mp4"'
    )


@given(st.text(min_size=1))
def test_the_fallback_is_encoded_by_the_same_rules(fallback: str) -> None:
    assert decode_disposition(attachment(None, fallback)) == fallback
    assert attachment(None, fallback) == attachment(fallback, "unused")


def test_a_fallback_is_required() -> None:
    with pytest.raises(ValueError, match="fallback"):
        attachment(None, "")
    with pytest.raises(ValueError, match="fallback"):
        attachment("", "")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("\udcff.bin", "attachment; filename*=utf-8''%FF.bin"),  # os.fsdecode of byte 0xFF
        ("\ud800.bin", "attachment; filename*=utf-8''%3F.bin"),  # a lone surrogate: `?`
    ],
)
def test_names_that_are_not_valid_unicode_still_download(name: str, expected: str) -> None:
    assert attachment(name, FALLBACK) == expected
