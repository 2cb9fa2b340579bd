"""OpenID Connect (authorization-code flow) over httpx, with Authlib and joserfc.

Implements `IdentityProvider`. Authlib builds the protocol messages (the authorization URL,
the PKCE challenge, the verifier); joserfc verifies the ID token against the provider's
JWKS; httpx carries every request, asynchronously, each bounded by `timeout` seconds in
all (connect, send, read the whole answer) and by `MAX_BODY` bytes.

Authlib's own `httpx_client` integration is not used: with plain httpx (this project's
client) Authlib 1.9 warns on import that it wants `httpx2`, and will drop the fallback.

Per provider, the discovery document and the JWKS are cached for the life of the object.
An ID token whose `kid` the cached JWKS lacks (or, without a `kid`, that no cached key
verifies) triggers one refetch of the JWKS (key rotation). Failures are never cached.
Logs name the provider and what failed, never a token, a code, a verifier or a secret.

ID tokens must be signed with an asymmetric algorithm the provider advertises (RS256 when
it advertises none); HMAC-signed ID tokens are refused.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jws, jwt
from joserfc.errors import ClaimError, JoseError
from joserfc.jwk import KeySet

from hexlit.ports.errors import IdentityError
from hexlit.ports.identity import AuthorizationRequest, Identity, ProviderConfig

log = logging.getLogger(__name__)

TIMEOUT = 10.0
MAX_BODY = 1024 * 1024
CLOCK_SKEW = 60
VERIFIER_LENGTH = 64

ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
# client_kwargs that configure the client; every other key goes into the authorization URL.
CLIENT_SETTINGS = frozenset({"scope", "code_challenge_method", "token_endpoint_auth_method"})
# Parameters of the authorization request that client_kwargs may not override.
RESERVED_PARAMETERS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    }
)
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True, slots=True)
class _Metadata:
    """The parts of a discovery document this adapter uses, checked."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    code_challenge_methods: tuple[str, ...]
    signing_algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]


