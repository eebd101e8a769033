"""The live state: a sender as the API reports it, read without trust in its shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from reconciler.models.rules import PENDING_NAME_FIELDS, TOP_FIELDS, TRANSIENT_STATUSES


class LiveSender(BaseModel):
    """A sender as the API reports it. Tolerant: unknown fields are kept, unknown statuses are plain strings.

    The spec lets ``sid``, ``sender_id``, the sections and the items of ``offline_reasons`` be null: a null
    ``sid`` or ``sender_id`` reads as ``""`` (:attr:`matchable` is then false), a section that is not an
    object as absent, and a null reason is left out. The pending display-name fields are read at the top
    level (where both SDKs read them) or, failing that, under ``profile`` (where Twilio's 63128 page puts them).
    """

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    sid: str
    sender_id: str
    status: str | None = None
    friendly_name: str | None = None
    configuration: dict[str, Any] | None = None
    webhook: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    offline_reasons: list[dict[str, Any]] | None = None
    pending_display_name: str | None = None
    pending_display_name_status: str | None = None
    pending_display_name_status_date: str | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _tolerate(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        ids = data.get("sid") is None or data.get("sender_id") is None
        reasons = data.get("offline_reasons")
        reasons = reasons if isinstance(reasons, list) and None in reasons else None
        profile = data.get("profile")
        lifted = {}
        if isinstance(profile, dict) and data.get("pending_display_name_status") is None:
            lifted = {key: profile[key] for key in PENDING_NAME_FIELDS if profile.get(key) is not None}
        if not (ids or reasons or lifted):
            return data  # the usual answer: read as it is, without a copy (a list page holds a thousand)
        out = dict(data)
        for key in ("sid", "sender_id"):
            if out.get(key) is None:
                out[key] = ""
        if reasons:
            out["offline_reasons"] = [r for r in reasons if r is not None]
        out.update(lifted)
        return out

    @property
    def matchable(self) -> bool:
        """Whether the sender can be matched to the file and acted on: it has a ``sender_id`` and a ``sid``."""
        return bool(self.sender_id) and bool(self.sid)

    def value(self, path: str) -> Any:
        """The value at a dotted path such as ``profile.about``, or a top-level field (None when absent)."""
        section, _, name = path.partition(".")
        if not name:
            return getattr(self, section, None) if section in TOP_FIELDS else None
        block = getattr(self, section, None)
        if not isinstance(block, dict):
            return None
        return block.get(name)

    @property
    def is_transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES
