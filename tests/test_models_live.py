"""A live sender as the API reports it, read without trust in its shape."""

from __future__ import annotations

from reconciler.models import LiveSender
from tests.factories import A


def test_live_reads_tolerate_nulls_the_spec_allows() -> None:
    sender = LiveSender.model_validate({
        "sid": None, "sender_id": None, "profile": None, "webhook": None, "offline_reasons": [None, {"code": "410"}],
    })
    assert (sender.sid, sender.sender_id, sender.profile, sender.webhook) == ("", "", None, None)
    assert sender.offline_reasons == [{"code": "410"}] and not sender.matchable


def test_pending_display_name_fields_are_read_at_the_top_or_under_profile() -> None:
    nested = LiveSender.model_validate({
        "sid": "XE1", "sender_id": A,
        "profile": {"name": "Old", "pending_display_name": "New", "pending_display_name_status": "PENDING_REVIEW"},
    })
    assert (nested.pending_display_name, nested.pending_display_name_status) == ("New", "PENDING_REVIEW")
    both = LiveSender.model_validate({
        "sid": "XE1", "sender_id": A, "pending_display_name": "Top", "pending_display_name_status": "APPROVED",
        "profile": {"pending_display_name": "Nested", "pending_display_name_status": "PENDING_REVIEW"},
    })
    assert (both.pending_display_name, both.pending_display_name_status) == ("Top", "APPROVED")


def test_live_sender_keeps_unknown_fields() -> None:
    live = LiveSender.model_validate({"sid": "XE1", "sender_id": A, "status": "STUBBED", "new_field": 1,
                                      "profile": {"about": "x"}})
    assert live.value("profile.about") == "x" and live.value("webhook.callback_url") is None
    assert live.model_extra == {"new_field": 1}
