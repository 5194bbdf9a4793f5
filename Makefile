# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PALLAPP_ENV_NAME ?= development

.PHONY: run test install install-test translations chromium nginx oidc-provider oidc-demo lint typecheck audit audit-probe bench bench-full clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# .po files are committed; .mo files are built here.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d translations

run: install translations
	$(BIN)/flask --app pallapp db upgrade
	$(BIN)/flask --app pallapp demo-data --if-empty
	$(BIN)/flask --app pallapp run --host 127.0.0.1 --port 5000

chromium:
	@scripts/ensure-chromium

# The test OpenID Connect providers (tests/identity.py): oidc-provider from the npm registry,
# pinned by tests/oidc/package-lock.json. Needs node (18 or newer) and npm; without them the
# provider tests skip with a notice.
oidc-provider: tests/oidc/node_modules/.installed

tests/oidc/node_modules/.installed: tests/oidc/package.json tests/oidc/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd tests/oidc && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	else \
	  echo "oidc-provider: npm not found; the OpenID Connect tests will skip"; \
	fi

# The demo with provider logins: both test providers and the demo on http://127.0.0.1:5000,
# three demo accounts bound to identities there (scripts/oidc_demo.py says which).
oidc-demo: install-test translations oidc-provider
	$(BIN)/python scripts/oidc_demo.py

# nginx for the production topology (tests/topology, bench-full): Debian's package when root.
nginx:
	@scripts/ensure-nginx

lint: $(VENV)/.installed-test
	$(BIN)/ruff check pallapp tests benchmarks deploy wsgi.py
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test: install-test translations chromium nginx oidc-provider lint typecheck
	PALLAPP_ENV_NAME=testing $(BIN)/pytest -n auto --dist loadgroup --cov --cov-report=
	$(BIN)/coverage report --include='pallapp/scoring/*' --show-missing --fail-under=100

# Supply chain: known vulnerabilities in the installed packages. pip-audit needs a vulnerability
# database on the network; audit-probe succeeds only when one answers (CI runs audit then).
$(VENV)/.installed-audit: $(VENV)/.installed
	$(BIN)/pip install --quiet pip-audit
	touch $@

audit-probe: $(VENV)/.installed-audit
	@echo "Flask==3.1.0" > $(VENV)/audit-probe.txt
	@$(BIN)/pip-audit --strict --no-deps --progress-spinner off -r $(VENV)/audit-probe.txt >/dev/null 2>&1

audit: $(VENV)/.installed-audit
	$(BIN)/pip-audit --strict --skip-editable --progress-spinner off

# Benchmarks (benchmarks/README.md). `bench`: a small version on SQLite in a few minutes (200
# patients in 2 units at 1x and 10x history, every main page, a 20-second load run).
# `bench-full`: the region on PostgreSQL at 1x, 10x and 100x history and the 32-user load run;
# BENCH_BEFORE=<commit> measures that commit beside this tree in the same run (before-after.md),
# BENCH_FULL_OPTIONS passes more options to benchmarks/full.py (e.g. small settings).
BENCH_OUT ?= instance/bench
BENCH_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432
BENCH_BEFORE ?=
BENCH_FULL_OPTIONS ?=

$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.installed-bench translations
	rm -rf $(BENCH_OUT)/small && mkdir -p $(BENCH_OUT)/small
	for scale in 1 10; do \
	  db=sqlite:///$(CURDIR)/$(BENCH_OUT)/small/x$$scale.db; \
	  $(BIN)/python -m benchmarks.generate --database-url $$db --patients 200 --units 2 \
	    --history-scale $$scale --accounts $(BENCH_OUT)/small/accounts.json || exit 1; \
	  $(BIN)/python benchmarks/pages.py --database-url $$db --repeat 10 --label x$$scale \
	    --accounts $(BENCH_OUT)/small/accounts.json --out $(BENCH_OUT)/small || exit 1; \
	done
	$(BIN)/python benchmarks/compare.py $(BENCH_OUT)/small/pages-x1.json \
	  $(BENCH_OUT)/small/pages-x10.json --output $(BENCH_OUT)/small/compare.md
	$(BIN)/python benchmarks/load.py --database-url sqlite:///$(CURDIR)/$(BENCH_OUT)/small/x10.db \
	  --accounts $(BENCH_OUT)/small/accounts.json --duration 20 --warmup 5 --modes think \
	  --workers 2 --out $(BENCH_OUT)/small/load
	@echo "Results in $(BENCH_OUT)/small (compare.md, pages-*.md, load/load.md)"

bench-full: $(VENV)/.installed-bench translations nginx
	$(BIN)/python benchmarks/full.py --server $(BENCH_POSTGRES) --out $(BENCH_OUT)/full \
	  $(if $(BENCH_BEFORE),--before $(BENCH_BEFORE)) $(BENCH_FULL_OPTIONS)

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache translations/*/LC_MESSAGES/*.mo
