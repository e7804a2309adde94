"""SPEC §11's rules without a database: the medium chosen for a patient, UK mobiles, receipts."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.channels.compose import compose
from domain.rules.delivery import DeliveryStatus, bearer_matches, detail_made_unusable, receipt_is_new
from domain.rules.preferences import Language, Medium, choose_medium, is_uk_mobile
from domain.rules.reminders import SkipReason, reminder_route

MOBILE = "+447700900123"
EMAIL = "ann@example.org"
preferences = st.sampled_from([None, "email", "sms", "none"])
emails = st.sampled_from([None, EMAIL])
phones = st.sampled_from([None, MOBILE, "+442079460000", "+33612345678"])


@pytest.mark.parametrize(
    ("phone", "mobile"),
    [
        ("+447700900123", True),
        ("07700 900123", True),
        ("+447911123456", True),  # Guernsey, on the UK numbering plan
        ("+447624123456", True),  # Isle of Man mobiles (076 is otherwise pagers)
        ("+447640123456", False),  # pager
        ("+447012345678", False),  # personal numbering
        ("+442079460000", False),  # London landline
        ("+33612345678", False),  # a French mobile
        ("+44770090012", False),  # too short
        (None, False),
        ("", False),
    ],
)
def test_uk_mobile_numbers(phone: str | None, mobile: bool) -> None:
    assert is_uk_mobile(phone) is mobile


@given(preferences, emails, phones, st.booleans(), st.booleans())
def test_the_medium_has_a_usable_detail_and_honours_the_choice(
    preference: str | None, email: str | None, phone: str | None, email_bad: bool, phone_bad: bool
) -> None:
    medium = choose_medium(preference, email, phone, email_unusable=email_bad, phone_unusable=phone_bad)
    if preference == "none":
        assert medium is None
    if medium is Medium.EMAIL:
        assert email and not email_bad and preference in (None, "email")
    if medium is Medium.SMS:
        assert is_uk_mobile(phone) and not phone_bad and preference in (None, "sms")
        assert preference == "sms" or not email or email_bad  # default rule: e-mail first


def test_the_default_rule_prefers_email_then_a_uk_mobile() -> None:
    assert choose_medium(None, EMAIL, MOBILE) is Medium.EMAIL
    assert choose_medium(None, None, MOBILE) is Medium.SMS
    assert choose_medium(None, EMAIL, MOBILE, email_unusable=True) is Medium.SMS
    assert choose_medium(None, None, "+442079460000") is None


def test_a_route_says_why_a_reminder_cannot_go() -> None:
    both = frozenset(Medium)
    route = reminder_route("none", "cy", EMAIL, MOBILE, email_unusable=False, phone_unusable=False, media=both)
    assert route is SkipReason.OPTED_OUT
    route = reminder_route("sms", "cy", EMAIL, MOBILE, email_unusable=False, phone_unusable=False, media=both)
    assert route == (Medium.SMS, Language.WELSH)
    email_only = frozenset({Medium.EMAIL})
    route = reminder_route("sms", None, EMAIL, MOBILE, email_unusable=False, phone_unusable=False, media=email_only)
    assert route is SkipReason.NO_CONTACT


def test_only_a_permanent_failure_of_the_detail_still_held_makes_it_unusable() -> None:
    failed = DeliveryStatus.PERMANENT_FAILURE
    assert detail_made_unusable(failed, "email", "ANN@example.org", EMAIL, MOBILE) == "email_unusable"
    assert detail_made_unusable(failed, "sms", "07700900123", EMAIL, MOBILE) == "phone_unusable"
    assert detail_made_unusable(failed, "email", "old@example.org", EMAIL, MOBILE) is None
    assert detail_made_unusable(DeliveryStatus.TEMPORARY_FAILURE, "email", EMAIL, EMAIL, MOBILE) is None


def test_a_repeated_receipt_is_not_new() -> None:
    at = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    assert not receipt_is_new("delivered", at, DeliveryStatus.DELIVERED, at)
    assert receipt_is_new("temporary-failure", at, DeliveryStatus.DELIVERED, at)
    assert receipt_is_new(None, None, DeliveryStatus.DELIVERED, at)


@given(st.text(max_size=40))
def test_only_the_exact_bearer_token_matches(sent: str) -> None:
    assert bearer_matches(f"Bearer {sent}", sent) is bool(sent)
    # The scheme is case-insensitive (RFC 9110 §11.1), as for PANDA's own credentials; the token is not.
    assert bearer_matches(f"bearer {sent}", sent) is bool(sent)
    assert bearer_matches(f"BEARER {sent}", sent) is bool(sent)
    assert not bearer_matches(f"Bearer {sent}x", sent)
    assert not bearer_matches(f"Basic {sent}", sent)
    assert not bearer_matches(f"Bearer {sent}", None)


@pytest.mark.parametrize("language", list(Language))
def test_an_sms_fits_one_segment_for_a_typical_department(language: Language) -> None:
    message = compose(
        uuid.uuid4(),
        None,
        dt.datetime(2031, 9, 24, 8, 45, tzinfo=dt.UTC),
        medium=Medium.SMS,
        recipient=MOBILE,
        language=language,
        name="Siân Llŷr",
        clinician="Dr Jordan Lewis",
        department="Trauma and orthopaedics",
        postcode="CF10 1AA",
    )
    assert len(message.body) <= 160
    assert "Siân" not in message.body  # a text shows on a locked screen: no name
