"""Configuration is read like Streamlit's: files, environment, flags, with types checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hexlit.adapters.runtime.streamlit.options import StreamlitOption, streamlit_options
from hexlit.composition.settings import (
    IGNORED,
    OPTIONS,
    SECRETS,
    ConfigError,
    effective_options,
    is_secret,
    load_config,
)
from tests.support import config_docs


def write_config(folder: Path, text: str) -> None:
    (folder / ".streamlit").mkdir(parents=True, exist_ok=True)
    (folder / ".streamlit" / "config.toml").write_text(text)


def test_defaults_match_streamlit(tmp_path: Path) -> None:
    config = load_config(environ={}, cwd=tmp_path, home=tmp_path)
    assert config["server.port"] == 8501
    assert config["server.baseUrlPath"] == ""
    assert config["server.maxUploadSize"] == 200
    assert config["server.enableXsrfProtection"] is True
    assert config["hexlit.web"] == "starlette"
    assert config.explicit == frozenset()


def test_later_sources_win(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    write_config(home, "[server]\nport = 1111\nbaseUrlPath = 'home'\nmaxUploadSize = 5\n")
    write_config(cwd, "[server]\nport = 2222\nbaseUrlPath = 'cwd'\n")
    environ = {"STREAMLIT_SERVER_PORT": "3333"}
    config = load_config({"server.port": "4444"}, environ, cwd, home)
    assert config["server.port"] == 4444
    assert config["server.baseUrlPath"] == "cwd"
    assert config["server.maxUploadSize"] == 5
    assert {"server.port", "server.baseUrlPath", "server.maxUploadSize"} <= config.explicit


def test_environment_names_follow_streamlit_and_hexlit(tmp_path: Path) -> None:
    environ = {
        "STREAMLIT_SERVER_BASE_URL_PATH": "/x",
        "STREAMLIT_SERVER_ENABLE_CORS": "false",
        "STREAMLIT_SERVER_CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
        "HEXLIT_WEB": "tornado",
        "HEXLIT_QUEUE_MAX_FRAMES": "7",
        "UNRELATED": "1",
    }
    config = load_config(environ=environ, cwd=tmp_path, home=tmp_path)
    assert config["server.baseUrlPath"] == "/x"
    assert config["server.enableCORS"] is False
    assert config["server.corsAllowedOrigins"] == ["https://a.example", "https://b.example"]
    assert config["hexlit.web"] == "tornado"
    assert config["hexlit.queueMaxFrames"] == 7


def test_hexlit_section_in_config_toml(tmp_path: Path) -> None:
    write_config(tmp_path, '[hexlit]\nweb = "tornado"\n')
    assert load_config(environ={}, cwd=tmp_path, home=tmp_path)["hexlit.web"] == "tornado"


def test_web_shortcut_flag(tmp_path: Path) -> None:
    config = load_config({"web": "tornado", "server.port": "8502"}, {}, tmp_path, tmp_path)
    assert (config["hexlit.web"], config["server.port"]) == ("tornado", 8502)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"server.port": "eighty"}, r"server\.port \(from --server\.port\) must be an integer"),
        ({"hexlit.web": "flask"}, "must be one of starlette, tornado"),
        ({"server.noSuchOption": "1"}, "unknown option server.noSuchOption"),
        ({"hexlit.bogus": "1"}, "unknown option hexlit.bogus"),
        ({"server.enableCORS": "maybe"}, "server.enableCORS"),
    ],
)
def test_bad_values_name_the_option_and_source(
    tmp_path: Path, flags: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(flags, {}, tmp_path, tmp_path)


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    write_config(tmp_path, "[server\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(environ={}, cwd=tmp_path, home=tmp_path)


def test_other_streamlit_sections_pass_through(tmp_path: Path) -> None:
    write_config(tmp_path, '[theme]\nbase = "dark"\n[runner]\nfastReruns = true\n')
    config = load_config(environ={}, cwd=tmp_path, home=tmp_path)
    assert config["theme.base"] == "dark"
    assert config.nested()["runner"] == {"fastReruns": True}


# --- Every Streamlit option, from every source (issue 12) ---------------------------------

STREAMLIT = streamlit_options()


def test_every_streamlit_option_is_accepted_from_config_toml(tmp_path: Path) -> None:
    """The list comes from the installed Streamlit: a new option can never stop a start."""
    sections: dict[str, list[str]] = {}
    for key, option in STREAMLIT.items():
        section, _, name = key.rpartition(".")
        sections.setdefault(section, []).append(f"{name} = {toml_value(sample_value(option))}")
    write_config(
        tmp_path, "".join(f"[{s}]\n" + "\n".join(lines) + "\n" for s, lines in sections.items())
    )
    config = load_config(environ={}, cwd=tmp_path, home=tmp_path)
    for key, option in STREAMLIT.items():
        assert config[key] == PARSED.get(key, sample_value(option)), key
    assert set(STREAMLIT) <= config.explicit


def test_the_issue_config_starts(tmp_path: Path) -> None:
    write_config(tmp_path, '[server]\nfolderWatchBlacklist = ["x"]\nmaxCacheDataSize = "2gb"\n')
    config = load_config(environ={}, cwd=tmp_path, home=tmp_path)
    assert config["server.folderWatchBlacklist"] == ["x"]
    assert config["server.maxCacheDataSize"] == "2gb"


def test_every_streamlit_option_is_read_from_its_environment_variable(tmp_path: Path) -> None:
    environ = {
        option.env_var: env_text(sample_value(option))
        for option in STREAMLIT.values()
        if isinstance(sample_value(option), (str, bool, int, float, list))
    }
    config = load_config(environ=environ, cwd=tmp_path, home=tmp_path)
    for key, option in STREAMLIT.items():
        if option.env_var in environ:
            assert config[key] == PARSED.get(key, sample_value(option)), key
    assert config["theme.base"] == "dark"


def test_flags_are_typed_with_streamlit_types(tmp_path: Path) -> None:
    flags = {
        "runner.fastReruns": "false",
        "runner.cacheHashSeed": "7",
        "runner.cacheBackgroundRefreshTTLMultiplier": "2.5",
        "server.folderWatchBlacklist": ["a", "b"],
        "server.maxCacheDataSize": "2gb",
        "theme.sidebar.primaryColor": "#ff0000",
    }
    config = load_config(flags, {}, tmp_path, tmp_path)
    assert config["runner.fastReruns"] is False
    assert config["runner.cacheHashSeed"] == 7
    assert config["runner.cacheBackgroundRefreshTTLMultiplier"] == 2.5
    assert config["server.folderWatchBlacklist"] == ["a", "b"]
    assert config["theme.sidebar.primaryColor"] == "#ff0000"


def test_a_list_from_the_environment_splits_like_streamlit(tmp_path: Path) -> None:
    environ = {"STREAMLIT_SERVER_FOLDER_WATCH_LIST": "a b", "STREAMLIT_THEME_BASE": "dark"}
    config = load_config(environ=environ, cwd=tmp_path, home=tmp_path)
    assert config["server.folderWatchList"] == ["a", "b"]
    assert config["theme.base"] == "dark"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"server.folderWatchBlacklst": "x"}, "did you mean server.folderWatchBlacklist"),
        ({"theme.primaryColour": "red"}, "did you mean theme.primaryColor"),
        ({"hexlit.queueMaxFrame": "1"}, "did you mean hexlit.queueMaxFrames"),
        ({"server.port": "70000"}, r"server\.port \(from --server\.port\) must be 0 to 65535"),
        ({"server.port": "-1"}, "must be 0 to 65535"),
        ({"server.maxCacheDataSize": "lots"}, "positive binary-unit string"),
        ({"runner.fastReruns": "maybe"}, "runner.fastReruns"),
        ({"runner.cacheHashSeed": "x"}, "must be an integer"),
        ({"server.cookieSecret": "s3cret"}, "cannot be set by a command-line flag"),
    ],
)
def test_bad_streamlit_options_are_refused_with_a_reason(
    tmp_path: Path, flags: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        load_config(flags, {}, tmp_path, tmp_path)
    assert "s3cret" not in str(refused.value)


def test_a_secret_may_come_from_the_environment(tmp_path: Path) -> None:
    environ = {"STREAMLIT_SERVER_COOKIE_SECRET": "s3cret"}
    config = load_config(environ=environ, cwd=tmp_path, home=tmp_path)
    assert config["server.cookieSecret"] == "s3cret"
    assert config.sources["server.cookieSecret"] == "environment (STREAMLIT_SERVER_COOKIE_SECRET)"


def test_nested_theme_sections_are_read(tmp_path: Path) -> None:
    write_config(tmp_path, '[theme.light.sidebar]\nprimaryColor = "#00ff00"\n')
    config = load_config(environ={}, cwd=tmp_path, home=tmp_path)
    assert config["theme.light.sidebar.primaryColor"] == "#00ff00"


def test_an_option_without_sense_under_hexlit_warns_once_with_why(tmp_path: Path) -> None:
    write_config(tmp_path, "[server]\nheadless = false\nshowEmailPrompt = false\n")
    config = load_config(environ={}, cwd=tmp_path, home=tmp_path)
    assert len(config.warnings) == 1
    assert "server.headless" in config.warnings[0]
    assert "never opens a browser" in config.warnings[0]


def test_sources_say_where_each_value_came_from(tmp_path: Path) -> None:
    write_config(tmp_path, "[server]\nport = 1111\n")
    config = load_config({"theme.base": "dark"}, {"HEXLIT_WEB": "tornado"}, tmp_path, tmp_path)
    assert config.sources["server.port"] == str(tmp_path / ".streamlit" / "config.toml")
    assert config.sources["theme.base"] == "--theme.base"
    assert config.sources["hexlit.web"] == "environment (HEXLIT_WEB)"
    shown = {key: (value, source) for key, value, source in effective_options(config)}
    assert shown["server.baseUrlPath"] == ("", "default")
    assert shown["runner.fastReruns"] == (True, "default")
    assert shown["theme.base"] == ("dark", "--theme.base")


def sample_value(option: StreamlitOption) -> Any:
    """A valid value other than the default, of the option's Streamlit type."""
    if option.multiple:
        return ["x"]
    if option.kind is bool:
        return not option.default
    if option.kind is int:
        return (option.default or 0) + 1
    if option.kind is float:
        return (option.default or 0.0) + 1.5
    return SAMPLE_TEXT.get(option.key, "sample")


