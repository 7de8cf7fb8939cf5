"""Speed and scale benchmark: `isnad bench` / `make bench` (see bench/run.py)."""
