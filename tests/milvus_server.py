"""A real milvus-lite server on a free loopback port: the bench's (bench/milvus_server.py), for tests."""

from __future__ import annotations

from isnad.bench.milvus_server import START_TIMEOUT_S, MilvusServer, milvus_server

__all__ = ["START_TIMEOUT_S", "MilvusServer", "milvus_server"]
