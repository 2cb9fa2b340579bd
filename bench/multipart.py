"""The multipart adapter (`adapters/formats/multipart.py`) against python-multipart alone.

ADR 0021 chose python-multipart over hexlit's own streaming parser; the two were timed
side by side by this bench at commit 9e4edec (`git show 9e4edec:bench/multipart.py`),
and the ADR holds those numbers. What is left to watch is the adapter's own cost: both
columns read the same bodies in the same chunks; "python-multipart" only counts the
data bytes its callback is handed, "adapter" builds hexlit's events, reads the part
headers and keeps the limits, as an upload does. Workloads:

- small: one browser-shaped 1 KiB file part, the whole body in one chunk (most uploads
  of a form's small files); bodies per second;
- large: 200 MiB streamed in 64 KiB chunks (the default `server.maxUploadSize`); MB/s;
- near-delimiters: 20 MiB of data full of CRLF and `--` (what slows a parser that steps
  byte by byte at every candidate delimiter), in 64 KiB chunks; MB/s.

Each figure is the median of `ROUNDS` runs, the two interleaved so a busy machine slows
both alike.

    .venv-bench/bin/python -m bench.multipart      (after `make bench-install`)
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from python_multipart.multipart import MultipartParser

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


def framing_only(chunks: list[bytes]) -> int:
    received = 0

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal received
        received += len(data[start:end])

    parser = MultipartParser(BOUNDARY, {"on_part_data": on_part_data})
    for chunk in chunks:
        parser.write(chunk)
    parser.finalize()
    return received


def adapter(chunks: list[bytes]) -> int:
    parser = PythonMultipartBody(BOUNDARY, MultipartLimits())
    received = 0
    for chunk in chunks:
        for event in parser.feed(chunk):
            if isinstance(event, PartData):
                received += len(event.data)
    parser.close()
    return received


PARSERS: dict[str, Feed] = {"python-multipart": framing_only, "adapter": adapter}


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
    print(f"{'workload':44} {'python-multipart':>18} {'adapter':>10}  unit")
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
        print(f"{name:44} {row['python-multipart']:>18,.0f} {row['adapter']:>10,.0f}  {unit}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
