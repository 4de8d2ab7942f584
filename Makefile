# Kuaigong: `make demo` runs the product with sample data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-clock lint bench browser faketime clean

# Quiet: one line of our own, then pip's errors only (-qq), so a first `make demo` shows the URLs.
$(STAMP): setup.cfg pyproject.toml
	@echo "Installing Kuaigong and its tools into $(VENV)/ (takes a minute or two)..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -qq --upgrade pip
	@$(BIN)/python -m pip install -qq -e '.[test]'
	@touch $(STAMP)

# Debian's Chromium for the browser tests; never a downloaded browser build.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	      || echo "chromium could not be installed: browser tests will skip (or fail under CI)"; \
	  else echo "no /usr/bin/chromium and not root: browser tests will skip (or fail under CI)"; fi; \
	fi

# Debian's faketime (libfaketime) for the clock runs of `make test-clock`.
faketime:
	@if [ ! -x /usr/bin/faketime ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null) \
	      || echo "faketime could not be installed: the clock runs will skip (or fail under CI)"; \
	  else echo "no /usr/bin/faketime and not root: the clock runs will skip (or fail under CI)"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/mypy

# Every test, its files spread over a pytest-xdist worker per CPU (TEST_JOBS); then the clock runs.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
test: $(STAMP) browser faketime lint
	$(BIN)/pytest -n $(TEST_JOBS) --dist loadfile
	@$(MAKE) --no-print-directory test-clock

# The suites again under faketime, each test at a moment of its own near a midnight (every day of
# the week, UTC, the station's UTC+8, far zones, a DST change, the new year), in another time
# zone (see .ci/clock_runs): no test may depend on the real date, time of day or zone.
test-clock: $(STAMP) faketime
	PYTEST=$(BIN)/pytest CLOCK_JOBS=$(TEST_JOBS) .ci/clock_runs

bench: $(STAMP)
	$(BIN)/python -m bench

# A hub on 127.0.0.1:8200 and stations on 8201-8203; their logs go to demo-data/logs/.
demo: $(STAMP)
	@$(BIN)/kuaigong demo --data demo-data

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache
