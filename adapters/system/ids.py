"""`IdSource` on random UUIDs (the ids the Streamlit frontend expects)."""

from __future__ import annotations

import uuid


class UuidIds:
    """Implements `IdSource`: 36-character random (version 4) UUIDs."""

    def new_id(self) -> str:
        return str(uuid.uuid4())
