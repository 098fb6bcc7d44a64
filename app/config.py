"""The one settings object. Values come from the environment (prefix AUTODIAG_) or a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTODIAG_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    catalog_dir: Path = PROJECT_ROOT
    """Folder holding `criteria/` and `questionnaires/`."""
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "app" / "static"
    host: str = "127.0.0.1"
    port: int = 8000


settings = Settings()
