"""Isnad indexer: read, clean, chunk, embed and store Arabic news articles."""
