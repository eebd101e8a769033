"""The live state: a sender as the API reports it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from reconciler.models.rules import TRANSIENT_STATUSES


class LiveSender(BaseModel):
    """A sender as the API reports it. Tolerant: unknown fields are kept, unknown statuses are plain strings."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    sid: str
    sender_id: str
    status: str | None = None
    configuration: dict[str, Any] | None = None
    webhook: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    offline_reasons: list[dict[str, Any]] | None = None
    pending_display_name: str | None = None
    pending_display_name_status: str | None = None
    pending_display_name_status_date: str | None = None
    url: str | None = None

    def value(self, path: str) -> Any:
        """The value at a dotted path such as ``profile.about`` (None when absent)."""
        section, _, name = path.partition(".")
        block = getattr(self, section, None)
        if not isinstance(block, dict):
            return None
        return block.get(name)

    @property
    def is_transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES

