"""One settings object for the service, read from ISNAD_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ISNAD_", extra="ignore")

    index: Path = Path("index")
    host: str = "127.0.0.1"
    port: int = 8000
    embed_backend: str | None = None  # default: the backend recorded in the index manifest
    embed_model: str | None = None
