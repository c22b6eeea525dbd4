# Two commands a newcomer needs: `make demo` and `make test`. Only Python >= 3.11 is required.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install migrate load demo serve test test-e2e lint format clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)." % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --no-input

load: migrate
	$(BIN)/python manage.py load_reading
	$(BIN)/python manage.py seed_demo

demo: load
	@echo ""
	@echo "  Open http://$(HOST):$(PORT)/ — the paper is at /read/, the timeline at /timeline/,"
	@echo "  the API at /api/v1/ (docs at /api/docs/), the admin at /admin/."
	@echo "  Log in with the demo accounts above. Stop the server with Ctrl-C."
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite: unit, page, API and (where Chromium is installed) browser tests.
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/sco make test runs it on PostgreSQL.
test: install
	$(BIN)/python -m pytest

test-e2e: install
	$(BIN)/python -m pytest tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache test-artifacts
