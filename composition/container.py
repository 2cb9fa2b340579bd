"""The dependency-injector container: every port meets its implementation here.

Choosing the web stack is one setting (`hexlit.web`), read by the two `Selector`s below;
choosing the stores is another (`hexlit.store`), and the runtime a third (`hexlit.runtime`,
or implied by the app name). What holds something open is a `Resource`
(composition/lifecycles.py, ADR 0022): the web stack's start and stop hooks call
`init_resources()` and `shutdown_resources()` through `lifecycle`.
"""

from __future__ import annotations

from collections.abc import Sequence

from dependency_injector import containers, providers

from hexlit.adapters.assets.filesystem import FolderAssets, FolderTree
from hexlit.adapters.formats.multipart import PythonMultipart
from hexlit.adapters.formats.signed_cookies import ItsdangerousCookieSigner
from hexlit.adapters.formats.tokens import JoserfcTokenCodec
from hexlit.adapters.system.clock import SystemClock
from hexlit.adapters.system.ids import UuidIds
from hexlit.adapters.web.routes import route_template
from hexlit.composition import lifecycles, slices
from hexlit.composition.app_objects import find_app_object, serve_app_object
from hexlit.composition.builders import (
    bidi_component_registry,
    build_app_static,
    build_builtin_runtime,
    build_redis_client,
    build_snapshot_keeper,
    build_starlette_app,
    build_streamlit_metrics_encoder,
    build_streamlit_runtime,
    build_tornado_app,
    build_tornado_server,
    build_upload_service,
    build_uvicorn_server,
    builtin_frontend_root,
    component_registry,
    metrics_source,
    runtime_kind,
    session_state_access,
    snapshot_store_kind,
    streamlit_frontend_root,
)
from hexlit.composition.secrets import auth_settings as auth_settings_from
from hexlit.composition.secrets import read_secrets
from hexlit.composition.settings import LoadedConfig
from hexlit.composition.telemetry import build_session_telemetry, build_tracer, build_traffic
from hexlit.domain.agent_service import AgentService
from hexlit.domain.auth_service import AuthService
from hexlit.domain.file_routes import ComponentService
from hexlit.domain.media_service import MediaService
from hexlit.domain.metrics_service import MetricsService
from hexlit.domain.observation import HttpTelemetry, observe_store
from hexlit.domain.session_service import SessionService
from hexlit.domain.static_service import StaticService
from hexlit.domain.status_service import StatusService
from hexlit.domain.upload_service import UploadedFilesService
from hexlit.ports.web import WebUseCases

FRONTEND_CACHE_BYTES = 64 * 1024 * 1024
"""The frontend build (about 26 MB for Streamlit 1.67) is served from memory."""


