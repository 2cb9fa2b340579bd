"""The container: one setting picks the web stack, and the other stack is never imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hexlit.composition.container import build_container
from hexlit.composition.settings import load_config


def container_for(stack: str, tmp_path: Path) -> object:
    config = load_config({"hexlit.web": stack}, {}, tmp_path, tmp_path)
    return build_container(config, "builtin:counter")


def test_selector_builds_a_starlette_app(tmp_path: Path) -> None:
    from starlette.applications import Starlette

    assert isinstance(container_for("starlette", tmp_path).web_app(), Starlette)  # type: ignore[attr-defined]


def test_selector_builds_a_tornado_app(tmp_path: Path) -> None:
    import tornado.web

    app = container_for("tornado", tmp_path).web_app()  # type: ignore[attr-defined]
    assert isinstance(app, tornado.web.Application)


def test_services_are_singletons_shared_by_the_app(tmp_path: Path) -> None:
    container = container_for("tornado", tmp_path)
    assert container.sessions() is container.sessions()  # type: ignore[attr-defined]
    assert container.runtime() is container.runtime()  # type: ignore[attr-defined]


# dependency-injector itself imports starlette (for its FastAPI integration) whenever
# starlette is installed, so the check is on what only hexlit would import.
OWN_MODULES = {
    "starlette": ("uvicorn", "hexlit.adapters.web.starlette"),
    "tornado": ("tornado", "hexlit.adapters.web.tornado"),
}


@pytest.mark.parametrize(("chosen", "other"), [("starlette", "tornado"), ("tornado", "starlette")])
def test_choosing_one_stack_never_imports_the_other(chosen: str, other: str) -> None:
    probe = (
        "import sys\n"
        "from hexlit.composition.container import build_container\n"
        "from hexlit.composition.settings import load_config\n"
        f"c = build_container(load_config({{'hexlit.web': '{chosen}'}}, {{}}), 'builtin:counter')\n"
        "c.web_app(); c.web_server()\n"
        f"print(sorted(m for m in {OWN_MODULES[other]!r} if m in sys.modules))\n"
        f"print(sorted(m for m in {OWN_MODULES[chosen]!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    other_loaded, chosen_loaded = result.stdout.splitlines()
    assert other_loaded == "[]"
    assert chosen_loaded == repr(sorted(OWN_MODULES[chosen]))
