"""Delivery receipts (SPEC §11): what a provider reports after a send, and what it changes.

Plain rules, no I/O: which statuses a receipt may carry, whether a receipt changes anything
(a repeated one does not), and which of the patient's contact details a permanent failure makes
unusable (only the one the message went to, and only while the patient still has it).
"""

from __future__ import annotations

import datetime as dt
import hmac
from enum import StrEnum
from typing import Any

import phonenumbers

from domain.rules.choices import parse_choice
from domain.rules.preferences import Medium


class DeliveryStatus(StrEnum):
    """GOV.UK Notify's final statuses of a message, as its delivery receipts send them."""

    DELIVERED = "delivered"
    PERMANENT_FAILURE = "permanent-failure"
    TEMPORARY_FAILURE = "temporary-failure"
    TECHNICAL_FAILURE = "technical-failure"


def parse_delivery_status(raw: Any) -> DeliveryStatus:
    """One of the four receipt statuses exactly."""
    return parse_choice(DeliveryStatus, raw, "delivery.invalid")


def bearer_matches(authorization: str | None, token: str | None) -> bool:
    """Whether an ``Authorization`` header is ``Bearer <token>``, the token compared in constant time.

    The scheme is case-insensitive (RFC 9110 §11.1), as PANDA's own credentials read it. No
    configured token admits no one.
    """
    if not token or authorization is None:
        return False
    scheme, _, credential = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credential.encode(), token.encode())


def receipt_is_new(stored: str | None, stored_at: dt.datetime | None, status: DeliveryStatus, at: dt.datetime) -> bool:
    """A receipt changes the reminder unless it says what is already recorded."""
    return stored != status.value or stored_at != at


def same_phone(a: str, b: str) -> bool:
    """Two spellings of one number (``07700 900123``, ``+447700900123``)."""
    try:
        first, second = phonenumbers.parse(a, "GB"), phonenumbers.parse(b, "GB")
    except phonenumbers.NumberParseException:
        return False
    return (first.country_code, first.national_number) == (second.country_code, second.national_number)


def detail_made_unusable(
    status: DeliveryStatus, medium: str | None, sent_to: str | None, email: str | None, phone: str | None
) -> str | None:
    """The patient's column to flag (``email_unusable``, ``phone_unusable``) after this receipt, if any.

    Only a permanent failure does it, and only when the address or number it names is still the
    patient's: a detail changed since is a new detail, usable until it fails in its turn.
    """
    if status is not DeliveryStatus.PERMANENT_FAILURE or not sent_to:
        return None
    if medium == Medium.EMAIL and email and email.casefold() == sent_to.strip().casefold():
        return "email_unusable"
    if medium == Medium.SMS and phone and same_phone(phone, sent_to):
        return "phone_unusable"
    return None
