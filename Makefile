# geoapp task runner. `make run` and `make test` are all a newcomer needs.
#
#   make run     install, create the database with the demo county if empty, serve :5000
#   make test    install (plus Chromium and PostGIS via apt-get when root), start a
#                throwaway PostGIS on 127.0.0.1:$(PG_PORT), lint, run every test in
#                parallel (PYTEST_WORKERS=auto: one pytest-xdist worker per core; 0: serial)
#   make lint    ruff check + ruff format --check + mypy (strict for geoapp/core; per-file
#                error counts in scripts/mypy-baseline.txt may only shrink)
#   make bench   every benchmark in bench/, figures in bench/results/NAME.json

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PG_DIR ?= $(CURDIR)/.pgdata
PG_PORT ?= 55432
HOST ?= 127.0.0.1
PORT ?= 5000
APT_PACKAGES := chromium postgresql-15 postgresql-15-postgis-3 fonts-wqy-microhei
PYTEST_ARGS ?=
PYTEST_WORKERS ?= auto

.PHONY: install run test lint format bench system-deps pg-start pg-stop clean translations help \
	translations-extract translations-update
.DEFAULT_GOAL := help

help:
	@sed -n '1,11p' Makefile

# --- installation -------------------------------------------------------------------
$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $@

static/vendor/.installed: package.json package-lock.json scripts/install-assets
	scripts/install-assets
	@touch $@

# Translations: messages.po is the one source.  A fuzzy entry (a guess of `pybabel update`)
# is not compiled: review it (fill the msgstr, drop the fuzzy flag) first.
#   make translations-extract  every marked string into messages.pot (_, gettext, N_, ...)
#   make translations-update   merge messages.pot into messages.po (new msgids get an empty
#                              msgstr to fill in; the lead runs it after merging branches)
#   make translations          compile messages.po into messages.mo
BABEL_KEYWORDS := -k N_ -k lazy_gettext -k ngettext:1,2
POT := geoapp/translations/messages.pot

geoapp/translations/%/LC_MESSAGES/messages.mo: geoapp/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d geoapp/translations -l $* -o $@ -i $<

translations: geoapp/translations/zh/LC_MESSAGES/messages.mo

translations-extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --sort-by-file -o $(POT) .

translations-update: translations-extract
	$(BIN)/pybabel update --no-fuzzy-matching -i $(POT) -d geoapp/translations -l zh

install: $(VENV)/.installed static/vendor/.installed translations

# Chromium and PostGIS for the tests: installed with apt-get when we are root.
system-deps:
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -f /usr/share/postgresql/15/extension/postgis.control || missing="$$missing postgresql-15-postgis-3"; \
	test -x /usr/lib/postgresql/15/bin/pg_ctl || missing="$$missing postgresql-15"; \
	fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || missing="$$missing fonts-wqy-microhei"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing with apt-get:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	else \
	  echo "The tests need these system packages:$$missing"; \
	  echo "On Debian 12: sudo apt-get install $(APT_PACKAGES)"; \
	  exit 1; \
	fi

# --- running ------------------------------------------------------------------------
run: install
	$(BIN)/geoapp init-db
	$(BIN)/geoapp load-demo --if-empty
	$(BIN)/geoapp serve --demo --host $(HOST) --port $(PORT)

# --- checking -----------------------------------------------------------------------
lint: $(VENV)/.installed
	$(BIN)/ruff check geoapp tests bench
	$(BIN)/ruff format --check geoapp tests bench
	$(PY) scripts/mypy_baseline.py

format: $(VENV)/.installed
	$(BIN)/ruff check --fix geoapp tests bench
	$(BIN)/ruff format geoapp tests bench

pg-start: system-deps
	@scripts/pg-test-server start $(PG_DIR) $(PG_PORT) > $(PG_DIR).url
	@echo "PostGIS test server: $$(cat $(PG_DIR).url)"

pg-stop:
	@scripts/pg-test-server stop $(PG_DIR) || true

test: install system-deps lint
	@$(MAKE) --no-print-directory pg-start
	@status=0; \
	GEOAPP_TEST_POSTGIS_URL="$$(cat $(PG_DIR).url)" $(BIN)/pytest -q -p no:cacheprovider \
	  -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS) || status=$$?; \
	$(MAKE) --no-print-directory pg-stop; \
	exit $$status

bench: install
	@$(MAKE) --no-print-directory pg-start
	@status=0; \
	GEOAPP_BENCH_POSTGIS_URL="$$(cat $(PG_DIR).url)" $(PY) bench/run_all.py || status=$$?; \
	$(MAKE) --no-print-directory pg-stop; \
	exit $$status

clean:
	rm -rf $(VENV) node_modules static/vendor .pgdata .pgdata.url .pytest_cache .ruff_cache
