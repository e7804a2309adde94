"""Settings: environment variables (and an optional .env) read by one object, with server-free defaults."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.config import Settings, get_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No PANDA variable from the machine, and a working directory without a .env file."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_documented_defaults() -> None:
    settings = Settings()
    assert settings.reminder_offsets == (24 * 60, 2 * 60)
    assert settings.reminder_channel == "outbox"
    assert settings.port == 8000
    assert settings.web_concurrency == 1
    assert settings.scheduler_interval == 30
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert "var/" in settings.database_url
    assert settings.is_sqlite
    assert "redis" not in settings.broker_url  # the embedded default needs no server


def test_default_offsets_equal_parsing_24h_2h(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDER_OFFSETS", "24h,2h")
    assert Settings().reminder_offsets == (1440, 120)


@pytest.mark.parametrize(
    ("raw", "minutes"),
    [
        ("1m,30m", (30, 1)),
        ("30m,1m", (30, 1)),
        (" 1m , 30m ", (30, 1)),
        ("2h,120m,24h", (1440, 120)),  # duplicates collapse
        ("PT1H,1h30m", (90, 60)),
        ("168h", (168 * 60,)),  # a week ahead is fine for an offset
        ("24h,,2h,", (1440, 120)),
    ],
)
def test_reminder_offsets_parse_in_the_duration_syntax(
    monkeypatch: pytest.MonkeyPatch, raw: str, minutes: tuple[int, ...]
) -> None:
    monkeypatch.setenv("REMINDER_OFFSETS", raw)
    assert Settings().reminder_offsets == minutes


def test_an_empty_offsets_value_plans_no_reminders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDER_OFFSETS", "")
    assert Settings().reminder_offsets == ()


@pytest.mark.parametrize("raw", ["soon", "1x", "24h;2h", "-5m", "1.5h", "24", "2h,tomorrow"])
def test_a_bad_offsets_value_is_an_error_naming_the_setting(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("REMINDER_OFFSETS", raw)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "REMINDER_OFFSETS" in str(caught.value)


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://panda@db/panda")
    monkeypatch.setenv("BROKER_URL", "redis://redis:6379/0")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    monkeypatch.setenv("REMINDER_CHANNEL", "smtp")
    monkeypatch.setenv("SCHEDULER_INTERVAL", "5")
    settings = Settings()
    assert (settings.port, settings.web_concurrency, settings.scheduler_interval) == (9000, 4, 5)
    assert settings.reminder_channel == "smtp"
    assert settings.broker_url == "redis://redis:6379/0"
    assert not settings.is_sqlite


def test_a_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("REMINDER_OFFSETS=1m,30m\nPORT=8123\n", encoding="utf-8")
    settings = Settings()
    assert settings.reminder_offsets == (30, 1)
    assert settings.port == 8123


def test_the_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=8123\n", encoding="utf-8")
    monkeypatch.setenv("PORT", "8200")
    assert Settings().port == 8200


@pytest.mark.parametrize(("name", "value"), [("PORT", "eighty"), ("WEB_CONCURRENCY", "0"), ("SCHEDULER_INTERVAL", "0")])
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_cors_origins_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().cors_origins == ()
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example,")
    assert Settings().cors_origins == ("https://a.example", "https://b.example")


def test_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("PORT", "9999")
    assert get_settings() is first
    assert get_settings().port == 8000


def test_the_notify_channel_names_the_settings_it_lacks() -> None:
    settings = Settings(_env_file=None, reminder_channel="notify", notify_api_key="k", notify_sms_template_id="")  # type: ignore[call-arg]
    assert settings.missing_notify_settings == [
        "NOTIFY_EMAIL_TEMPLATE_ID",
        "NOTIFY_SMS_TEMPLATE_ID",
        "NOTIFY_CALLBACK_TOKEN",
    ]
