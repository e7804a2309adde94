"""The one settings object: environment variables and an optional ``.env``, read once."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.errors import RuleViolation
from domain.rules.durations import parse_minutes
from domain.rules.reminders import LEASE_MARGIN_SECONDS, ReminderPolicy

VAR_DIR = Path("var")


class Settings(BaseSettings):
    """Everything PANDA reads from its environment; defaults run with no server at all."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{VAR_DIR}/panda.sqlite"
    broker_url: str = f"sqla+sqlite:///{VAR_DIR}/broker.sqlite"
    result_backend: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    web_concurrency: int = Field(default=1, ge=1)
    # With WEB_CONCURRENCY > 1, how long an API process may leave the supervisor's ping unanswered
    # before it is killed and replaced. uvicorn's 5 s is shorter than a process's start on a busy
    # machine: every new process was killed before it could serve, again and again.
    api_process_healthcheck_seconds: int = Field(default=60, ge=1)
    # Longer than any client's or proxy's idle limit (httpx 5 s, nginx 60 s): if the server closed
    # first, a request sent on the dying connection would be lost to a reset.
    keep_alive_seconds: int = Field(default=75, ge=1)
    reminder_offsets: Annotated[tuple[int, ...], NoDecode] = (24 * 60, 2 * 60)
    reminder_channel: Literal["outbox", "smtp", "webhook", "notify"] = "outbox"
    scheduler_interval: float = Field(default=30.0, gt=0)
    max_json_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 512 * 1024 * 1024
    upload_dir: Path = VAR_DIR / "uploads"
    # Rows per chunk of a bulk job: the unit of parallel, resumable work (memory grows with it).
    job_chunk_rows: int = Field(default=10_000, ge=1, le=1_000_000)
    # A job with no chunk done for this long has lost its work with a worker: its chunks are sent again.
    job_stall_seconds: float = Field(default=300.0, gt=0)
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    log_format: str = "console"
    log_level: str = "INFO"
    db_pool_size: int = 10
    reminder_batch_size: int = Field(default=200, ge=1, le=5000)
    reminder_parallelism: int = Field(default=2, ge=1)
    reminder_max_attempts: int = Field(default=5, ge=1)
    reminder_retry_seconds: float = Field(default=60.0, ge=0)
    reminder_retry_max_seconds: float = Field(default=3600.0, ge=0)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "reminders@panda.invalid"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    send_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long past its sends' deadlines a claimed batch stays leased (a dead drain's batch waits that long).
    reminder_lease_margin_seconds: float = Field(default=LEASE_MARGIN_SECONDS, gt=0)
    webhook_url: str | None = None
    webhook_token: str | None = None
    flower_basic_auth: str | None = None
    # How long a request waits for a pooled database connection before it is refused (503).
    db_acquire_timeout_seconds: float = Field(default=5.0, gt=0)
    # An upload is refused (507) when, once stored, it would leave less than this free on disk.
    min_free_disk_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)
    # Uploads streaming at once per API process; one more is refused (429).
    max_concurrent_uploads: int = Field(default=4, ge=1)
    # A worker process is replaced after a task that left it above this (KiB, Celery's unit).
    worker_max_memory_per_child: int = Field(default=1024 * 1024, ge=1024)
    # A job step (plan or chunk) whose worker died this many times fails the job instead of a next run.
    job_max_redeliveries: int = Field(default=3, ge=1)
    # SPEC §10: how long POST /slots/holds keeps a slot for one patient.
    slot_hold_seconds: int = Field(default=300, ge=1, le=24 * 3600)
    # --- Server limits against slow and idle clients (panda/server.py; per API process) ---
    # Connections plus running requests before new requests get 503; idle ones count too.
    limit_concurrency: int = Field(default=1000, ge=1)
    backlog: int = Field(default=2048, ge=1)
    # A request's line and headers must arrive within this from the connection's (or the request's) start.
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    max_url_bytes: int = Field(default=8 * 1024, ge=256)  # 414 beyond
    max_headers: int = Field(default=100, ge=10)  # 431 beyond
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)  # names and values together; 431 beyond
    # --- SMTP transport security (domain/channels/smtp.py) ---
    # starttls | implicit (port 465) | none; unset: starttls if SMTP_STARTTLS is true, else none.
    smtp_tls: Literal["starttls", "implicit", "none"] | None = None
    # A PEM bundle of the CA(s) to trust instead of the system's (a private relay's CA).
    smtp_ca_file: Path | None = None
    # --- Access control (SPEC §9; domain/auth) ---
    # on | off; unset: off when HOST is a loopback address (a developer's machine), on otherwise.
    auth_mode: Literal["on", "off"] | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None  # else the issuer's discovery document names it
    oidc_roles_claim: str = "roles"  # a dotted path reaches nested claims (Keycloak: realm_access.roles)
    # How old the in-process copy of the API keys may grow: created and revoked keys take effect within it.
    api_key_refresh_seconds: float = Field(default=2.0, gt=0, le=5)

    # --- GOV.UK Notify (domain/channels/notify.py, api/controllers/callbacks.py) ---
    # The API key as Notify issues it: ``{key name}-{service id}-{secret}``.
    notify_api_key: str | None = None
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_email_template_id: str | None = None
    notify_sms_template_id: str | None = None
    # The bearer token Notify sends with delivery receipts (set the same in Notify's callback settings).
    notify_callback_token: str | None = None

    @field_validator("reminder_offsets", mode="before")
    @classmethod
    def _parse_offsets(cls, value: object) -> tuple[int, ...]:
        """``24h,2h`` → minutes, largest first; an empty value plans no reminders."""
        if isinstance(value, str):
            items = [part for part in value.split(",") if part.strip()]
            try:
                offsets = {parse_minutes(part) for part in items}
            except RuleViolation as exc:
                raise ValueError(f"REMINDER_OFFSETS: {exc.code}") from None
            return tuple(sorted((o for o in offsets if o > 0), reverse=True))
        return tuple(value)  # type: ignore[arg-type]

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return tuple(value)  # type: ignore[arg-type]

    @property
    def reminder_policy(self) -> ReminderPolicy:
        """The reminders every booking gets, as the booking rules take them."""
        return ReminderPolicy(offsets_minutes=self.reminder_offsets, channel=self.reminder_channel)

    @property
    def auth_enabled(self) -> bool:
        """Whether requests need a credential: ``AUTH_MODE``, or by default whether HOST faces a network."""
        if self.auth_mode is not None:
            return self.auth_mode == "on"
        return not is_loopback(self.host)

    @property
    def missing_notify_settings(self) -> list[str]:
        """The settings the ``notify`` channel needs that are unset (its reminders would all fail)."""
        needed = {
            "NOTIFY_API_KEY": self.notify_api_key,
            "NOTIFY_EMAIL_TEMPLATE_ID": self.notify_email_template_id,
            "NOTIFY_SMS_TEMPLATE_ID": self.notify_sms_template_id,
            "NOTIFY_CALLBACK_TOKEN": self.notify_callback_token,
        }
        return [name for name, value in needed.items() if not value]

    @property
    def is_sqlite(self) -> bool:
        """The embedded default: serialised writes instead of exclusion constraints."""
        return self.database_url.startswith("sqlite")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ``::1`` or ``localhost``: a developer's own machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
