"""Configuration is read like Streamlit's: files, environment, flags, with types checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from hexlit.composition.settings import ConfigError, load_config, parse_flags


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
    positionals, flags = parse_flags(["app.py", "--web", "tornado", "--server.port=8502"])
    assert positionals == ["app.py"]
    config = load_config(flags, {}, tmp_path, tmp_path)
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


@pytest.mark.parametrize("args", [["--server.port"], ["--port", "1"]])
def test_malformed_flags_are_refused(args: list[str]) -> None:
    with pytest.raises(ConfigError):
        parse_flags(args)
