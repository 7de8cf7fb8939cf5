"""Isnad: semantic search and cited question answering over Arabic news.

The one import package of the distribution. Its subpackages live in the repo's top-level folders
(`indexer/`, `service/`, `eval/`, `bench/`, `cli/`), mapped in by pyproject's `package-dir`, so
`import isnad.service` never collides with another project's `service`.
"""
