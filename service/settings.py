"""One settings object for the service, read from ISNAD_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ISNAD_", extra="ignore")

    index: Path = Path("index")
    host: str = "127.0.0.1"
    port: int = 8000
    # One OpenMP thread per search: requests already run in parallel, and on a busy 2-core machine faiss's
    # 2-thread search of one query measured 4x slower (88 vs 23 ms at 100k) than 1 thread.
    search_threads: int = 1
    # Writes (POST/DELETE /documents, POST /admin/reload) exist only with a key; without one the API is read-only.
    api_key: SecretStr | None = None
    max_body_bytes: int = 1_000_000  # any request body
    max_ingest_bytes: int = 20_000_000  # POST /documents
    cors_origins: str = ""  # comma-separated; empty: no CORS headers at all

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]
