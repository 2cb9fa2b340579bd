"""Wiring of what hexlit reports about itself: the tracer, the traffic counters, the
request and session observers, and the observed stores.

OpenTelemetry is imported only when tracing is asked for (`hexlit.tracing = "otlp"`,
or the standard `OTEL_TRACES_EXPORTER=otlp` / `OTEL_EXPORTER_OTLP_*ENDPOINT`) and the
`otel` extra is installed; otherwise the no-op tracer costs nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from hexlit.adapters.telemetry.noop import NoopTracer
from hexlit.adapters.web.status import CLOSE_CODE
from hexlit.composition.logs import use_trace_ids
from hexlit.composition.settings import ConfigError
from hexlit.domain.observation import SessionTelemetry, Traffic
from hexlit.ports.tracing import Tracer

log = logging.getLogger("hexlit.telemetry")


def tracing_wanted(mode: str, environ: Mapping[str, str]) -> bool:
    """`hexlit.tracing = "otlp"`, or the OpenTelemetry variables asking for OTLP traces."""
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if mode == "otlp":
        return True
    exporters = [name.strip() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    return "otlp" in exporters or bool(endpoint)


def build_tracer(mode: str, environ: Mapping[str, str] | None = None) -> Tracer:
    environ = os.environ if environ is None else environ
    if not tracing_wanted(mode, environ):
        return NoopTracer()
    try:
        from hexlit.adapters.telemetry.otel import otlp_tracer

        tracer = otlp_tracer()
    except (ImportError, RuntimeError) as missing:
        if mode == "otlp":
            raise ConfigError(
                "hexlit.tracing = otlp needs the otel extra: pip install 'hexlit[otel]'"
            ) from missing
        log.warning("OTEL_* asks for traces but the otel extra is not installed; no tracing")
        return NoopTracer()
    use_trace_ids(tracer.current_ids)  # log lines carry the trace and span ids
    return tracer


def build_traffic() -> Traffic:
    return Traffic(close_codes=CLOSE_CODE)


def build_session_telemetry(traffic: Traffic, tracer: Tracer, runtime: Any) -> SessionTelemetry:
    """The session observer; it learns of completed script runs when the runtime tells."""
    telemetry = SessionTelemetry(traffic, tracer)
    if hasattr(runtime, "when_run_completes"):
        runtime.when_run_completes(telemetry.run_completed)
    return telemetry
