"""Builders the container's selectors point at.

Each imports its framework inside its body, so choosing one web stack (or runtime)
never imports the other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hexlit.adapters.web.settings import BindSettings, WebSettings
from hexlit.composition.logs import adopt_streamlit_loggers
from hexlit.composition.settings import ConfigError
from hexlit.domain.file_routes import AppStaticService
from hexlit.domain.origin_policy import OriginPolicy
from hexlit.domain.session_service import SessionService
from hexlit.domain.snapshot_keeper import SnapshotKeeper
from hexlit.domain.snapshot_rules import SnapshotLimits, SnapshotSeal, snapshots_enabled
from hexlit.domain.upload_service import UploadedFilesService, UploadLimits, UploadService
from hexlit.ports.assets import FileTree
from hexlit.ports.clock import Clock
from hexlit.ports.components import ComponentRegistry
from hexlit.ports.media import MediaLibrary
from hexlit.ports.metrics import MetricsEncoder, MetricsSource
from hexlit.ports.multipart import MultipartParser
from hexlit.ports.runtime import ServedRuntime, SessionStateAccess
from hexlit.ports.sessions import SessionDirectory
from hexlit.ports.snapshots import SessionSnapshots
from hexlit.ports.uploads import UploadedFiles, UploadStore
from hexlit.ports.web import WebUseCases

BUILTIN_PREFIX = "builtin:"


def runtime_kind(app: str, configured: str) -> str:
    """`hexlit.runtime = "auto"` means: the built-in runtime for `builtin:NAME` apps."""
    if configured != "auto":
        return configured
    return "builtin" if app.startswith(BUILTIN_PREFIX) else "streamlit"


def build_builtin_runtime(app: str, media: MediaLibrary, uploads: UploadedFiles) -> ServedRuntime:
    from hexlit.adapters.runtime.builtin import APPS, BuiltinRuntime

    name = app.removeprefix(BUILTIN_PREFIX) or "counter"
    if name not in APPS:
        raise ConfigError(
            f"unknown built-in app {app!r}; choose one of builtin:{', builtin:'.join(APPS)}"
        )
    return BuiltinRuntime(name, media, uploads)


def build_streamlit_runtime(
    app: str,
    explicit_options: dict[str, Any],
    reconnect_ttl: float,
    media: MediaLibrary,
    uploads: UploadedFiles,
    script_args: Sequence[str] = (),
    hooks: Any = None,
) -> ServedRuntime:
    """hooks: an `st.App`'s `ScriptHooks` (composition/app_objects.py), or None."""
    script = check_script(app)
    try:
        from hexlit.adapters.runtime.streamlit.runtime import StreamlitRuntime
    except ImportError as missing:
        raise ConfigError(
            f"serving {app} needs Streamlit: pip install 'hexlit[streamlit]' ({missing})"
        ) from None
    # Streamlit keeps disconnected sessions longer than hexlit's window, which governs.
    keep = reconnect_ttl * 2 + 60
    adopt_streamlit_loggers()  # Streamlit's handlers give way (composition/logs.py)
    on_error = hooks.on_script_error if hooks is not None else None
    secrets = hooks.secrets if hooks is not None else None
    return StreamlitRuntime(
        script, explicit_options, keep, media, uploads, script_args, on_error, secrets
    )


def check_script(app: str) -> Path:
    """The app script, checked the way a person would want to hear about it at start-up.

    Raises `ConfigError` for a missing file, a non-Python file, or a syntax error (an app
    that raises while running shows its error in the browser, as under `streamlit run`).
    """
    path = Path(app)
    if not path.is_file():
        raise ConfigError(f"{app}: no such file")
    if path.suffix not in (".py", ".pyw"):
        raise ConfigError(f"{app}: not a Python script (.py)")
    try:
        compile(path.read_bytes(), str(path), "exec")
    except SyntaxError as error:
        raise ConfigError(f"{app}, line {error.lineno}: {error.msg}") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"{app}: cannot be read ({error})") from None
    return path


def component_registry(runtime: ServedRuntime) -> ComponentRegistry:
    """The runtime's role behind `/component/<name>/...`: v1 components."""
    return runtime


