"""hexlit's own streaming multipart parser against python-multipart, side by side.

Both read the same bodies, fed in the same chunks, and produce the same events
(`PartStart`, `PartData`, `PartEnd`), whose data bytes are counted as the upload service
would write them. Workloads:

- small: one browser-shaped 1 KiB file part, the whole body in one chunk (most uploads
  of a form's small files); bodies per second;
- large: 200 MiB streamed in 64 KiB chunks (the default `server.maxUploadSize`); MB/s;
- near-delimiters: 20 MiB of data full of CRLF and `--` (what slows a parser that steps
  byte by byte at every candidate delimiter), in 64 KiB chunks; MB/s.

Each figure is the median of `ROUNDS` runs, the two parsers interleaved so a busy
machine slows both alike.

    .venv-bench/bin/python -m bench.multipart      (after `make bench-install`)
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from hexlit.adapters.formats.multipart import PythonMultipartBody
from hexlit.ports.multipart import MultipartLimits, PartData

BOUNDARY = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
CHUNK = 64 * 1024
ROUNDS = 7
RESULTS = Path(__file__).with_name("results") / "multipart.json"

Feed = Callable[[list[bytes]], int]


def body(size: int, chunk: int, block: bytes) -> list[bytes]:
    """A one-file-part body of `size` bytes of `block` repeated, cut into `chunk`s."""
    head = (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="upload.bin"; filename="upload.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    tail = b"\r\n--" + BOUNDARY + b"--\r\n"

    def pieces() -> Iterator[bytes]:
        yield head
        sent = 0
        while sent < size:
            count = min(chunk, size - sent)
            yield block[:count]
            sent += count
        yield tail

    whole = list(pieces())
    if size <= chunk:  # a small body arrives as one chunk
        return [b"".join(whole)]
    return whole


def hexlit_parser(chunks: list[bytes]) -> int:
    from hexlit.domain import multipart

    parser = multipart.MultipartParser(BOUNDARY)
    received = 0
    for chunk in chunks:
        for event in parser.feed(chunk):
            if isinstance(event, multipart.PartData):
                received += len(event.data)
    parser.close()
    return received


def python_multipart(chunks: list[bytes]) -> int:
    parser = PythonMultipartBody(BOUNDARY, MultipartLimits())
    received = 0
    for chunk in chunks:
        for event in parser.feed(chunk):
            if isinstance(event, PartData):
                received += len(event.data)
    parser.close()
    return received


PARSERS: dict[str, Feed] = {"hexlit": hexlit_parser, "python-multipart": python_multipart}


def seconds(feed: Feed, chunks: list[bytes], repeat: int, expected: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        assert feed(chunks) == expected
    return (time.perf_counter() - start) / repeat


def near_delimiters() -> bytes:
    """64 KiB of text lines, CRLFs and `--` runs, never the delimiter itself."""
    line = b"\r\n--" + BOUNDARY[:-3] + b"\r\n-\r\n--\r\n" + os.urandom(16).hex().encode()
    return (line * (CHUNK // len(line) + 1))[:CHUNK]


def main() -> None:
    random_block = os.urandom(CHUNK)
    workloads = [
        ("small: 1 KiB file, one chunk", 1024, random_block, 2000, "bodies/s"),
        ("large: 200 MiB in 64 KiB chunks", 200 * 1024 * 1024, random_block, 1, "MB/s"),
        (
            "near-delimiters: 20 MiB in 64 KiB chunks",
            20 * 1024 * 1024,
            near_delimiters(),
            1,
            "MB/s",
        ),
    ]
    results: dict[str, dict[str, float]] = {}
    print(f"{'workload':44} {'hexlit':>14} {'python-multipart':>18}  unit")
    for name, size, block, repeat, unit in workloads:
        chunks = body(size, CHUNK, block)
        timings: dict[str, list[float]] = {parser: [] for parser in PARSERS}
        for _ in range(ROUNDS):
            for parser, feed in PARSERS.items():
                timings[parser].append(seconds(feed, chunks, repeat, size))
        row = {}
        for parser, runs in timings.items():
            median = statistics.median(runs)
            row[parser] = 1 / median if unit == "bodies/s" else size / median / 1e6
        results[name] = row
        print(f"{name:44} {row['hexlit']:>14,.0f} {row['python-multipart']:>18,.0f}  {unit}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
