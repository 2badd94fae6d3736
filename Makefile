# TPS Relay: `make run` starts everything, `make test` runs the suite. Both install what is missing.
VENV ?= .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-postgres lint bench system-deps test-deps venv clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

# The browser tests need Debian's chromium as well.
test-deps:
	@scripts/install-system-deps.sh --with-browser
	@scripts/install-test-tools.sh

run: system-deps venv
	scripts/run.sh

lint: venv
	$(VENV)/bin/ruff check .

test: test-deps venv lint
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

# The same suite against PostgreSQL (a throwaway database is created on that server).
test-postgres: test-deps venv
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres} \
	  $(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench: system-deps venv
	@for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .test-tools var/*.db var/*.log
