# The template's two everyday commands:
#   make demo   generate a service with the default answers and serve it on http://127.0.0.1:8000
#   make test   run every test of the template (generation matrix, refusals, browser)
#   make bench  measure CORS costs through uvicorn with wrk (about 8 minutes; writes benchmarks/results.md)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The security scanners (checkov, zizmor) live apart: checkov's pins clash with requirements.txt.
SCANNERS := .venv-scanners

# The tests drive real programs from Debian's packages: Chromium for the browser
# tests (never a browser download), PostgreSQL for the origin registry, openssl
# for the scanner's https server, npm (and Node.js) for Backstage's schemas.
# `make test` installs the missing ones.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: demo test test-setup bench lint clean system-packages backstage-schemas

# uv installs both environments (several times faster than pip): the uv that
# requirements.txt pins, put into .venv with pip first.
$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$$(grep -E '^uv==' requirements.txt)"

$(BIN)/.installed: requirements.txt | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt
	touch $@

$(SCANNERS)/bin/.installed: requirements-scanners.txt | $(BIN)/uv
	$(BIN)/uv venv --quiet --clear --python $(PYTHON) $(SCANNERS)
	$(BIN)/uv pip install --quiet --python $(SCANNERS)/bin/python -r requirements-scanners.txt
	touch $@

demo: $(BIN)/.installed
	$(BIN)/cookiecutter --no-input --overwrite-if-exists --output-dir build .
	cd build/my-service && ../../$(BIN)/python -m uvicorn my_service.main:app --app-dir src --host 127.0.0.1 --port 8000

system-packages:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v openssl > /dev/null || missing="$$missing openssl"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl > /dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v npm > /dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages the tests need:$$missing"; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	fi

# Backstage's own JSON schemas (catalog entities, scaffolder templates), from its
# npm packages as tools/backstage/package-lock.json pins them, for tests/test_backstage.py.
BACKSTAGE := tools/backstage
$(BACKSTAGE)/schemas/.exported: $(BACKSTAGE)/package-lock.json $(BACKSTAGE)/export-schemas.cjs | system-packages
	cd $(BACKSTAGE) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && node export-schemas.cjs
	touch $@

backstage-schemas: $(BACKSTAGE)/schemas/.exported

# The set-up steps run at the same time (only npm waits for the Debian packages);
# --output-sync keeps each step's output together.
test-setup: $(BIN)/.installed $(SCANNERS)/bin/.installed system-packages backstage-schemas

test:
	$(MAKE) --no-print-directory --jobs=4 --output-sync=target test-setup
	$(BIN)/python -m pytest -n 2

bench: $(BIN)/.installed
	command -v wrk > /dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python benchmarks/bench.py

lint: $(BIN)/.installed
	$(BIN)/ruff check hooks tests benchmarks && $(BIN)/ruff format --check hooks tests benchmarks

clean:
	rm -rf build $(VENV) $(SCANNERS) $(BACKSTAGE)/node_modules $(BACKSTAGE)/schemas
