"""The layer rule, checked: import-linter passes here and fails on a planted violation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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


@pytest.mark.parametrize(
    ("planted_in", "code", "broken_contract"),
    [
        ("domain/planted.py", "import starlette\n", "imports no web framework"),
        ("ports/planted.py", "import hexlit.domain.base_path\n", "Ports import nothing"),
        ("domain/planted.py", "import hexlit.adapters.web.status\n", "never import each other"),
        (
            "adapters/web/tornado/planted.py",
            "import hexlit.adapters.web.starlette.render\n",
            "web stacks are independent",
        ),
    ],
)
def test_a_planted_violation_breaks_its_contract(
    tmp_path: Path, planted_in: str, code: str, broken_contract: str
) -> None:
    package = tmp_path / "hexlit"
    for layer in LAYERS:
        shutil.copytree(ROOT / layer, package / layer, ignore=shutil.ignore_patterns("__pycache__"))
    (package / planted_in).write_text(code)

    result = lint_imports(pythonpath=tmp_path)

    assert result.returncode == 1, result.stdout
    report = " ".join(result.stdout.split())  # contract names wrap across lines
    verdict = re.search(re.escape(broken_contract) + r"(?:(?!KEPT).)*?(KEPT|BROKEN)", report)
    assert verdict is not None, result.stdout
    assert verdict.group(1) == "BROKEN", result.stdout
