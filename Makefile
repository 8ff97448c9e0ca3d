# Clinic Portal. `make demo` runs it; `make test` checks it. Both set up .venv on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 || command -v python3.12 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint format bench audit lock install run worker clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || \
		{ echo "Python 3.12 or newer is needed (found $$($(PYTHON) --version)); set PYTHON=/path/to/python3.13"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

demo: install
	$(BIN)/clinicportal migrate --verbosity 0
	$(BIN)/clinicportal demo_load
	@echo
	@echo "Office console:  http://$(HOST):$(PORT)/office/   (logins above)"
	@echo "                 then the two-step code: $(BIN)/clinicportal demo_code <username>"
	@echo "Patient portal:  http://$(HOST):$(PORT)/p/clearview/"
	@echo "Stop with Ctrl-C."
	@trap 'kill 0' EXIT INT TERM; \
		$(BIN)/clinicportal demo_smtp & \
		while true; do $(BIN)/clinicportal db_worker --verbosity 0; \
			echo "The worker stopped; starting it again."; sleep 1; done & \
		$(BIN)/clinicportal runserver $(HOST):$(PORT) --noreload

test: install node_modules/axe-core/axe.min.js
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The time frames of docs/security.md, "Dependencies and their time frames" (asks PyPI).
audit: install
	$(BIN)/python tools/audit_dependencies.py

# Move every pin to the newest release its range allows; then `make test`.
lock: install
	$(BIN)/pip-compile --quiet --upgrade --extra=demo --extra=dev --no-emit-find-links \
		--no-emit-index-url --output-file=requirements.lock --strip-extras pyproject.toml

bench: install
	$(BIN)/python bench/patient_search.py
	$(BIN)/python bench/portal_login.py
	$(BIN)/python bench/download.py
	$(BIN)/python bench/upload.py
	$(BIN)/python bench/records_page.py
	$(BIN)/python bench/portal_pages.py
	$(BIN)/python bench/outbox.py
	$(BIN)/python bench/messages.py
	$(BIN)/python bench/schedule.py
	$(BIN)/python bench/forms.py
	$(BIN)/python bench/invoices.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
