"""Every third-party package the code imports is declared, and the lock matches (issue 11).

authlib does not bring joserfc, yet the OIDC adapter imported it undeclared: an install
that happened to lack it would fail only at the first login. This reads the imports of the
package, the tests and the benchmarks with `ast`, and checks each against the requirements
of `pyproject.toml` (the package against its dependencies and extras, tests and benchmarks
against the `dev` and `bench` extras too).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PACKAGE_FOLDERS = ("ports", "domain", "adapters", "composition")


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalise(re.match(r"[\w.-]+", line)[0]) for line in requirements}  # type: ignore[index]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_distributions(folders: tuple[str, ...]) -> dict[str, set[str]]:
    """Distribution name → the files that import it (first-party and stdlib left out)."""
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top in ("hexlit", "tests", "bench"):
                        continue
                    for distribution in owners.get(top, [top]):
                        found.setdefault(normalise(distribution), set()).add(
                            str(path.relative_to(ROOT))
                        )
    return found


def test_the_package_imports_only_what_it_declares() -> None:
    extras = PROJECT["optional-dependencies"]
    declared = requirement_names(PROJECT["dependencies"])
    user_extras = [line for name, lines in extras.items() if name != "dev" for line in lines]
    declared |= requirement_names(user_extras)
    undeclared = {
        name: files
        for name, files in imported_distributions(PACKAGE_FOLDERS).items()
        if name not in declared
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


@pytest.mark.parametrize(("folder", "extras"), [("tests", ("dev",)), ("bench", ("bench", "dev"))])
def test_tests_and_benchmarks_import_only_what_their_extras_declare(
    folder: str, extras: tuple[str, ...]
) -> None:
    optional = PROJECT["optional-dependencies"]
    declared = requirement_names(PROJECT["dependencies"]) | requirement_names(optional["streamlit"])
    for extra in extras:
        declared |= requirement_names(optional[extra])
    undeclared = {
        name: files
        for name, files in imported_distributions((folder,)).items()
        if name not in declared
    }
    assert not undeclared, f"imported but not declared in {extras}: {undeclared}"


def test_the_lock_matches_pyproject() -> None:
    """`make install` refuses a stale lock; this says so in the test report as well."""
    uv = ROOT / ".tools" / "bin" / "uv"
    if not uv.exists():
        pytest.fail("uv is not installed in .tools/: run the tests through `make test`")
    result = subprocess.run(
        [str(uv), "lock", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
