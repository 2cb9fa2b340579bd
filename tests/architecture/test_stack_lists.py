"""No test suite keeps its own list of web stacks.

Every suite reads them from the product's `hexlit.web` choices (`tests/support/stacks.py`),
so adding a stack there runs every suite on it (docs/extending.md); a list written out in
one suite would silently leave the new stack untested there.
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
A_WRITTEN_OUT_LIST = re.compile(
    r"""["']starlette["']\s*,\s*["']tornado["']|["']tornado["']\s*,\s*["']starlette["']"""
)


def test_every_suite_reads_the_stacks_from_the_product_setting() -> None:
    offenders = sorted(
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if A_WRITTEN_OUT_LIST.search(path.read_text(encoding="utf-8"))
    )
    assert offenders == [], f"use tests.support.stacks.WEB_STACKS instead: {offenders}"