SAMPLE_TEXT = {
    "theme.base": "dark",
    "server.maxCacheDataSize": "2gb",
    "logger.level": "debug",
    "server.xsrfCookieSameSite": "strict",
    "server.address": "127.0.0.1",
    "server.baseUrlPath": "/sample",
    "server.trustedUserHeaders": '{"X-Email": "email"}',
}
PARSED = {"server.trustedUserHeaders": {"X-Email": "email"}}
"""hexlit reads the JSON text Streamlit accepts for this option into the table it means."""


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def env_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_hexlit_names_only_options_streamlit_has() -> None:
    """hexlit's table and its list of ignored options never invent a Streamlit option."""
    for key in [*OPTIONS, *IGNORED]:
        assert key.startswith("hexlit.") or key in STREAMLIT, key


def test_every_streamlit_secret_is_a_secret_to_hexlit() -> None:
    assert {key for key, option in STREAMLIT.items() if option.sensitive} <= SECRETS
    assert all(is_secret(key) for key, option in STREAMLIT.items() if option.sensitive)


def test_hexlit_options_alone_do_not_import_streamlit(tmp_path: Path) -> None:
    """Streamlit's catalogue loads only when an option outside hexlit's table shows up."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from hexlit.composition.settings import load_config\n"
        "folder = Path(sys.argv[1])\n"
        "load_config({'server.port': '1'}, {'HEXLIT_WEB': 'tornado'}, folder, folder)\n"
        "print('streamlit' in sys.modules)\n"
        "load_config({'theme.base': 'dark'}, {}, folder, folder)\n"
        "print('streamlit' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stdout.split() == ["False", "True"]


def test_docs_list_every_option() -> None:
    """docs/configuration.md: the generated list is current, and the table of options
    hexlit acts on has a row for each of them."""
    assert config_docs.current() == config_docs.render(), (
        "run: .venv/bin/python -m tests.support.config_docs"
    )
    text = config_docs.DOCS.read_text(encoding="utf-8")
    assert [key for key in OPTIONS if f"| `{key}` |" not in text] == []
