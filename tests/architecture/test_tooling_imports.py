"""The benchmarks and the tests share one harness, `tests.support`, imported as a package.

Both run from the repository root as modules (`python -m pytest`, `python -m bench.suite`),
so `bench` and `tests` import as packages and `tests.support` (nginx, Redis, the OIDC
provider, free ports, process helpers) has one home. A script that edits `sys.path` to find
it instead works only when started in one way, and hides a harness that moved: these tests
fail on the first such edit, and on a first-party import that does not resolve from the root.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("bench", "tests", "hexlit")


def python_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def edits_sys_path(node: ast.AST) -> bool:
    """`sys.path.insert(...)`, `.append`, `.extend`, or an assignment to `sys.path`."""

    def is_sys_path(target: ast.AST) -> bool:
        return (
            isinstance(target, ast.Attribute)
            and target.attr == "path"
            and isinstance(target.value, ast.Name)
            and target.value.id == "sys"
        )

    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return is_sys_path(node.func.value)
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(is_sys_path(t.value if isinstance(t, ast.Subscript) else t) for t in targets)
    return False


def test_no_benchmark_or_test_module_edits_sys_path() -> None:
    edits = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in python_files("bench", "tests")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if edits_sys_path(node)
    ]
    assert not edits, f"sys.path edited (run from the root as a module instead): {edits}"


def first_party_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for each `bench`, `tests` or `hexlit` import."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.append((module, [alias.name for alias in node.names]))
    return [(module, names) for module, names in found if module.split(".")[0] in FIRST_PARTY]


# Run in a fresh interpreter whose only extra path entry is the working directory, which is
# what `python -m bench.x` started from the root gives: import each module, find each name.
RESOLVE = """
import importlib, json, sys
missing = []
for source, module, names in json.loads(sys.argv[1]):
    try:
        imported = importlib.import_module(module)
    except ImportError as error:
        missing.append(f"{source}: {module} ({error})")
        continue
    for name in names:
        if not hasattr(imported, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{source}: {module}.{name}")
print(json.dumps(missing))
"""


def test_every_benchmark_import_resolves_from_the_repository_root() -> None:
    wanted = [
        (str(path.relative_to(ROOT)), module, names)
        for path in python_files("bench")
        for module, names in first_party_imports(path)
    ]
    assert any(module.startswith("tests.support") for _, module, _ in wanted)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", RESOLVE, json.dumps(wanted)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stdout) == [], result.stderr
