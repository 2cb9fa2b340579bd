"""The layer rule, checked: import-linter passes here and fails on a planted violation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("ports", "domain", "adapters", "composition")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


PLANTED = [
    # The rings
    ("ports/planted.py", "import hexlit.domain.base_path\n", "The rings"),
    ("domain/planted.py", "import hexlit.adapters.web.status\n", "The rings"),
    ("adapters/web/planted.py", "import hexlit.domain.base_path\n", "The rings"),
    ("domain/planted.py", "import hexlit.composition.slices\n", "The rings"),
    ("adapters/system/planted.py", "import hexlit.composition.slices\n", "The rings"),
    ("extra/__init__.py", "", "The rings"),  # a fifth ring nobody placed
    # The core imports no framework
    ("domain/planted.py", "import starlette\n", "imports no web framework"),
    ("ports/planted.py", "import redis\n", "imports no web framework"),
    ("domain/planted.py", "import itsdangerous\n", "imports no web framework"),
    ("domain/planted.py", "import python_multipart\n", "imports no web framework"),
    # The adapters are independent of each other
    ("adapters/sessions/planted.py", "import hexlit.adapters.storage.redis\n", "adapters are"),
    ("adapters/storage/planted.py", "import hexlit.adapters.identity\n", "adapters are"),
    ("adapters/runtime/planted.py", "import hexlit.adapters.web.status\n", "adapters are"),
    ("adapters/redis/planted.py", "import hexlit.adapters.storage.memory\n", "adapters are"),
    ("adapters/formats/planted.py", "import hexlit.adapters.storage.memory\n", "adapters are"),
    ("adapters/identity/planted.py", "import hexlit.adapters.formats.tokens\n", "adapters are"),
    ("adapters/files/planted.py", "import hexlit.adapters.assets.filesystem\n", "adapters are"),
    ("adapters/files/planted.py", "import hexlit.adapters.redis.connection\n", "adapters are"),
    ("adapters/queues/__init__.py", "", "adapters are"),  # an adapter nobody placed
    # The web stacks
    (
        "adapters/web/tornado/planted.py",
        "import hexlit.adapters.web.starlette.render\n",
        "web stacks are independent",
    ),
    ("adapters/web/planted.py", "import tornado.web\n", "framework-free web modules"),
    ("adapters/web/status.py", "import starlette.responses\n", "framework-free web modules"),
    (
        "adapters/web/planted.py",
        "import hexlit.adapters.web.starlette.render\n",  # a framework, one step away
        "framework-free web modules",
    ),
    ("adapters/web/tornado/planted.py", "import uvicorn\n", "Tornado stack imports nothing"),
    ("adapters/web/tornado/planted.py", "import starlette.datastructures\n", "Tornado stack"),
    ("adapters/web/starlette/planted.py", "import tornado.escape\n", "Starlette stack imports"),
]
"""(file in the copy, its code, the contract it breaks): at least one per contract."""


def contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


def test_every_contract_has_a_planted_violation() -> None:
    names = contract_names()
    assert names
    for name in names:
        matched = [case for case in PLANTED if case[2] in name]
        assert matched, f"no planted violation for the contract {name!r}"
    for _, _, fragment in PLANTED:
        assert sum(fragment in name for name in names) == 1, fragment


@pytest.mark.parametrize(("planted_in", "code", "broken_contract"), PLANTED)
def test_a_planted_violation_breaks_its_contract(
    tmp_path: Path, planted_in: str, code: str, broken_contract: str
) -> None:
    package = tmp_path / "hexlit"
    for layer in LAYERS:
        shutil.copytree(ROOT / layer, package / layer, ignore=shutil.ignore_patterns("__pycache__"))
    # A regular package, so Python takes `hexlit` from this copy alone. As a namespace
    # package it would merge with the editable install's link tree, and which copy of a
    # module import-linter read depended on the order of the portions: on a fresh clone it
    # read the unplanted adapters/web/status.py and the test failed.
    (package / "__init__.py").write_text("")
    planted = package / planted_in
    planted.parent.mkdir(parents=True, exist_ok=True)
    if planted.exists():  # an existing module: the violation joins its imports
        code = planted.read_text().replace("from __future__ import annotations\n", "", 1) + code
        code = "from __future__ import annotations\n" + code
    planted.write_text(code)

    result = lint_imports(pythonpath=tmp_path)

    assert result.returncode == 1, result.stdout
    report = " ".join(result.stdout.split())  # contract names wrap across lines
    verdict = re.search(re.escape(broken_contract) + r"(?:(?!KEPT).)*?(KEPT|BROKEN)", report)
    assert verdict is not None, result.stdout
    assert verdict.group(1) == "BROKEN", result.stdout
