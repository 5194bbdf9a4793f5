# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PALLAPP_ENV_NAME ?= development

.PHONY: run test install install-test translations chromium lint typecheck audit audit-probe clean

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

lint: $(VENV)/.installed-test
	$(BIN)/ruff check pallapp tests benchmarks wsgi.py

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy --strict

test: install-test translations chromium lint typecheck
	PALLAPP_ENV_NAME=testing $(BIN)/pytest --cov --cov-report=
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

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache translations/*/LC_MESSAGES/*.mo