class AuthlibIdentityProvider:
    """Implements `IdentityProvider`."""

    def __init__(self, *, timeout: float = TIMEOUT, trust_env: bool = True) -> None:
        self._timeout = timeout
        self._trust_env = trust_env
        self._metadata: dict[str, _Metadata] = {}
        self._jwks: dict[str, KeySet] = {}

    # -- the port ---------------------------------------------------------------------------

    async def authorization_request(
        self, provider: ProviderConfig, redirect_uri: str, state: str, nonce: str
    ) -> AuthorizationRequest:
        metadata = await self._metadata_for(provider)
        params: dict[str, str] = {}
        for key, value in provider.client_kwargs.items():
            if key in RESERVED_PARAMETERS:
                log.warning("OIDC provider %r: ignoring client_kwargs[%r]", provider.name, key)
            elif key not in CLIENT_SETTINGS:
                params[key] = value
        code_verifier = None
        if _uses_pkce(provider, metadata):
            code_verifier = generate_token(VERIFIER_LENGTH)
            params["code_challenge"] = create_s256_code_challenge(code_verifier)
            params["code_challenge_method"] = "S256"
        url = prepare_grant_uri(
            metadata.authorization_endpoint,
            client_id=provider.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=provider.scope,
            state=state,
            nonce=nonce,
            **params,
        )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=code_verifier)

    async def exchange(
        self,
        provider: ProviderConfig,
        redirect_uri: str,
        code: str,
        nonce: str,
        code_verifier: str | None,
    ) -> Identity:
        metadata = await self._metadata_for(provider)
        async with self._client() as client:
            tokens = await self._fetch_tokens(
                client, provider, metadata, redirect_uri, code, code_verifier
            )
            id_token = tokens.get("id_token")
            if not isinstance(id_token, str) or not id_token:
                raise IdentityError(f"The identity provider {provider.name!r} sent no ID token")
            access_token = tokens.get("access_token")
            if not isinstance(access_token, str) or not access_token:
                access_token = None
            claims = await self._validate_id_token(client, provider, metadata, id_token, nonce)
            if "email" not in claims and metadata.userinfo_endpoint and access_token:
                info = await self._userinfo(
                    client, provider, metadata.userinfo_endpoint, access_token, claims["sub"]
                )
                # Userinfo adds claims; it never overrides one the signed ID token carries.
                claims = {**info, **claims}
        return Identity(claims=claims, id_token=id_token, access_token=access_token)

    async def end_session_url(self, provider: ProviderConfig) -> str | None:
        return (await self._metadata_for(provider)).end_session_endpoint

    # -- discovery and keys ---------------------------------------------------------------------

    async def _metadata_for(self, provider: ProviderConfig) -> _Metadata:
        url = provider.server_metadata_url
        cached = self._metadata.get(url)
        if cached is not None:
            return cached
        if not _is_http_url(url):
            raise IdentityError(
                f"The server_metadata_url of identity provider {provider.name!r} "
                "is not an http(s) URL"
            )
        what = "discovery document"
        async with self._client() as client:
            status, body = await self._request(
                client, provider, "GET", url, what, follow_redirects=True
            )
        if status != 200:
            raise _bad_answer(provider, what, f"HTTP {status}")
        metadata = _parse_metadata(provider, _json_object(provider, what, body))
        self._metadata[url] = metadata
        return metadata

    async def _keys(
        self,
        client: httpx.AsyncClient,
        provider: ProviderConfig,
        metadata: _Metadata,
        refresh: bool,
    ) -> tuple[KeySet, bool]:
        """The provider's keys, and whether they were fetched just now."""
        cached = self._jwks.get(metadata.jwks_uri)
        if cached is not None and not refresh:
            return cached, False
        what = "signing keys (JWKS)"
        status, body = await self._request(
            client, provider, "GET", metadata.jwks_uri, what, follow_redirects=True
        )
        if status != 200:
            raise _bad_answer(provider, what, f"HTTP {status}")
        document = _json_object(provider, what, body)
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("OIDC provider %r: unusable JWKS: %s", provider.name, type(exc).__name__)
            raise _bad_answer(provider, what, "no usable key") from exc
        self._jwks[metadata.jwks_uri] = keys
        return keys, True

    # -- the code exchange ----------------------------------------------------------------------

    async def _fetch_tokens(
        self,
        client: httpx.AsyncClient,
        provider: ProviderConfig,
        metadata: _Metadata,
        redirect_uri: str,
        code: str,
        code_verifier: str | None,
    ) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        headers = {"Accept": "application/json"}
        method = _token_auth_method(provider, metadata)
        if method == "client_secret_basic":
            pair = f"{provider.client_id}:{provider.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        elif method == "client_secret_post":
            form["client_id"] = provider.client_id
            form["client_secret"] = provider.client_secret
        else:
            form["client_id"] = provider.client_id
        what = "token endpoint"
        status, body = await self._request(
            client, provider, "POST", metadata.token_endpoint, what, data=form, headers=headers
        )
        if status != 200:
            error = _error_code(body)
            log.warning(
                "OIDC provider %r refused the code exchange: HTTP %d %s",
                provider.name,
                status,
                error or "(no error code)",
            )
            detail = f" ({error})" if error else f" (HTTP {status})"
            raise IdentityError(
                f"The identity provider {provider.name!r} refused the sign-in{detail}"
            )
        return _json_object(provider, what, body)

    async def _validate_id_token(
        self,
        client: httpx.AsyncClient,
        provider: ProviderConfig,
        metadata: _Metadata,
        id_token: str,
        nonce: str,
    ) -> dict[str, Any]:
        try:
            header = jws.extract_compact(id_token.encode("ascii")).headers()
        except (JoseError, ValueError, TypeError) as exc:
            raise _bad_token(provider, "it is not a signed JWT") from exc
        kid = header.get("kid")
        algorithms = [a for a in metadata.signing_algorithms if a in ASYMMETRIC_ALGORITHMS]
        algorithms = algorithms or ["RS256"]
        keys, fresh = await self._keys(client, provider, metadata, refresh=False)
        token = _verify(id_token, keys, kid, algorithms)
        if token is None and not fresh and (kid is None or all(k.kid != kid for k in keys)):
            # The provider may have rotated its keys since they were cached: look once more.
            log.info("OIDC provider %r: ID token key not in cached JWKS, refetching", provider.name)
            keys, _ = await self._keys(client, provider, metadata, refresh=True)
            token = _verify(id_token, keys, kid, algorithms)
        if token is None:
            raise _bad_token(provider, "its signature does not verify")
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_SKEW,
            iss={"essential": True, "value": metadata.issuer},
            sub={"essential": True},
            aud={"essential": True, "value": provider.client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except ClaimError as exc:
            raise _bad_token(provider, f"claim {exc.claim!r} is missing or wrong") from exc
        except JoseError as exc:
            raise _bad_token(provider, "its claims are not valid") from exc
        claims = dict(token.claims)
        if "azp" in claims and claims["azp"] != provider.client_id:
            raise _bad_token(provider, "claim 'azp' is missing or wrong")
        return claims

    async def _userinfo(
        self,
        client: httpx.AsyncClient,
        provider: ProviderConfig,
        endpoint: str,
        access_token: str,
        sub: object,
    ) -> dict[str, Any]:
        what = "userinfo"
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        status, body = await self._request(client, provider, "GET", endpoint, what, headers=headers)
        if status != 200:
            raise _bad_answer(provider, what, f"HTTP {status}")
        info = _json_object(provider, what, body)
        if info.get("sub") != sub:
            raise IdentityError(
                f"The identity provider {provider.name!r} sent userinfo for another subject"
            )
        return info

    # -- transport ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(
            timeout=self._timeout, trust_env=self._trust_env, follow_redirects=False
        ) as client:
            yield client

    async def _request(
        self,
        client: httpx.AsyncClient,
        provider: ProviderConfig,
        method: str,
        url: str,
        what: str,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        """`(status, body)`, the whole exchange within `timeout`; IdentityError otherwise."""
        try:
            async with (
                asyncio.timeout(self._timeout),
                client.stream(method, url, **kwargs) as response,
            ):
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise _bad_answer(provider, what, "too large")
                return response.status_code, bytes(body)
        except (TimeoutError, httpx.TimeoutException) as exc:
            log.warning("OIDC provider %r: %s timed out", provider.name, what)
            raise IdentityError(
                f"The identity provider {provider.name!r} did not answer in time ({what})"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            log.warning("OIDC provider %r: %s failed: %r", provider.name, what, exc)
            raise IdentityError(
                f"The identity provider {provider.name!r} could not be reached ({what})"
            ) from exc


def _verify(id_token: str, keys: KeySet, kid: object, algorithms: list[str]) -> jwt.Token | None:
    """The verified token, or None if no key of `keys` verifies it.

    A token without `kid` is tried against each key in turn (a provider with one key often
    leaves `kid` out; joserfc only picks a key by `kid`).
    """
    if kid is not None:
        candidates = [keys]
    else:
        candidates = [KeySet([key]) for key in keys if key.get("use") in (None, "sig")]
    for candidate in candidates:
        try:
            return jwt.decode(id_token, candidate, algorithms=algorithms)
        except (JoseError, ValueError, TypeError):
            continue
    return None


def _uses_pkce(provider: ProviderConfig, metadata: _Metadata) -> bool:
    configured = provider.client_kwargs.get("code_challenge_method")
    if configured is None:
        return "S256" in metadata.code_challenge_methods
    if configured != "S256":
        raise IdentityError(
            f"Identity provider {provider.name!r}: code_challenge_method must be 'S256'"
        )
    return True


def _token_auth_method(provider: ProviderConfig, metadata: _Metadata) -> str:
    configured = provider.client_kwargs.get("token_endpoint_auth_method")
    if configured is not None:
        if configured not in TOKEN_AUTH_METHODS:
            raise IdentityError(
                f"Identity provider {provider.name!r}: unsupported token_endpoint_auth_method"
            )
        return configured
    supported = metadata.token_auth_methods
    if not supported or "client_secret_basic" in supported:
        return "client_secret_basic"  # The default of OpenID Connect Discovery.
    if "client_secret_post" in supported:
        return "client_secret_post"
    return "client_secret_basic"


def _parse_metadata(provider: ProviderConfig, document: Mapping[str, Any]) -> _Metadata:
    def url(key: str) -> str | None:
        """An optional endpoint: one that is not an http(s) URL counts as absent."""
        value = document.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not _is_http_url(value):
            log.warning("OIDC provider %r: ignoring %s, not an http(s) URL", provider.name, key)
            return None
        return value

    def required_url(key: str) -> str:
        value = document.get(key)
        if not isinstance(value, str) or not _is_http_url(value):
            raise _bad_answer(provider, "discovery document", f"no http(s) URL for {key}")
        return value

    def names(key: str) -> tuple[str, ...]:
        value = document.get(key)
        if not isinstance(value, list):
            return ()
        return tuple(item for item in value if isinstance(item, str))

    issuer = document.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise _bad_answer(provider, "discovery document", "it has no issuer")
    return _Metadata(
        issuer=issuer,
        authorization_endpoint=required_url("authorization_endpoint"),
        token_endpoint=required_url("token_endpoint"),
        jwks_uri=required_url("jwks_uri"),
        userinfo_endpoint=url("userinfo_endpoint"),
        end_session_endpoint=url("end_session_endpoint"),
        code_challenge_methods=names("code_challenge_methods_supported"),
        signing_algorithms=names("id_token_signing_alg_values_supported"),
        token_auth_methods=names("token_endpoint_auth_methods_supported"),
    )


def _json_object(provider: ProviderConfig, what: str, body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as exc:  # Also UnicodeDecodeError.
        raise _bad_answer(provider, what, "not JSON") from exc
    if not isinstance(document, dict):
        raise _bad_answer(provider, what, "not a JSON object")
    return document


def _error_code(body: bytes) -> str | None:
    """The OAuth `error` code of an error answer, if it is a plain token (safe to show)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else None


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _bad_answer(provider: ProviderConfig, what: str, problem: str) -> IdentityError:
    log.warning("OIDC provider %r: unusable %s: %s", provider.name, what, problem)
    return IdentityError(
        f"The identity provider {provider.name!r} answered with an unusable {what} ({problem})"
    )


def _bad_token(provider: ProviderConfig, problem: str) -> IdentityError:
    log.warning("OIDC provider %r: ID token rejected: %s", provider.name, problem)
    return IdentityError(
        f"The ID token from identity provider {provider.name!r} is not valid: {problem}"
    )
