"""The `[auth]` section of `.streamlit/secrets.toml`, read as Streamlit reads it.

Files, later ones winning: `~/.streamlit/secrets.toml`, `./.streamlit/secrets.toml`,
the app folder's `.streamlit/secrets.toml`. `[auth]` holds `redirect_uri` (a `{port}`
placeholder is filled with the server's port), `cookie_secret`, `expose_tokens` and the
default provider's `client_id`, `client_secret`, `server_metadata_url`,
`client_kwargs`; `[auth.NAME]` tables add named providers (no `_` in NAME).
"""

from __future__ import annotations

import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hexlit.composition.settings import ConfigError
from hexlit.domain.auth_service import EXPOSABLE_TOKENS, AuthSettings
from hexlit.ports.identity import ProviderConfig

PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def read_secrets(folders: list[Path]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for folder in folders:
        path = folder / ".streamlit" / "secrets.toml"
        if path.is_file():
            try:
                merged.update(tomllib.loads(path.read_text(encoding="utf-8")))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                raise ConfigError(f"{path}: not valid TOML ({error})") from None
    return merged


def auth_settings(
    secrets_document: Mapping[str, Any],
    server: Mapping[str, Any],
    base_path: str,
) -> AuthSettings:
    """`AuthSettings` from the secrets and the server options; no `[auth]`: no providers."""
    auth = secrets_document.get("auth")
    trusted = {str(k): str(v) for k, v in (server.get("trustedUserHeaders") or {}).items()}
    fallback_secret = server.get("cookieSecret") or secrets.token_hex(32)
    if not isinstance(auth, Mapping):
        return AuthSettings(
            cookie_secret=str(fallback_secret),
            redirect_uri="",
            base_path=base_path,
            xsrf=bool(server["enableXsrfProtection"]),
            trusted_headers=trusted,
        )
    redirect_uri = str(auth.get("redirect_uri", "")).replace("{port}", str(server["port"]))
    providers: dict[str, ProviderConfig] = {}
    if all(key in auth for key in PROVIDER_KEYS):
        providers["default"] = _provider("default", auth)
    for name, table in auth.items():
        if isinstance(table, Mapping) and name != "client_kwargs":
            if "_" in name or not all(key in table for key in PROVIDER_KEYS):
                raise ConfigError(
                    f"secrets.toml [auth.{name}] needs {', '.join(PROVIDER_KEYS)} "
                    "and a name without '_'"
                )
            providers[name] = _provider(name, table)
    expose = auth.get("expose_tokens", [])
    expose_tokens = (expose,) if isinstance(expose, str) else tuple(str(t) for t in expose)
    if any(token not in EXPOSABLE_TOKENS for token in expose_tokens):
        raise ConfigError("secrets.toml [auth] expose_tokens may only name 'id' and 'access'")
    return AuthSettings(
        cookie_secret=str(auth.get("cookie_secret") or fallback_secret),
        redirect_uri=redirect_uri,
        providers=providers,
        expose_tokens=expose_tokens,
        base_path=base_path,
        xsrf=True,  # [auth] forces XSRF protection on, as in Streamlit
        trusted_headers=trusted,
    )


def _provider(name: str, table: Mapping[str, Any]) -> ProviderConfig:
    kwargs = {"prompt": "select_account", **dict(table.get("client_kwargs") or {})}
    return ProviderConfig(
        name=name,
        client_id=str(table["client_id"]),
        client_secret=str(table["client_secret"]),
        server_metadata_url=str(table["server_metadata_url"]),
        client_kwargs={str(k): str(v) for k, v in kwargs.items()},
    )
