# Two commands on a fresh clone: `make run` serves the sample corpus, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
INDEX ?= index
CORPUS ?= data/astana
STAMP := $(VENV)/.installed
# Two stamps: `make run` installs only what serving needs; `make test` adds torch and every extra on top.
FULL := $(VENV)/.installed-full

.PHONY: FORCE run serve index test test-fast lint eval bench load clean system-deps train-reader

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(FULL): $(STAMP)
	# CPU torch from the local wheel first: a bare torch requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[eval,test,milvus,st,mcp,langchain]'
	touch $(FULL)

# Every file under CORPUS (the reader recurses: .txt .jsonl, .html/.htm/.xhtml[.gz], .warc[.gz], .rss/.atom/.xml),
# and which folder it is: `make run CORPUS=other/folder` re-indexes even when its files are older than the index.
CORPUS_FILES := $(shell find $(CORPUS) -type f 2>/dev/null | sed 's/ /\\ /g')

$(INDEX)/.corpus: FORCE
	@mkdir -p $(INDEX)
	@echo '$(abspath $(CORPUS))' | cmp -s - $@ || echo '$(abspath $(CORPUS))' > $@

$(INDEX)/manifest.json: $(STAMP) $(INDEX)/.corpus $(CORPUS_FILES)
	$(BIN)/isnad index $(CORPUS) --index $(INDEX)

FORCE:

index: $(INDEX)/manifest.json

run: $(INDEX)/manifest.json
	@echo "Isnad: http://$(HOST):$(PORT)/"
	$(BIN)/isnad serve --index $(INDEX) --host $(HOST) --port $(PORT)

serve: run

# Debian's chromium for the browser tests; installed only when missing and we may install packages.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: chromium not installed; browser tests will fail"; }

test: $(FULL) system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -ra

test-fast: $(FULL)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(FULL)
	$(BIN)/ruff check .

eval: $(FULL)
	$(BIN)/isnad eval --heldout

bench: $(FULL)
	$(BIN)/isnad bench

# The reader shipped in indexer/reader/data/reader.npz, from ../shared/eval/reading (fixed seed and split).
train-reader: $(FULL)
	$(BIN)/isnad train-reader

# 32 clients for 30 s against a real server on the sample index (loopback); fails on any error.
load: $(INDEX)/manifest.json $(FULL)
	$(BIN)/python -m tests.load.loadtest --index $(INDEX) --clients 32 --seconds 30 --out test-artifacts/load.json

clean:
	rm -rf $(INDEX) .pytest_cache
