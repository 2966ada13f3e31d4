# Tempodesk: `make dev` runs it, `make test` proves it. Both set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)

.PHONY: lock dev test lint bench bench-mail bench-desk bench-sla bench-scale reliability translations venv clean

# Installs the versions pinned in requirements.lock (constraints: a dependency added to
# pyproject.toml and not locked yet still installs); `make lock` writes it again.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: $(STAMP)

## Run Tempodesk on this machine: Temporal dev server, worker, web app, mail catcher, demo data.
dev: $(STAMP)
	$(BIN)/tempodesk dev

## Lint, type-check and run the whole test suite against real Temporal, PostgreSQL and SMTP.
test: $(STAMP)
	scripts/ensure-postgres
	scripts/ensure-chromium
	scripts/ensure-dovecot
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Benchmarks (print JSON): ticket intake and actions, beside a bare-engine baseline, the web
## as docker-compose runs it (gunicorn). BENCH_ARGS="--web dev --profile var/profiles" runs
## the web as `make dev` does and saves py-spy profiles of the web and the worker.
BENCH_ARGS ?=
bench: $(STAMP)
	@scripts/ensure-postgres
	@$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

## Mail intake (prints JSON): a burst of 1,000 mails from IMAP to visible tickets, beside the baseline.
bench-mail: $(STAMP)
	@scripts/ensure-postgres
	@scripts/ensure-dovecot
	@$(BIN)/python -m benchmarks.mail_intake

## SLA timers (prints JSON): 10,000 tickets' timers on the dev server; how late they fire (BENCH_SLA_COUNT=2000 for fewer).
bench-sla: $(STAMP)
	@scripts/ensure-postgres
	@$(BIN)/python -m benchmarks.sla_timers

## Open tickets at scale (prints JSON): 100,000 open ticket workflows; start rate, memory and disk
## per ticket, a worker restart and actions on cold tickets (BENCH_SCALE_COUNT=20000 for fewer).
bench-scale: $(STAMP)
	@scripts/ensure-postgres
	@$(BIN)/python -m benchmarks.scale

## Reliability (RELIABILITY.md): every scenario R1–R19, full variants, three runs; prints the scoreboard.
reliability: $(STAMP)
	@scripts/ensure-postgres
	@scripts/ensure-dovecot
	@$(BIN)/python -m benchmarks.reliability

## Ticket lists and search (prints JSON): 100,000 seeded tickets, p50/p95 beside bare SQL.
bench-desk: $(STAMP)
	@scripts/ensure-postgres
	@$(BIN)/python -m benchmarks.desk_lists

## After changing UI texts: extract them, merge into each language's catalog, compile.
## Translate what `pybabel update` left empty or fuzzy; tests/web/test_i18n.py checks it.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k lazy_gettext -k plural_forms:1,2 \
		--no-wrap -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-wrap
	$(BIN)/pybabel compile -d web/translations --statistics

## Pin the dependency set at the versions installed in .venv (after `make test` passed).
lock: $(STAMP)
	$(BIN)/python scripts/lock-requirements > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-results
