"""The container: one setting picks the web stack, and the other stack is never imported."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from hexlit.composition.container import build_container
from hexlit.composition.settings import load_config
from tests.support.stacks import WEB_STACKS


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


@pytest.mark.parametrize(("chosen", "other"), list(itertools.permutations(WEB_STACKS, 2)))
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


def test_the_oidc_libraries_load_only_when_someone_logs_in() -> None:
    """Authlib, joserfc and cryptography cost about 13 MB of RSS; an app that never logs
    anyone in does not pay it (docs/performance.md)."""
    heavy = ("authlib", "joserfc", "cryptography")
    probe = (
        "import asyncio, sys\n"
        "from hexlit.composition.container import build_container\n"
        "from hexlit.composition.settings import load_config\n"
        "from hexlit.ports.identity import ProviderConfig\n"
        "c = build_container(load_config({}, {}), 'builtin:counter')\n"
        "c.web_app(); c.web_server(); provider = c.identity_provider()\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
        "config = ProviderConfig('p', 'id', 'secret', 'http://127.0.0.1:9/.well-known', {})\n"
        "try:\n"
        "    asyncio.run(provider.end_session_url(config))\n"
        "except Exception:\n"
        "    pass\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    before_login, after_login = result.stdout.splitlines()
    assert before_login == "[]"
    assert after_login == repr(sorted(heavy))