def bidi_component_registry(runtime: ServedRuntime) -> ComponentRegistry:
    """The runtime's role behind `/_stcore/bidi-components/...`: v2 components."""
    return runtime.bidi_registry


def metrics_source(runtime: ServedRuntime) -> MetricsSource:
    """The runtime's role in `/_stcore/metrics`: the families it measures itself."""
    return runtime


def session_state_access(runtime: ServedRuntime) -> SessionStateAccess:
    """The runtime's role for session snapshots: its sessions' state, read and put back."""
    return runtime


def build_starlette_app(use_cases: WebUseCases, web: WebSettings) -> Any:
    from hexlit.adapters.web.starlette.app import create_app

    return create_app(use_cases, web)


def build_tornado_app(use_cases: WebUseCases, web: WebSettings) -> Any:
    from hexlit.adapters.web.tornado.app import create_app

    return create_app(use_cases, web)


def builtin_frontend_root() -> Path:
    from hexlit.adapters.runtime.builtin_frontend import ROOT

    return ROOT


def streamlit_frontend_root() -> Path:
    from hexlit.adapters.runtime.streamlit.frontend import frontend_root

    return frontend_root()


def build_streamlit_metrics_encoder() -> MetricsEncoder:
    """Streamlit's protobuf `MetricSet` for `/_stcore/metrics` (Streamlit runtime only)."""
    from hexlit.adapters.runtime.streamlit.metrics_proto import ProtobufMetricsEncoder

    return ProtobufMetricsEncoder()


def build_uvicorn_server(app: Any, web: WebSettings, bind: BindSettings) -> Any:
    from hexlit.adapters.web.starlette.server import UvicornServer

    return UvicornServer(app, web, bind)


def build_tornado_server(app: Any, web: WebSettings, bind: BindSettings) -> Any:
    from hexlit.adapters.web.tornado.server import TornadoServer

    return TornadoServer(app, web, bind)


def build_upload_service(
    store: UploadStore,
    sessions: SessionService,
    directory: SessionDirectory,
    files: UploadedFilesService,
    policy: OriginPolicy,
    limits: UploadLimits,
    multipart: MultipartParser,
) -> UploadService:
    """The upload routes' service; a session's files go when the session ends.

    `directory` answers "is this session live?": this process's sessions, or the shared
    directory (Redis) when several replicas serve one app.
    """
    sessions.when_ended(files.remove_session)
    return UploadService(store, directory, policy, limits, files, multipart=multipart)


def build_redis_client(url: str) -> Any:
    """One Redis client per process, shared by the stores and the session directory."""
    from hexlit.adapters.redis.connection import connect

    return connect(url)


def snapshot_store_kind(kind: str, switch: str) -> str:
    """The snapshot store to build: `off` unless `hexlit.sessionSnapshots` (with
    `hexlit.store`) turns snapshots on, else the kind of `hexlit.store`."""
    return kind if snapshots_enabled(switch, kind) else "off"


def build_snapshot_keeper(
    store: SessionSnapshots | None,
    kind: str,
    max_bytes: int,
    runtime: SessionStateAccess,
    clock: Clock,
    secret: str,
    secret_configured: bool,
) -> SnapshotKeeper | None:
    """The session snapshots in `store` (None when they are off); sealed with the cookie
    secret, which every replica must share."""
    if store is None:
        return None
    if not secret_configured and kind != "memory":
        logging.getLogger("hexlit.snapshots").warning(
            "session snapshots are sealed with a random secret of this process: set "
            "server.cookieSecret (the same on every replica) so they survive a restart"
        )
    return SnapshotKeeper(store, runtime, SnapshotSeal(secret), clock, SnapshotLimits(max_bytes))


def build_app_static(
    app: str, kind: str, enabled: bool, files: FileTree
) -> AppStaticService | None:
    """`server.enableStaticServing`: the `static/` folder beside the app script."""
    if not enabled or kind != "streamlit":
        return None
    return AppStaticService(str(Path(app).resolve().parent / "static"), files)
