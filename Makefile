# Two commands: `make run` and `make test`. Both create .venv from the lock file first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
STORE ?= $(CURDIR)/data/hotspots.duckdb
export HOTSPOTS_STORE ?= $(STORE)

.PHONY: run test lint bench setup browser postgres lock clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv==0.13.8
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip sync --quiet requirements.lock
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install --quiet --no-deps -C editable_mode=compat -e .
	touch $@

# Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install -y chromium"; exit 1; fi; }

# Debian's PostgreSQL 15 and PostGIS for the server-store tests (they start a throwaway cluster
# on a free local port; without the packages those tests are skipped, saying so).
postgres:
	@{ test -x /usr/lib/postgresql/15/bin/initdb && test -f /usr/share/postgresql/15/extension/postgis.control; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-15-postgis-3 >/dev/null; \
	  else echo "server-store tests need Debian's postgresql and postgresql-15-postgis-3 (sudo apt-get install -y postgresql postgresql-15-postgis-3); they will be skipped"; fi; }

run: setup
	$(BIN)/hotspots ingest --if-empty sample_data/
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: setup browser postgres
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) data/hotspots.duckdb
