"""The Files page: uploads, generated media and a download (the server's media routes)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import AppServer
from tests.e2e.pages import TIMEOUT, absolute, go_to, open_app

pytestmark = pytest.mark.media

WAV_BYTES = 44 + 8000 * 2  # header + 1 s of 16-bit mono samples at 8 kHz


@pytest.fixture
def files_page(page: Page, server: AppServer) -> Page:
    open_app(page, server)
    go_to(page, "Files")
    return page


def test_uploaded_files_reach_the_script_intact(files_page: Page, tmp_path: Path) -> None:
    big = tmp_path / "random-3mb.bin"
    big.write_bytes(random.Random(20261123).randbytes(3 * 1024 * 1024 + 17))
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello hexlit\n")

    uploader = files_page.get_by_test_id("stFileUploader")
    uploader.locator("input[type=file]").set_input_files([big, small])

    for path in (big, small):
        data = path.read_bytes()
        line = f"{path.name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}"
        expect(files_page.get_by_text(line, exact=True)).to_be_visible(timeout=30_000)


def test_the_generated_image_loads(files_page: Page) -> None:
    image = files_page.get_by_test_id("stImage").locator("img")
    expect(image).to_be_visible(timeout=TIMEOUT)
    files_page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=TIMEOUT
    )
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size == [64, 48]

    src = image.get_attribute("src")
    assert src is not None
    response = files_page.request.get(absolute(files_page, src))
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/")


def test_the_generated_audio_is_served_whole_and_in_ranges(files_page: Page) -> None:
    audio = files_page.locator("audio")
    expect(audio).to_have_count(1, timeout=TIMEOUT)
    src = audio.get_attribute("src")
    assert src is not None
    url = absolute(files_page, src)

    whole = files_page.request.get(url)
    assert whole.status == 200
    assert whole.headers["content-type"] in ("audio/wav", "audio/x-wav", "audio/wave")
    body = whole.body()
    assert (body[:4], body[8:12], len(body)) == (b"RIFF", b"WAVE", WAV_BYTES)

    part = files_page.request.get(url, headers={"Range": "bytes=0-99"})
    assert part.status == 206
    assert part.body() == body[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{WAV_BYTES}"

    files_page.wait_for_function(
        "a => a.readyState >= 1 && Math.abs(a.duration - 1) < 0.05",
        arg=audio.element_handle(),
        timeout=TIMEOUT,
    )


def test_the_download_button_yields_the_exact_bytes(files_page: Page) -> None:
    button = files_page.get_by_role("button", name="Download data", exact=True)
    with files_page.expect_download(timeout=TIMEOUT) as started:
        button.click()
    download = started.value
    assert download.failure() is None
    assert download.suggested_filename == "data.bin"
    assert Path(download.path()).read_bytes() == b"hexlit" * 1000
