# The template's two everyday commands:
#   make demo   generate a service with the default answers and serve it on http://127.0.0.1:8000
#   make test   run every test of the template (generation matrix, refusals, browser)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

demo: $(BIN)/.installed
	$(BIN)/cookiecutter --no-input --overwrite-if-exists --output-dir build .
	cd build/my-service && ../../$(BIN)/python -m uvicorn my_service.main:app --app-dir src --host 127.0.0.1 --port 8000

test: $(BIN)/.installed
	$(BIN)/python -m pytest -n 2

lint: $(BIN)/.installed
	$(BIN)/ruff check hooks tests && $(BIN)/ruff format --check hooks tests

clean:
	rm -rf build $(VENV)
