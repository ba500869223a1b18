# Commissioner: every target bootstraps .venv itself from requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
CHROMIUM := /usr/bin/chromium

.PHONY: demo test test-sqlite test-postgres bench bench-performance bench-benchmarking lint venv browser clean

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

# The residents' feedback classifier, built from data/feedback into var/models/ when missing or stale (seconds).
.PHONY: feedback-model
feedback-model: $(STAMP)
	@$(BIN)/python scripts/train_feedback_model.py --if-missing --no-cv

demo: $(STAMP) feedback-model
	@$(BIN)/commissioner demo

test: $(STAMP) browser feedback-model
	@scripts/run-tests.sh

bench: $(STAMP)
	@$(BIN)/python bench/import_bench.py

bench-performance: $(STAMP)
	@$(BIN)/python bench/performance_bench.py

# National benchmarking at scale (issue 4): PostgreSQL only; BENCH_PG to use another server.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
bench-benchmarking: $(STAMP)
	@$(BIN)/python bench/benchmark_bench.py --postgres $(BENCH_PG)

# Decision tools (issue 5): Monte Carlo appraisal, 7 options x 100,000 draws.
.PHONY: bench-decision
bench-decision: $(STAMP)
	@$(BIN)/python bench/decision_bench.py

# Participatory budgeting rules against pabutools (own venv under bench/out/pb-venv; needs ../shared).
.PHONY: bench-pb
bench-pb: $(STAMP)
	@$(BIN)/python bench/pb_bench.py

lint: $(STAMP)
	@$(BIN)/ruff check src tests bench scripts

clean:
	rm -rf $(VENV) var
