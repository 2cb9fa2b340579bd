"""The four root folders install as `hexlit.*`, and nothing else is claimed (ADR 0001)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(tmp_path: Path) -> tuple[Path, str]:
    source = tmp_path / "source"
    source.mkdir()
    for layer in ("ports", "domain", "adapters", "composition"):
        shutil.copytree(ROOT / layer, source / layer, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    # The locked setuptools (dev extra), called as a build frontend would: no index, no pip.
    build = f"from setuptools import build_meta; build_meta.build_wheel({str(tmp_path / 'dist')!r})"
    result = subprocess.run(
        [sys.executable, "-c", build], cwd=source, check=True, timeout=300, capture_output=True,
        text=True,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("hexlit-*.whl")
    return wheel, result.stdout + result.stderr


def test_the_build_prints_no_warning(tmp_path: Path) -> None:
    """A newcomer's first `make run` builds the package: its output must be clean."""
    _, output = build_wheel(tmp_path)
    # setuptools' warnings are classes (`_Warning`, `SetuptoolsDeprecationWarning`) in a
    # `!!` banner; its lower-case notes ("byte-compiling is disabled") depend on the caller.
    assert "Warning" not in output, output


def test_wheel_holds_only_the_hexlit_package_and_runs_from_it(tmp_path: Path) -> None:
    wheel, _ = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"hexlit", "hexlit-0.1.0.dist-info"}
    for expected in (
        "hexlit/ports/runtime.py",
        "hexlit/domain/session_service.py",
        "hexlit/adapters/web/tornado/stream.py",
        "hexlit/adapters/web/starlette/stream.py",
        "hexlit/composition/container.py",
        "hexlit/domain/py.typed",
        "hexlit/ports/py.typed",
    ):
        assert expected in names
    assert not any(name.startswith("hexlit/tests") for name in names)

    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(wheel).extractall(unpacked)
    # -I: no site-packages at all, so this also proves the core needs only the stdlib.
    probe = (
        f"import sys; sys.path.insert(0, {str(unpacked)!r})\n"
        "import hexlit.domain.session_service as s, hexlit.ports.runtime\n"
        "print(s.__file__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip().startswith(str(unpacked / "hexlit" / "domain"))
