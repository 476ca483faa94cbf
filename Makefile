# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
export MEND_PORT ?= 8000

.PHONY: install run test test-shifted migrate lint messages

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

migrate: install
	MEND_ENV=$${MEND_ENV:-development} $(UV) run --frozen alembic upgrade head

run: migrate
	MEND_ENV=$${MEND_ENV:-development} $(UV) run --frozen mend serve

test: install
	$(UV) run --frozen pytest $(PYTEST_ARGS)

# The same suite with the clock moved, in the test process and the servers it starts (tests/clock.py):
# CLOCK is an offset in days, a year ahead by default, or an instant such as 2028-03-26T00:58:00Z.
CLOCK ?= +365d
.PHONY: test-shifted
test-shifted: install
	MEND_TEST_CLOCK="$(CLOCK)" $(UV) run --frozen pytest $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check app tests migrations bench

# Extract every marked string (babel.cfg) and update both catalogs; then translate what is new in
# app/locale/es/LC_MESSAGES/messages.po (tests/i18n/test_catalogs.py lists what is missing).
.PHONY: messages
messages: install
	@pot=$$(mktemp --suffix=.pot) && \
	$(UV) run --frozen pybabel extract -F babel.cfg --no-location --sort-output --project=Mend --ignore-dirs='.* __pycache__' -o $$pot . && \
	$(UV) run --frozen pybabel update -i $$pot -d app/locale -D messages --no-wrap --ignore-obsolete --no-fuzzy-matching --ignore-pot-creation-date && \
	rm -f $$pot