class Container(containers.DeclarativeContainer):
    """hexlit, wired. Build one with `build_container`; call providers to get objects."""

    __self__ = providers.Self()
    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidIds)

    runtime_kind_of_app = providers.Callable(runtime_kind, config.app, config.hexlit.runtime)
    origin_policy = providers.Singleton(slices.origin_policy, config.server, config.browser)
    store_folder = providers.Singleton(slices.store_folder, config.hexlit)
    tracer = providers.Singleton(build_tracer, config.hexlit.tracing)
    traffic = providers.Singleton(build_traffic)

    # The stores: one `Selector` per store, keyed by `hexlit.store`, inside the `Resource`
    # that builds the chosen one and releases it (the workers override the choices).
    redis_client = providers.Singleton(build_redis_client, config.hexlit.redis_url)
    """The one Redis client of the process (built only when `hexlit.store = "redis"`)."""
    redis_connections = providers.Resource(
        providers.Selector(
            config.hexlit.store,
            memory=providers.Callable(lifecycles.nothing_held),
            filesystem=providers.Callable(lifecycles.nothing_held),
            redis=providers.Callable(lifecycles.redis_connections, redis_client),
        )
    )
    media_store_choice = providers.Selector(
        config.hexlit.store,
        memory=providers.Callable(lifecycles.memory_media_store),
        filesystem=providers.Callable(lifecycles.folder_media_store, store_folder),
        redis=providers.Callable(lifecycles.redis_media_store, redis_client),
    )
    raw_media_store = providers.Resource(media_store_choice)
    upload_store_choice = providers.Selector(
        config.hexlit.store,
        memory=providers.Callable(lifecycles.memory_upload_store),
        filesystem=providers.Callable(lifecycles.folder_upload_store, store_folder),
        redis=providers.Callable(lifecycles.redis_upload_store, redis_client),
    )
    raw_upload_store = providers.Resource(upload_store_choice)
    media_store = providers.Singleton(observe_store, raw_media_store, "media", traffic, tracer)
    upload_store = providers.Singleton(observe_store, raw_upload_store, "uploads", traffic, tracer)
    shared_directory_choice = providers.Selector(
        config.hexlit.store,
        memory=providers.Callable(lifecycles.nothing_held),
        filesystem=providers.Callable(lifecycles.nothing_held),
        redis=providers.Callable(lifecycles.redis_session_directory, redis_client),
    )
    shared_directory = providers.Resource(shared_directory_choice)
    """Who holds which session when several processes serve one app; None for one."""
    snapshot_store = providers.Resource(
        providers.Selector(
            providers.Callable(
                snapshot_store_kind, config.hexlit.store, config.hexlit.sessionSnapshots
            ),
            off=providers.Callable(lifecycles.nothing_held),
            memory=providers.Callable(lifecycles.memory_snapshots),
            filesystem=providers.Callable(lifecycles.folder_snapshots, store_folder),
            redis=providers.Callable(lifecycles.redis_snapshots, redis_client),
        )
    )
    media = providers.Singleton(MediaService, store=media_store)
    uploaded_files = providers.Singleton(UploadedFilesService, store=upload_store, ids=ids)
    upload_limits = providers.Singleton(slices.upload_limits, config.server)
    session_limits = providers.Singleton(slices.session_limits, config.server, config.hexlit)
    host_config = providers.Singleton(slices.host_config, config.client)
    web_settings = providers.Singleton(slices.web_settings, config.server, config.hexlit)
    bind = providers.Singleton(slices.bind_settings, config.server)

    script_hooks: providers.Object[object] = providers.Object(None)
    """An `st.App`'s `on_script_error` and `secrets` (composition/app_objects.py)."""
    runtime = providers.Selector(
        runtime_kind_of_app,
        builtin=providers.Singleton(build_builtin_runtime, config.app, media, uploaded_files),
        streamlit=providers.Singleton(
            build_streamlit_runtime,
            config.app,
            config.explicit,
            config.server.disconnectedSessionTTL,
            media,
            uploaded_files,
            script_args=config.args,
            hooks=script_hooks,
        ),
    )

    secrets_document: providers.Provider[dict[str, object]] = providers.Object({})
    auth_settings = providers.Singleton(
        auth_settings_from, secrets_document, config.server, web_settings.provided.base_path
    )
    identity_provider = providers.Resource(lifecycles.identity_provider)
    observed_identity = providers.Singleton(
        observe_store, identity_provider, "oidc", traffic, tracer
    )
    cookie_signer = providers.Singleton(
        ItsdangerousCookieSigner, auth_settings.provided.cookie_secret
    )
    provider_tokens = providers.Singleton(JoserfcTokenCodec, auth_settings.provided.cookie_secret)
    auth = providers.Singleton(
        AuthService,
        settings=auth_settings,
        provider=observed_identity,
        clock=clock,
        ids=ids,
        signer=cookie_signer,
        tokens=provider_tokens,
    )

    snapshots = providers.Singleton(
        build_snapshot_keeper,
        snapshot_store,
        config.hexlit.store,
        config.hexlit.snapshotMaxBytes,
        providers.Singleton(session_state_access, runtime),
        clock,
        auth_settings.provided.cookie_secret,
        config.server.cookieSecret.as_(bool),
    )
    sessions = providers.Singleton(
        SessionService,
        runtime=runtime,
        clock=clock,
        ids=ids,
        policy=origin_policy,
        limits=session_limits,
        identify=auth.provided.user_info,
        presence=shared_directory,
        telemetry=providers.Singleton(build_session_telemetry, traffic, tracer, runtime),
        snapshots=snapshots,
    )
    session_directory = providers.Selector(
        config.hexlit.store, memory=sessions, filesystem=sessions, redis=shared_directory
    )
    session_core = providers.Resource(
        lifecycles.session_core,
        sessions,
        raw_media_store,
        raw_upload_store,
        shared_directory,
        snapshot_store,
        identity_provider,
        redis_connections,
    )
    """The session core, running; the resources after `sessions` are released after it."""
    lifecycle = providers.Singleton(lifecycles.ResourcesLifecycle, __self__)
    multipart_parser = providers.Singleton(PythonMultipart)
    uploads = providers.Singleton(
        build_upload_service,
        store=upload_store,
        sessions=sessions,
        directory=session_directory,
        files=uploaded_files,
        policy=origin_policy,
        limits=upload_limits,
        multipart=multipart_parser,
    )
    status = providers.Singleton(
        StatusService,
        runtime=runtime,
        policy=origin_policy,
        host_config=host_config,
        script_health_enabled=config.server.scriptHealthCheckEnabled,
        xsrf=providers.Singleton(slices.xsrf_cookie_policy, config.server),
        clock=clock,
        ids=ids,
        draining=sessions.provided.is_draining,
    )

    frontend_root = providers.Selector(
        runtime_kind_of_app,
        builtin=providers.Callable(builtin_frontend_root),
        streamlit=providers.Callable(streamlit_frontend_root),
    )
    frontend = providers.Singleton(
        StaticService,
        source=providers.Singleton(FolderAssets, frontend_root, cache_bytes=FRONTEND_CACHE_BYTES),
        base_path=web_settings.provided.base_path,
    )

    metrics_encoder = providers.Selector(
        runtime_kind_of_app,
        builtin=providers.Object(None),
        streamlit=providers.Singleton(build_streamlit_metrics_encoder),
    )
    metrics = providers.Singleton(
        MetricsService,
        source=providers.Singleton(metrics_source, runtime),
        sessions=sessions,
        traffic=traffic,
        encoder=metrics_encoder,
    )

    file_tree = providers.Singleton(FolderTree)
    components = providers.Singleton(
        ComponentService, registry=providers.Singleton(component_registry, runtime), files=file_tree
    )
    bidi_components = providers.Singleton(
        ComponentService,
        registry=providers.Singleton(bidi_component_registry, runtime),
        files=file_tree,
        bidi=True,
    )
    app_static = providers.Singleton(
        build_app_static,
        config.app,
        runtime_kind_of_app,
        config.server.enableStaticServing,
        file_tree,
    )

    agent_runtime = runtime.provided.agent
    agent = providers.Singleton(
        AgentService,
        settings=providers.Singleton(
            slices.agent_settings, config.server, web_settings.provided.base_path
        ),
        origins=origin_policy,
        runtime=agent_runtime,
    )

    http_telemetry = providers.Singleton(
        HttpTelemetry, traffic, tracer, clock, web_settings.provided.base_path, route_template
    )
    use_cases = providers.Singleton(
        WebUseCases,
        sessions=sessions,
        status=status,
        cors=origin_policy,
        lifecycle=lifecycle,
        metrics=metrics,
        media=media,
        uploads=uploads,
        frontend=frontend,
        components=components,
        bidi_components=bidi_components,
        app_static=app_static,
        auth=auth,
        observer=http_telemetry,
        agent=agent,
    )
    web_app = providers.Selector(
        config.hexlit.web,
        starlette=providers.Singleton(build_starlette_app, use_cases, web_settings),
        tornado=providers.Singleton(build_tornado_app, use_cases, web_settings),
    )
    web_server = providers.Selector(
        config.hexlit.web,
        starlette=providers.Factory(build_uvicorn_server, app=web_app, web=web_settings, bind=bind),
        tornado=providers.Factory(build_tornado_server, app=web_app, web=web_settings, bind=bind),
    )


def build_container(config: LoadedConfig, app: str, args: Sequence[str] = ()) -> Container:
    """A container for serving `app` with `config` (and the secrets beside it); `args`
    are the script's command-line arguments (`hexlit run app.py -- a b`)."""
    found = find_app_object(config, app)  # `app = st.App(...)` and the like, or None
    if found is not None:
        app = str(found.page)
    container = Container()
    explicit = {key: config[key] for key in sorted(config.explicit)}
    document = read_secrets(list(config.folders))
    nested = config.nested()
    if "auth" in document:  # as in Streamlit: [auth] forces XSRF protection on
        nested["server"]["enableXsrfProtection"] = True
    container.config.from_dict({**nested, "app": app, "explicit": explicit, "args": list(args)})
    container.secrets_document.override(providers.Object(document))
    if found is not None:
        serve_app_object(container, found)
    return container
