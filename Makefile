# make run        set up this checkout (Debian packages, .venv, fonts, migrations, demo data) and serve
#                 http://127.0.0.1:5000 with its Redis, RQ worker and cron scheduler; Ctrl-C stops all
# make logs       follow the logs of `make run` (instance/logs/*.log) from another terminal
# make test       the same set-up, then the whole pytest suite, in parallel (PYTEST_ARGS="..." to narrow it)
# make test-fast  the edit-test loop: every test but the browser and slow ones
# make test-dates every test but the slow ones, again at several "today"s (see scripts/test.sh)
# make setup      only the set-up
# make audit      check the pinned requirements for known vulnerabilities (pip-audit, its own venv)
.PHONY: run logs test test-fast test-dates setup audit

PYTEST_ARGS ?=

run:
	@bash scripts/run.sh

logs:
	@ls instance/logs/*.log >/dev/null 2>&1 || { echo "no logs yet: start the app with make run"; exit 1; }
	@tail -n 20 -F instance/logs/*.log

test:
	@bash scripts/test.sh $(PYTEST_ARGS)

test-fast:
	@bash scripts/test.sh --fast $(PYTEST_ARGS)

test-dates:
	@bash scripts/test.sh --dates $(PYTEST_ARGS)

setup:
	@bash scripts/setup.sh

audit:
	@bash scripts/audit.sh
