"""Settings of the App (`serve`, `worker`, `db upgrade`), from `STOPSHIP_*` environment variables,
validated once at start-up; an error names the variable and says what is wrong with it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(ValueError):
    """Raised with one line per bad variable: `STOPSHIP_X: reason`."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOPSHIP_", extra="ignore", frozen=True)

    database_url: str = "sqlite+aiosqlite:///./stopship.db"
    queue: Literal["inline", "procrastinate"] = "inline"
    github_app_id: int | None = None
    github_private_key: SecretStr | None = None
    github_private_key_file: Path | None = None
    # One secret, or several separated by commas while rotating.
    github_webhook_secret: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    max_webhook_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    # Webhook bodies held in memory at once by one process, signed or not (app/web/intake.py)
    webhook_buffer_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Seconds to receive a webhook body (GitHub itself gives up on a delivery after 10)
    webhook_read_timeout: float = Field(default=10.0, gt=0, le=300)
    inline_concurrency: int = Field(default=4, ge=1, le=64)
    # What one file's analysis may cost (app/engine/budget.py): over it, a parse problem.
    analysis_seconds: float = Field(default=60.0, gt=0, le=3600)
    analysis_memory_mb: int = Field(default=1024, ge=256, le=65536)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be an async SQLAlchemy URL: sqlite+aiosqlite://... or postgresql+asyncpg://..."
            )
        return value

    @field_validator("github_api_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https:// URL (GHES: https://HOST/api/v3)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _buffer_holds_one_body(self) -> Settings:
        if self.webhook_buffer_bytes < self.max_webhook_bytes:
            raise ValueError(
                f"STOPSHIP_WEBHOOK_BUFFER_BYTES ({self.webhook_buffer_bytes}) is less than "
                f"STOPSHIP_MAX_WEBHOOK_BYTES ({self.max_webhook_bytes}): no body that large "
                "could ever be read"
            )
        return self

    @model_validator(mode="after")
    def _procrastinate_needs_postgresql(self) -> Settings:
        if self.queue == "procrastinate" and not self.database_url.startswith("postgresql"):
            raise ValueError(
                "STOPSHIP_QUEUE=procrastinate needs PostgreSQL, but STOPSHIP_DATABASE_URL is "
                f"{self.database_url.split(':', 1)[0]}: set STOPSHIP_DATABASE_URL="
                "postgresql+asyncpg://... or STOPSHIP_QUEUE=inline"
            )
        return self

    def webhook_secrets(self) -> list[bytes]:
        if self.github_webhook_secret is None:
            return []
        raw = self.github_webhook_secret.get_secret_value()
        return [s.strip().encode() for s in raw.split(",") if s.strip()]

    def _app_identity_problems(self, command: str) -> list[str]:
        problems = []
        if self.github_app_id is None:
            problems.append(f"STOPSHIP_GITHUB_APP_ID: required by {command}")
        if self.github_private_key is None and self.github_private_key_file is None:
            problems.append(
                "STOPSHIP_GITHUB_PRIVATE_KEY / STOPSHIP_GITHUB_PRIVATE_KEY_FILE: one is required"
            )
        if self.github_private_key_file is not None and not self.github_private_key_file.is_file():
            problems.append(
                f"STOPSHIP_GITHUB_PRIVATE_KEY_FILE: {self.github_private_key_file} is not a file"
            )
        return problems

    def require_for_serve(self) -> None:
        """`serve` needs the App identity and a webhook secret: fail fast, naming what is absent."""
        problems = self._app_identity_problems("serve")
        if not self.webhook_secrets():
            problems.append("STOPSHIP_GITHUB_WEBHOOK_SECRET: required by serve")
        if problems:
            raise SettingsError("; ".join(problems))

    def require_for_worker(self) -> None:
        """`worker` runs the procrastinate queue and calls GitHub as the App (it needs no webhook
        secret): fail fast, naming what is absent."""
        problems = self._app_identity_problems("worker")
        if self.queue != "procrastinate":
            problems.insert(
                0,
                "STOPSHIP_QUEUE: `stopship worker` runs the procrastinate queue; set "
                "STOPSHIP_QUEUE=procrastinate (with the inline queue `serve` runs the jobs itself)",
            )
        if problems:
            raise SettingsError("; ".join(problems))


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            if not error["loc"]:  # a rule across variables: its message names them
                lines.append(str(error["msg"]).removeprefix("Value error, "))
                continue
            name = "STOPSHIP_" + "_".join(str(p) for p in error["loc"]).upper()
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("; ".join(lines)) from None
