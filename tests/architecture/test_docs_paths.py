"""The architecture guide names files that exist: a tour that points nowhere teaches nothing.

docs/architecture.md tells a newcomer where each rule lives, and the README's layout table
where each folder is. Every repository path they name, in backticks or as a link, must
exist (a `*` may stand for one folder level, and must match something); every relative
link must reach a file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = ("ports", "domain", "adapters", "composition", "tests", "docs", "bench", "examples")
GUIDES = ("docs/architecture.md", "README.md")

_QUOTED = re.compile(r"`((?:" + "|".join(TOP_LEVEL) + r")/[\w./*-]*)`")
_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def named_paths(guide: Path) -> set[str]:
    """Repository paths the guide names: quoted ones, and the targets of its links."""
    text = guide.read_text()
    found = {match.group(1) for match in _QUOTED.finditer(text)}
    for match in _LINK.finditer(text):
        target = match.group(1)
        if "://" in target or target.startswith("mailto:"):
            continue
        resolved = (guide.parent / target).resolve()
        found.add(resolved.relative_to(ROOT).as_posix())
    return found


def exists(path: str) -> bool:
    if "*" in path:
        return any(ROOT.glob(path.rstrip("/")))
    return (ROOT / path).exists()


@pytest.mark.parametrize("guide", GUIDES)
def test_every_path_the_guide_names_exists(guide: str) -> None:
    names = named_paths(ROOT / guide)
    assert len(names) >= 10, names  # the guide is read, not silently skipped
    missing = sorted(path for path in names if not exists(path))
    assert not missing, f"{guide} names paths that do not exist: {missing}"
