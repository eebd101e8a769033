"""Messaging Services in the file and in live state: the values ``messaging_service`` takes, and the pools read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reconciler.models import DesiredSender, LivePools, SenderDefaults, Service, check_service_ref, is_service_sid
from tests.factories import A

SALES, SUPPORT, OTHER = ("MG" + c * 32 for c in "abc")


@pytest.mark.parametrize("value", [SALES, "MG" + "0A" * 16, "Sales", "MGM Resorts", "x" * 64, "MG12"])
def test_a_service_is_a_sid_or_a_friendly_name(value: str) -> None:
    assert check_service_ref(value) == value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("MG" + "a" * 31, "looks like a Messaging Service SID but has 31 hex digits, not 32"),
        ("MG" + "a" * 33, "has 33 hex digits"),
        ("", "write null for no service"),
        ("   ", "write null for no service"),
        ("x" * 65, "65 characters; a Messaging Service's friendly name has at most 64"),
    ],
)
def test_a_value_that_names_no_service_is_refused_with_its_reason(value: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_service_ref(value)


def test_is_service_sid() -> None:
    assert is_service_sid(SALES) and not is_service_sid("Sales") and not is_service_sid(SALES + "0")


def test_absent_is_unmanaged_and_null_is_no_service() -> None:
    absent = DesiredSender.model_validate({"sender_id": A})
    none = DesiredSender.model_validate({"sender_id": A, "messaging_service": None})
    named = DesiredSender.model_validate({"sender_id": A, "messaging_service": "Sales"})
    assert (absent.manages_service, none.manages_service, named.manages_service) == (False, True, True)
    assert (none.messaging_service, named.messaging_service) == (None, "Sales")
    assert "messaging_service" not in named.managed_fields()  # planned apart from the sender's fields


def test_null_stays_refused_everywhere_else() -> None:
    with pytest.raises(ValidationError, match="null is not allowed here"):
        DesiredSender.model_validate({"sender_id": A, "friendly_name": None})
    with pytest.raises(ValidationError, match="null is not allowed here"):
        SenderDefaults.model_validate({"profile": None, "messaging_service": None})


def test_defaults_take_a_service_too() -> None:
    defaults = SenderDefaults.model_validate({"messaging_service": None})
    assert defaults.manages_service and defaults.messaging_service is None
    with pytest.raises(ValidationError, match="valid string"):
        SenderDefaults.model_validate({"messaging_service": 5})


def test_live_pools_know_each_sender_s_services() -> None:
    pools = LivePools.of([Service(SALES, "Sales"), Service(SUPPORT, "Support")],
                         {SALES: ["XE1", "XE2", "XE1"], SUPPORT: ["XE2"]})
    assert pools.services_of("XE1") == (SALES,)
    assert pools.services_of("XE2") == (SALES, SUPPORT)
    assert pools.services_of("XE3") == () and pools.services_of(None) == ()
    assert pools.service(SALES) == Service(SALES, "Sales")
    assert pools.service(OTHER) == Service(OTHER) and pools.service(None) is None


def test_a_declared_value_matches_by_sid_or_by_every_service_of_that_name() -> None:
    pools = LivePools.of([Service(SALES, "Sales"), Service(SUPPORT, "Sales"), Service(OTHER, "Other")], {})
    assert pools.matching(OTHER) == (Service(OTHER, "Other"),)
    assert pools.matching(OTHER.upper().replace("MG", "MG", 1)) == (Service(OTHER, "Other"),)  # hex in any case
    assert pools.matching("Sales") == (Service(SALES, "Sales"), Service(SUPPORT, "Sales"))
    assert pools.matching("sales") == ()  # a name is matched as written: never guessed
    assert pools.matching("MG" + "d" * 32) == ()
