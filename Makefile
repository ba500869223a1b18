# Commissioner: every target bootstraps .venv itself from requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
CHROMIUM := /usr/bin/chromium

.PHONY: demo test test-sqlite test-postgres bench bench-performance lint venv browser clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock "setuptools>=68" wheel
	@$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

# Debian's chromium for the browser tests (never a downloaded browser).
browser:
	@test -x $(CHROMIUM) || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian's chromium (apt)"; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

demo: $(STAMP)
	@$(BIN)/commissioner demo

test: $(STAMP) browser
	@scripts/run-tests.sh

bench: $(STAMP)
	@$(BIN)/python bench/import_bench.py

bench-performance: $(STAMP)
	@$(BIN)/python bench/performance_bench.py

lint: $(STAMP)
	@$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) var
