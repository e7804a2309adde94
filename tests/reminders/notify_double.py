"""A GOV.UK Notify test double: a real HTTP server on loopback that checks what Notify checks.

It serves ``POST /v2/notifications/email`` and ``/v2/notifications/sms`` as Notify's REST API
documents them, and refuses what Notify refuses, with Notify's error bodies:

- the ``Authorization: Bearer`` JWT must be HS256, signed with the API key's secret, ``iss`` the
  service id, ``iat`` within 30 seconds of now (403 ``AuthError`` otherwise);
- the JSON body must have exactly the documented keys, a known template of the right type, every
  placeholder of the template in ``personalisation``, a valid e-mail address or a UK mobile number
  (400 ``BadRequestError`` / ``ValidationError``);
- ``script`` answers the next requests to a recipient with a chosen status (429, 500, 400…).

Accepted notifications are kept; :meth:`NotifyDouble.send_receipts` then posts Notify's callback
body for each to PANDA's ``/callbacks/notify`` with the configured bearer token.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
from email_validator import EmailNotValidError, validate_email

from domain.config import Settings
from domain.rules.preferences import is_uk_mobile

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"panda_test-{SERVICE_ID}-{SECRET}"
EMAIL_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
SMS_TEMPLATE = "0d9ed3a0-0b3c-4ad9-8cc4-3d4c4c3f6f83"
PLACEHOLDERS = ("subject", "body")
IAT_BOUND_SECONDS = 30
REQUIRED = {"email": {"email_address", "template_id"}, "sms": {"phone_number", "template_id"}}
OPTIONAL = {
    "email": {"personalisation", "reference", "email_reply_to_id", "one_click_unsubscribe_url"},
    "sms": {"personalisation", "reference", "sms_sender_id"},
}


class Refusal(Exception):
    """A request Notify would refuse: its status and its ``errors`` entry."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@dataclass
class Notification:
    """One notification Notify accepted."""

    id: str
    type: str
    to: str
    template_id: str
    personalisation: dict[str, Any]
    reference: str | None
    created_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()))


@dataclass
class NotifyDouble:
    """State of the double: accepted notifications, refused requests, scripted answers."""

    url: str = ""
    accepted: list[Notification] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    scripted: dict[str, list[int]] = field(default_factory=dict)
    # Seconds each request takes (a slow service, so a run can be broken in the middle).
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, recipient: str, *statuses: int) -> None:
        """Answer the next requests to ``recipient`` with these statuses, one each."""
        with self.lock:
            self.scripted.setdefault(recipient, []).extend(statuses)

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        """Check and answer one request as Notify would."""
        if self.delay:
            time.sleep(self.delay)
        try:
            check_token(headers.get("authorization"))
            kind = {"/v2/notifications/email": "email", "/v2/notifications/sms": "sms"}.get(path)
            if kind is None:
                raise Refusal(404, "ResourceNotFound", "Not found")
            body = check_body(kind, raw)
            to = body["email_address"] if kind == "email" else body["phone_number"]
            with self.lock:
                queue = self.scripted.get(to)
                status = queue.pop(0) if queue else None
            if status is not None:
                # The worst case for PANDA's logs: an error message quoting the recipient.
                raise Refusal(status, scripted_error(status), f"scripted refusal for {to}")
        except Refusal as refusal:
            with self.lock:
                self.refused.append((refusal.status, refusal.error))
            return refusal.status, {
                "errors": [{"error": refusal.error, "message": refusal.message}],
                "status_code": refusal.status,
            }
        notification = Notification(
            str(uuid.uuid4()), kind, to, body["template_id"], body.get("personalisation") or {}, body.get("reference")
        )
        with self.lock:
            self.accepted.append(notification)
        return 201, created(notification)

    def send_receipts(self, callback_url: str, token: str, status: str = "delivered") -> list[int]:
        """POST a receipt of ``status`` for every accepted notification; the answers' statuses."""
        with self.lock:
            notifications = list(self.accepted)
        return [
            httpx.post(callback_url, json=receipt(n, status), headers={"Authorization": f"Bearer {token}"}).status_code
            for n in notifications
        ]


def check_token(authorization: str | None) -> None:
    """Notify's authorisation: an HS256 JWT signed with the key's secret, iss = service, fresh iat."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Refusal(401, "AuthError", "Unauthorized: authentication token must be provided")
    token = authorization.removeprefix("Bearer ")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_iat": False})
    except jwt.InvalidTokenError:
        raise Refusal(403, "AuthError", "Invalid token: signature, api token not found") from None
    if header.get("alg") != "HS256" or claims.get("iss") != SERVICE_ID:
        raise Refusal(403, "AuthError", "Invalid token: service not found")
    iat = claims.get("iat")
    if not isinstance(iat, int) or abs(time.time() - iat) > IAT_BOUND_SECONDS:
        raise Refusal(403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds")


def check_body(kind: str, raw: bytes) -> dict[str, Any]:
    """The JSON shape, template and recipient checks of ``POST /v2/notifications/{kind}``."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise Refusal(400, "ValidationError", "Invalid JSON supplied in POST data") from None
    if not isinstance(body, dict):
        raise Refusal(400, "ValidationError", "POST data must be a JSON object")
    missing = REQUIRED[kind] - body.keys()
    if missing:
        raise Refusal(400, "ValidationError", f"{sorted(missing)[0]} is a required property")
    extra = body.keys() - REQUIRED[kind] - OPTIONAL[kind]
    if extra:
        raise Refusal(400, "ValidationError", "Additional properties are not allowed")
    if body["template_id"] != {"email": EMAIL_TEMPLATE, "sms": SMS_TEMPLATE}[kind]:
        raise Refusal(400, "BadRequestError", "Template not found")
    personalisation = body.get("personalisation") or {}
    if not isinstance(personalisation, dict) or not all(isinstance(v, str) for v in personalisation.values()):
        raise Refusal(400, "ValidationError", "personalisation is not of type object")
    absent = [name for name in PLACEHOLDERS if name not in personalisation]
    if absent:
        raise Refusal(400, "BadRequestError", f"Missing personalisation: {', '.join(absent)}")
    if "reference" in body and not isinstance(body["reference"], str):
        raise Refusal(400, "ValidationError", "reference is not of type string")
    if kind == "email":
        try:
            validate_email(str(body["email_address"]), check_deliverability=False)
        except EmailNotValidError:
            raise Refusal(400, "ValidationError", "email_address Not a valid email address") from None
    elif not is_uk_mobile(str(body["phone_number"])):
        raise Refusal(400, "ValidationError", "phone_number Not a UK mobile number")
    return body


def scripted_error(status: int) -> str:
    """The ``error`` Notify names for a status."""
    return {429: "RateLimitError", 403: "AuthError", 400: "BadRequestError"}.get(status, "Exception")


def created(notification: Notification) -> dict[str, Any]:
    """Notify's 201 body."""
    content: dict[str, Any] = {"body": notification.personalisation.get("body", "")}
    if notification.type == "email":
        content.update(subject=notification.personalisation.get("subject", ""), from_email="nhs@notifications.test")
    else:
        content.update(from_number="NHS")
    return {
        "id": notification.id,
        "reference": notification.reference,
        "content": content,
        "uri": f"/v2/notifications/{notification.id}",
        "template": {"id": notification.template_id, "version": 1, "uri": f"/v2/template/{notification.template_id}"},
    }


def receipt(notification: Notification, status: str) -> dict[str, Any]:
    """Notify's delivery receipt (callback) body for ``notification`` (the same each time it is sent)."""
    now = notification.created_at
    return {
        "id": notification.id,
        "reference": notification.reference,
        "to": notification.to,
        "status": status,
        "created_at": now,
        "completed_at": now,
        "sent_at": now,
        "notification_type": notification.type,
        "template_id": notification.template_id,
        "template_version": 1,
    }


@contextmanager
def notify_double() -> Iterator[NotifyDouble]:
    """The double on a free loopback port; ``NotifyDouble.url`` is its base URL."""
    double = NotifyDouble()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = double.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            """Quiet: requests carry (test) contact details."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()


def sending_through(settings: Settings, double: NotifyDouble, callback_token: str, **more: Any) -> Settings:
    """``settings`` with the ``notify`` channel pointed at ``double``, its templates and a callback token."""
    return settings.model_copy(
        update={
            "reminder_channel": "notify",
            "notify_api_key": API_KEY,
            "notify_base_url": double.url,
            "notify_email_template_id": EMAIL_TEMPLATE,
            "notify_sms_template_id": SMS_TEMPLATE,
            "notify_callback_token": callback_token,
            **more,
        }
    )
