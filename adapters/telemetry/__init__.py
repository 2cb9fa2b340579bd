"""Telemetry adapters: the `Tracer` port, as a no-op or with OpenTelemetry."""
