# praxisbote: `make run` serves a demo on SQLite; `make test` runs everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export PRAXISBOTE_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint test-sqlite test-postgres browser-deps imap-deps bench clean help

help:
	@echo "make run    - install, migrate, create the demo practice, serve http://127.0.0.1:8000"
	@echo "make test   - lint + the whole suite on SQLite and PostgreSQL"
	@echo "make bench  - benchmarks (figures go to docs/benchmarks.md by hand)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/praxisbote init
	$(BIN)/praxisbote demo
	$(BIN)/praxisbote serve

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "WARNING: could not install chromium; browser tests will be skipped"; \
	  else echo "WARNING: chromium missing and apt-get not usable; browser tests will be skipped"; fi; }

# Debian's Dovecot for the Sent-folder tests (a real IMAP server started by the tests).
imap-deps:
	@command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null) \
	      || echo "WARNING: could not install dovecot-imapd; the Sent-folder tests will be skipped (under CI=true: fail)"; \
	  else echo "WARNING: dovecot missing and apt-get not usable; the Sent-folder tests will be skipped (under CI=true: fail)"; fi; }

test-sqlite: $(VENV)/.installed-test
	env -u DATABASE_URL PRAXISBOTE_DATA_DIR=$(CURDIR)/var/test-sqlite $(BIN)/python -m pytest -q

test-postgres: $(VENV)/.installed-test
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  DATABASE_URL=$(PG_URL) PRAXISBOTE_DATA_DIR=$(CURDIR)/var/test-postgres $(BIN)/python -m pytest -q; \
	elif [ "$$CI" = "true" ]; then \
	  echo "ERROR: PostgreSQL at $(PG_URL) is unreachable and CI=true"; exit 1; \
	else \
	  echo "SKIPPED: PostgreSQL at $(PG_URL) is unreachable; the PostgreSQL run did not happen"; \
	fi

test: browser-deps imap-deps lint test-sqlite test-postgres

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

bench: $(VENV)/.installed-bench
	@if [ -d bench ] && ls bench/*.py >/dev/null 2>&1; then \
	  for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done; \
	else echo "no benchmarks yet"; fi

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# Translations: collect strings into locale/de/LC_MESSAGES/django.po (needs GNU gettext),
# then compile django.mo. Translate the new entries and commit both files: a fresh clone
# then runs without gettext.
.PHONY: messages
messages: $(VENV)/.installed-test
	cd src/praxisbote && DJANGO_SETTINGS_MODULE=praxisbote.settings ../../$(BIN)/django-admin \
	  makemessages -l de --add-location file --no-obsolete --no-wrap
	cd src/praxisbote && DJANGO_SETTINGS_MODULE=praxisbote.settings ../../$(BIN)/django-admin \
	  compilemessages -l de
