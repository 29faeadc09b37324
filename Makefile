# Peluit: the two commands a new user needs are `make run` and `make test`.
# Both do their own set-up on a fresh Debian 12 machine (as root, or with sudo).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DATA   ?= .demo

.PHONY: run test venv system-deps lint unit bench catalogs clean fuzz

$(BIN)/peluit: pyproject.toml
	./tests/install-deps.sh python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/peluit

system-deps:
	./tests/install-deps.sh all

## Run Peluit on its embedded default (SQLite, local store, demo auditor) on loopback.
run: venv
	./tests/install-deps.sh run
	$(BIN)/peluit demo --data-dir $(DATA)

## Every test: lint, unit, functional, PostgreSQL, GnuPG, browser and Tor end-to-end.
test: venv system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

unit: venv
	$(BIN)/python -m pytest -p no:cacheprovider tests/unit $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

## Bring every gettext catalog in step with the code (pybabel; mapping in <package>/locale/babel.cfg).
## New msgids arrive untranslated in both .po files: translate them (English too), then run the
## catalog test (tests/unit/ground/test_catalogs.py). Catalogs: peluit.ground.i18n.CATALOGS.
CATALOGS = dropbox_app:dropbox_app dropbox_app/gateway:gateway policies:policies workbench:workbench
catalogs: venv
	@set -e; for c in $(CATALOGS); do \
	    dir=$${c%%:*}; domain=$${c##*:}; pot=$$(mktemp --suffix=.pot); \
	    $(BIN)/pybabel -q extract -F $$dir/locale/babel.cfg -k _n --no-location --sort-output \
	        --omit-header -w 100 -o $$pot $$dir; \
	    $(BIN)/pybabel -q update -i $$pot -d $$dir/locale -D $$domain -N --ignore-obsolete \
	        -w 100; \
	    rm -f $$pot; \
	done

## A coverage-guided fuzzing campaign (atheris) of every parser of outside input, FUZZ_SECONDS
## per target (tests/fuzz/targets.py); corpora and findings under build/fuzz/<target>/.
FUZZ_SECONDS ?= 600
FUZZ_TARGET  ?= all
fuzz: venv
	nice $(BIN)/python -m tests.fuzz.run $(FUZZ_TARGET) --seconds $(FUZZ_SECONDS)

bench: venv
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) $(DATA) build *.egg-info
