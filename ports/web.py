"""Everything a web front end drives, in one bundle: each stack's `create_app` takes it.

New use cases (uploads, media, auth) join here, and both stacks see them at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from hexlit.ports.agent import Agent
from hexlit.ports.auth import Auth
from hexlit.ports.components import AppStatic, Components
from hexlit.ports.cors import Cors
from hexlit.ports.frontend import Frontend
from hexlit.ports.lifecycle import Lifecycle
from hexlit.ports.media import Media
from hexlit.ports.metrics import Metrics
from hexlit.ports.sessions import Sessions
from hexlit.ports.status import ServerStatus
from hexlit.ports.tracing import HttpObserver
from hexlit.ports.uploads import Uploads


@dataclass(frozen=True, slots=True)
class WebUseCases:
    """The inbound ports; `frontend` is None when no frontend build is served."""

    sessions: Sessions
    status: ServerStatus
    cors: Cors
    lifecycle: Lifecycle
    metrics: Metrics
    media: Media
    uploads: Uploads
    frontend: Frontend | None
    components: Components
    bidi_components: Components
    auth: Auth
    app_static: AppStatic | None
    """None unless `server.enableStaticServing` is on."""
    observer: HttpObserver | None = None
    """Told of every request (metrics, tracing); None observes nothing."""
    agent: Agent | None = None
    """`/_stcore/agent/*`; None serves no agent route (an app built without one)."""
