"""The `isnad` command line (`cli.main:main`): the edge where flags and ISNAD_* environment variables become
arguments and Settings. Nothing is imported here: `python -m cli.main` imports this package first."""

__all__: list[str] = []
