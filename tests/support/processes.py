"""Stopping the real peer processes tests start (nginx, Redis, the OIDC provider, replicas)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM by PID, wait at most `timeout`, then SIGKILL (and reap it either way)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout)
