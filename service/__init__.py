"""Isnad service: search, answering, the HTTP API, the chat page and the CLI."""
