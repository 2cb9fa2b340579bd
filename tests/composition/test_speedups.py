"""`hexlit.loop` and `hexlit.http`: the optional speed-ups are used when installed."""

from __future__ import annotations

import asyncio
import importlib.machinery
import sys
import types
from pathlib import Path

import pytest

from hexlit.composition import speedups
from hexlit.composition.settings import ConfigError, load_config


def install_fake(monkeypatch: pytest.MonkeyPatch, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    monkeypatch.setitem(sys.modules, name, module)
    return module


def hide(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    real = speedups._installed
    monkeypatch.setattr(speedups, "_installed", lambda module: module != name and real(module))


def test_auto_runs_on_uvloop_when_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = install_fake(monkeypatch, "uvloop")
    fake.new_event_loop = asyncio.new_event_loop  # type: ignore[attr-defined]
    assert speedups.event_loop_factory("auto") is asyncio.new_event_loop
    assert speedups.event_loop_factory("uvloop") is asyncio.new_event_loop
    assert speedups.event_loop_factory("asyncio") is None


def test_auto_falls_back_to_asyncio_and_h11(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "uvloop")
    hide(monkeypatch, "httptools")
    assert speedups.event_loop_factory("auto") is None
    assert speedups.http_parser("auto") == "h11"


def test_auto_takes_httptools_when_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake(monkeypatch, "httptools")
    assert speedups.http_parser("auto") == "httptools"
    assert speedups.http_parser("h11") == "h11"


def test_naming_a_missing_speedup_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "uvloop")
    hide(monkeypatch, "httptools")
    with pytest.raises(ConfigError, match="uvloop is not installed"):
        speedups.event_loop_factory("uvloop")
    with pytest.raises(ConfigError, match="httptools is not installed"):
        speedups.http_parser("httptools")


def test_unknown_choices_are_refused(tmp_path: Path) -> None:
    for option in ("hexlit.loop", "hexlit.http"):
        with pytest.raises(ConfigError, match=option):
            load_config({option: "fastest"}, environ={}, cwd=tmp_path, home=tmp_path)
