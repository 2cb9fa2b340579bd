"""A `config.toml` that sets every option of the installed Streamlit to a value other than
its default, valid for a real start; and a throwaway TLS certificate for it.

The list comes from Streamlit itself (`streamlit_options()`), so a new option is in it
the day it is installed. A rule by name and type gives most values; `EXACT` gives those
that must mean something (an address, a colour, a size Streamlit parses).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from hexlit.adapters.runtime.streamlit.options import StreamlitOption, streamlit_options

LEFT_AT_DEFAULT = {
    "global.developmentMode": "Streamlit itself refuses it together with server.port",
}
"""The only options left out, and why."""

EXACT: dict[str, Any] = {
    "server.headless": False,  # a computed default (True without a display)
    "server.fileWatcherType": "none",
    "server.xsrfCookieSameSite": "strict",
    "server.cookieSecret": "a-cookie-secret-of-32-characters",
    "server.trustedUserHeaders": {"X-Email": "email"},
    "server.maxCacheDataSize": "2gb",
    "server.customComponentBaseUrlPath": "/components",
    "server.baseUrlPath": "/every",
    "server.enableXsrfProtection": False,  # the test's WebSocket carries no XSRF token
    "server.allowedHosts": ["127.0.0.1", "localhost"],
    "server.corsAllowedOrigins": ["https://a.example"],
    "server.websocketPingInterval": 20,
    "browser.serverAddress": "127.0.0.1",
    "logger.level": "warning",
    "logger.messageFormat": "%(levelname)s %(name)s %(message)s",
    "logger.enableRich": False,
    "client.showErrorDetails": "type",
    "client.toolbarMode": "minimal",
    "client.showErrorLinks": "false",
    "client.allowedOrigins": ["https://a.example"],
    "runner.enumCoercion": "off",
    "secrets.files": ["secrets-elsewhere.toml"],
    "server.unsafeMetricsUserAttributes": ["email"],
}


def non_default_options(address: str, port: int, cert: Path, key: Path) -> dict[str, Any]:
    """Every Streamlit option but `LEFT_AT_DEFAULT`, each at a valid non-default value."""
    values = {
        key_: EXACT.get(key_, _by_rule(option))
        for key_, option in streamlit_options().items()
        if key_ not in LEFT_AT_DEFAULT
    }
    values.update(
        {
            "server.address": address,
            "server.port": port,
            "browser.serverPort": port,
            "server.sslCertFile": str(cert),
            "server.sslKeyFile": str(key),
        }
    )
    return values


def _by_rule(option: StreamlitOption) -> Any:
    name = option.key.rpartition(".")[2]
    if option.multiple:
        return ["x"]
    if option.kind is bool:
        return not option.default
    if option.kind is int:
        return 500 if "Weight" in name else (option.default or 0) + 1
    if option.kind is float:
        return (option.default or 0.0) + 1.5
    if option.key.startswith("theme."):
        return _theme_text(name)
    return "sample"


def _theme_text(name: str) -> Any:
    if name == "base":
        return "dark"
    if name.endswith("Colors"):
        return [f"#12345{digit}" for digit in range(10)]  # Streamlit wants ten
    if name.endswith("Color"):
        return "#123456"
    if name == "fontFaces":
        return [{"family": "Sample", "url": "app/static/sample.woff2", "style": "italic"}]
    if name == "headingFontSizes":
        return ["2.5rem", "2rem"]
    if name == "headingFontWeights":
        return [700, 600]
    if name.endswith("FontSize"):
        return "1.5rem"
    if name.endswith("Font"):
        return "serif"
    if name.endswith(("Radius", "Top", "Bottom")):
        return "0.5rem"
    if name == "font":
        return "serif"
    return "sample"


def toml_document(values: dict[str, Any]) -> str:
    """The options as a config.toml, one table per section (`[theme.light.sidebar]`)."""
    sections: dict[str, list[str]] = {}
    for key, value in values.items():
        section, _, name = key.rpartition(".")
        sections.setdefault(section, []).append(f"{name} = {_toml(value)}")
    return "".join(f"[{name}]\n" + "\n".join(lines) + "\n\n" for name, lines in sections.items())


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files in `folder`."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
