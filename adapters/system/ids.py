"""`IdSource` on random UUIDs (the ids the Streamlit frontend expects)."""

from __future__ import annotations

import secrets
import uuid


class UuidIds:
    """Implements `IdSource`: random (version 4) UUIDs and `secrets` bytes."""

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def random_bytes(self, size: int) -> bytes:
        return secrets.token_bytes(size)
