# make run   set up this checkout (Debian packages, .venv, fonts, migrations, demo data) and serve
#            http://127.0.0.1:5000 with its Redis, RQ worker and cron scheduler; Ctrl-C stops all
# make test  the same set-up, then the whole pytest suite (PYTEST_ARGS="..." to narrow it)
# make setup only the set-up
.PHONY: run test setup

PYTEST_ARGS ?=

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh $(PYTEST_ARGS)

setup:
	@bash scripts/setup.sh
