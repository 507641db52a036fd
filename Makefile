# MLTRL Dashboard. Two commands on a fresh machine: `make run` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
PORT    ?= 8501
ADDRESS ?= 127.0.0.1
CHROMIUM ?= /usr/bin/chromium

.PHONY: run install dev browser postgres mlflow-server lint test test-fast bench screenshots clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[mlflow,hf]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@test -x "$(CHROMIUM)" || { echo "chromium is missing at $(CHROMIUM)"; exit 1; }

# Debian's PostgreSQL server binaries: every database test also runs on PostgreSQL (tests/pg.py
# starts a throwaway server of its own). The system cluster is not started: where no
# /usr/sbin/policy-rc.d exists, one that denies service starts stands in during the install (the
# package's postinst would otherwise try to start a cluster, which can fail without systemd).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing Debian's postgresql for the tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		POLICY=/usr/sbin/policy-rc.d; OWN_POLICY=; \
		if [ ! -e $$POLICY ]; then \
			printf '#!/bin/sh\nexit 101\n' | $$SUDO tee $$POLICY >/dev/null && $$SUDO chmod 755 $$POLICY && OWN_POLICY=1; \
		fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
		STATUS=$$?; \
		[ -z "$$OWN_POLICY" ] || $$SUDO rm -f $$POLICY; \
		[ $$STATUS = 0 ] || exit $$STATUS; \
	fi
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "PostgreSQL's initdb is missing under /usr/lib/postgresql/*/bin"; exit 1; }

# A real MLflow tracking server for the MLflow sync tests (tests/mlflow_server.py starts one on a free
# loopback port). Full mlflow is heavy and pins its own dependencies, so it lives in a venv of its
# own; the app's venv holds only the client (mlflow-skinny).
MLFLOW_VENV ?= .venv-mlflow

$(MLFLOW_VENV)/.installed:
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install -q --upgrade pip
	$(MLFLOW_VENV)/bin/pip install -q "mlflow>=3.4"
	touch $@

mlflow-server: $(MLFLOW_VENV)/.installed

# Installs, migrates, loads the demo portfolio into an empty database, serves the app.
run: install
	$(VENV)/bin/mltrl db upgrade
	$(VENV)/bin/mltrl demo load --if-empty
	$(VENV)/bin/streamlit run server.py --server.port $(PORT) --server.address $(ADDRESS) \
		--server.headless true --browser.gatherUsageStats false

# ruff (pyproject.toml's [tool.ruff]) and the layer contracts (import-linter, [tool.importlinter]).
lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The lint, then the whole suite: unit, services, CLI, pages (AppTest) and browser journeys.
test: lint browser postgres mlflow-server
	$(PY) -m pytest -q -n 2

# Everything but the browser journeys.
test-fast: dev postgres mlflow-server
	$(PY) -m pytest -q -m "not e2e"

bench: dev postgres
	$(PY) -m bench.run

# The README's screenshots (docs/screenshots/), from the browser walk on the demo placed for a fixed
# day (the server living on it), in the working view and in presentation mode.
screenshots: dev browser
	MLTRL_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q -p no:xdist tests/e2e/test_screen_walk.py -k "fixed-day and reads"

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) .pytest_cache tests/e2e/artifacts bench/results
