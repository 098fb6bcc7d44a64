"""The one settings object. Values come from the environment (prefix AUTODIAG_) or a .env file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTODIAG_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    catalog_dir: Path = PROJECT_ROOT
    """Folder holding `criteria/` and `questionnaires/`."""
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "app" / "static"
    data_dir: Path = DEFAULT_DATA_DIR
    """Where the embedded database, the evidence files and the generated keys live."""
    database_url: str = Field("", validation_alias=AliasChoices("DATABASE_URL", "AUTODIAG_DATABASE_URL"))
    """SQLAlchemy URL; empty means the embedded SQLite file `<data_dir>/autodiag.sqlite3`."""
    secret_key: str = ""
    """Signs session cookies; empty means a random key generated once and kept in `data_dir`."""
    max_upload_bytes: int = 20 * 1024 * 1024
    """An evidence file or a workbook; the body of a request that uploads one may be 64 KiB larger."""
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    """Any other request body: forms and JSON (`POST /api/v1/score` included)."""
    max_running_requests: int = Field(16, ge=1)
    """Requests a worker serves at once; the database pool and the thread pool are sized from it."""
    max_waiting_requests: int = Field(128, ge=0)
    """Requests that may wait for a free slot; any more get 503 with `Retry-After` at once."""
    max_wait_seconds: float = Field(5.0, gt=0)
    """How long a request may wait for a slot before getting 503."""
    snapshot_signing_key: str = ""
    """Ed25519 private key (PEM, PKCS#8) that signs snapshots; empty means one generated once and
    kept in `data_dir` (`snapshot_signing_key.pem`)."""
    pg_bin_dir: Path | None = None
    """Where `pg_dump` and `pg_restore` are (`autodiag backup` on PostgreSQL); None means the PATH."""
    reload_templates: bool = False
    """Re-read a template changed on disk (for template work: it costs a file check per template
    per request, about a tenth of a questionnaire page's time). `autodiag serve --reload` sets it."""
    api_rate_limit_per_minute: int = Field(300, ge=1)
    """Requests a minute per API token, counted in the database for all workers together."""
    metrics_token: str = ""
    """Bearer token that `/metrics` (Prometheus) asks for; empty means no metrics endpoint (404)."""
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    """The site's address as people reach it: e-mails link back to it (no trailing slash needed)."""
    smtp_host: str = ""
    """SMTP server for outgoing e-mail; empty means messages are written as `.eml` files under
    `<data_dir>/outbox/` instead (development)."""
    smtp_port: int = 587
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "Autodiag <noreply@localhost>"
    mail_max_attempts: int = Field(8, ge=1)
    """Tries before a message is marked failed (backoff doubles from one minute between tries)."""
    mail_worker: bool | None = None
    """Send e-mail from the web process after each commit that queued some; None means yes except
    in the test environment (tests send explicitly)."""

    @model_validator(mode="after")
    def _production_needs_explicit_secrets(self) -> Settings:
        if self.environment == "production" and (not self.secret_key or len(self.secret_key) < 32):
            raise ValueError("AUTODIAG_SECRET_KEY must be set to at least 32 characters in production")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'autodiag.sqlite3'}"

    @property
    def database_pool(self) -> dict[str, int]:
        """One connection for each running request, a few for the e-mail worker and the CLI, no overflow.

        The concurrency guard admits no more requests than that, so no request waits for a connection.
        """
        return {"pool_size": self.max_running_requests + 4, "max_overflow": 0, "pool_timeout": 10}

    @property
    def worker_threads(self) -> int:
        """Threads for sync routes and dependencies: one per running request, plus static files' reads."""
        return self.max_running_requests + 8

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def outbox_dir(self) -> Path:
        """Where e-mails are written as `.eml` files when no SMTP server is configured."""
        return self.data_dir / "outbox"

    @property
    def runs_mail_worker(self) -> bool:
        return self.mail_worker if self.mail_worker is not None else self.environment != "test"


def secret_key(settings: Settings) -> str:
    """Return the configured secret key, or one generated once and kept in `<data_dir>/secret_key`.

    Production refuses to start without `AUTODIAG_SECRET_KEY` (see `Settings`); elsewhere a random
    key survives restarts so sessions do too. The file is written aside and linked into place, so
    two workers starting together agree on one key and nobody ever reads a half-written file.
    """
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process won the race: use its key
    finally:
        draft.unlink()
    return path.read_text(encoding="ascii").strip()


settings = Settings()
