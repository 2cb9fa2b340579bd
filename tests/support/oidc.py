"""A real OpenID Connect provider for tests: `oidc-provider-mock` in its own process.

`with oidc_provider() as idp:` starts `python -m oidc_provider_mock` on a free loopback
port (its output goes to a log file in a temp dir, never a pipe), waits for its discovery
document, and stops it (SIGTERM, then SIGKILL) on exit. Every wait is bounded.

What the mock needs, learned from its source (0.3.4):

- no client registration: unless started with `--require-registration`, any `client_id`
  and any `client_secret` are accepted, with any `redirect_uri` and any token-endpoint
  auth method (`client_secret_basic`, `client_secret_post` or `none`);
- the authorize page (`GET /oauth2/authorize?...`) is a form posting back to the same URL
  with one text field, `sub`; the post answers 302 to `redirect_uri?code=...&state=...`;
- a new `sub` becomes a user with claims `{"email": sub}`; `PUT /users/<sub>` with a JSON
  object sets a user's claims beforehand (all of them: it replaces, it does not merge);
- its discovery document advertises no `code_challenge_methods_supported` (it ignores
  PKCE parameters), and has an `end_session_endpoint`;
- the issuer is the URL the discovery document was asked at: always use 127.0.0.1.

Its pages link a CDN stylesheet; nothing here loads it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urljoin

import httpx

from tests.support.net import free_port
from tests.support.processes import stop_process

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 10.0
START_ATTEMPTS = 3


@dataclass
class MockProvider:
    """A running `oidc-provider-mock`: its issuer, and a browser-less user at its pages."""

    issuer: str
    log_path: Path

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def set_claims(self, sub: str, claims: Mapping[str, object]) -> None:
        """Create (or replace) user `sub` with exactly `claims` (no email unless given)."""
        with _client() as client:
            response = client.put(f"{self.issuer}/users/{quote(sub, safe='')}", json=dict(claims))
        assert response.status_code == 204, (response.status_code, response.text)

    def authorize(self, url: str, sub: str, email: str | None = None) -> str:
        """Sign in as `sub` on the authorize page at `url`; the redirect `Location`.

        `email`, when given, becomes the user's only claim first; otherwise a new `sub`
        gets the mock's default claims (`email` = `sub`) and a known one keeps its own.
        """
        if email is not None:
            self.set_claims(sub, {"email": email})
        with _client() as client:
            page = client.get(url)
            assert page.status_code == 200, (page.status_code, page.text[:500])
            form = _login_form(page.text)
            fields = dict(form.fields)
            fields["sub"] = sub
            if email is not None and "email" in fields:
                fields["email"] = email
            target = urljoin(str(page.url), form.action) if form.action else str(page.url)
            if form.method == "get":
                answer = client.get(target, params=fields)
            else:
                answer = client.post(target, data=fields)
        assert answer.status_code in (301, 302, 303, 307), (answer.status_code, answer.text[:500])
        return urljoin(target, answer.headers["location"])


@contextmanager
def oidc_provider(extra_args: Sequence[str] = ()) -> Iterator[MockProvider]:
    """Run `oidc-provider-mock` (with `extra_args`, e.g. `["--require-nonce"]`) for a block."""
    log_dir = Path(tempfile.mkdtemp(prefix="hexlit-oidc-"))
    try:
        for attempt in range(START_ATTEMPTS):
            port = free_port()
            log_path = log_dir / f"provider-{attempt}.log"
            process = _spawn(port, log_path, extra_args)
            try:
                issuer = f"http://127.0.0.1:{port}"
                if _wait_ready(process, issuer, log_path, last=attempt == START_ATTEMPTS - 1):
                    yield MockProvider(issuer=issuer, log_path=log_path)
                    return
            finally:
                stop_process(process, STOP_TIMEOUT)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


def _spawn(port: int, log_path: Path, extra_args: Sequence[str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "oidc_provider_mock", "-H", "127.0.0.1", "-p", str(port)]
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [*command, *extra_args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )


def _wait_ready(
    process: subprocess.Popen[bytes], issuer: str, log_path: Path, *, last: bool
) -> bool:
    """True once the discovery document answers; False if the process died (port taken)."""
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(trust_env=False, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                if last:
                    raise RuntimeError(f"oidc-provider-mock exited:\n{_tail(log_path)}")
                return False
            try:
                response = client.get(f"{issuer}/.well-known/openid-configuration")
                if response.status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"oidc-provider-mock not ready in {START_TIMEOUT}s:\n{_tail(log_path)}")


def _tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


def _client() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=HTTP_TIMEOUT, follow_redirects=False)


@dataclass
class _Form:
    method: str
    action: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    """Every `<form>` of a page, with its named inputs (text, hidden, ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._current: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = _Form(
                method=found.get("method", "get").lower(),
                action=found.get("action", ""),
                fields={},
            )
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and found.get("name"):
            self._current.fields[found["name"]] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _login_form(html: str) -> _Form:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    for form in parser.forms:
        if "sub" in form.fields:
            return form
    raise AssertionError(f"no form with a 'sub' field on the authorize page:\n{html[:1000]}")


def auth_secrets(
    provider: MockProvider, cookie_secret: str, client_id: str, extra: str = ""
) -> str:
    """A `secrets.toml` whose `[auth]` section logs in through `provider`."""
    return (
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        f'client_id = "{client_id}"\n'
        f'client_secret = "{client_id}-secret"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
        f"{extra}"
    )
