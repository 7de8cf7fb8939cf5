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
    # Query vectors kept in memory (384 float32 each: 8192 is 12 MB); 0 turns the cache off.
    query_cache_size: int = 8192
    # How long the embedding thread waits for more queries after the first; 0 takes only those already
    # queued, which batch by themselves under load without delaying a lone query.
    embed_window_ms: float = 0.0
    # Writes (POST/DELETE /documents, POST /admin/reload) exist only with a key; without one the API is read-only.
    api_key: SecretStr | None = None
    max_body_bytes: int = 1_000_000  # any request body
    max_ingest_bytes: int = 20_000_000  # POST /documents
    cors_origins: str = ""  # comma-separated; empty: no CORS headers at all

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]
