# Peluit: the two commands a new user needs are `make run` and `make test`.
# Both do their own set-up on a fresh Debian 12 machine (as root, or with sudo).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DATA   ?= .demo
# pytest-xdist workers for `make test`: the suite mostly waits (Tor, containers, browsers).
WORKERS ?= 2

.PHONY: run test venv system-deps lint unit bench catalogs clean fuzz lock reproducible sbom faults crash-sweep

# Every Python package comes from the hash-pinned lock (requirements/, docs/supply-chain.md),
# then Peluit itself without dependencies and without fetching a build backend.
$(BIN)/peluit: pyproject.toml requirements/test.lock
	./tests/install-deps.sh python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/test.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
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
	$(BIN)/python -m pytest -p no:cacheprovider -n $(WORKERS) --dist loadscope $(PYTEST_ARGS)

unit: venv
	$(BIN)/python -m pytest -p no:cacheprovider tests/unit $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

## Bring every gettext catalog in step with the code (pybabel; mapping in <package>/locale/babel.cfg).
## New msgids arrive untranslated in both .po files: translate them (English too), then run the
## catalog test (tests/unit/ground/test_catalogs.py). Catalogs: peluit.ground.i18n.CATALOGS.
CATALOGS = peluit:peluit dropbox_app:dropbox_app dropbox_app/gateway:gateway policies:policies workbench:workbench
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

## Refresh the hash-pinned locks from pyproject.toml (newest versions its specifiers allow; hashes
## of every platform's files, so aarch64 and x86_64 install from the same lock).
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--index-url https://pypi.org/simple --custom-compile-command 'make lock' \
	--constraint requirements/constraints.txt
lock:
	[ -x $(BIN)/pip ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/uv.lock
	$(UV_COMPILE) pyproject.toml requirements/build.in -o requirements/runtime.lock
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra test -o requirements/test.lock
	$(UV_COMPILE) requirements/uv.in -o requirements/uv.lock

## Build the wheel and sdist twice from a clean export (SOURCE_DATE_EPOCH = the last commit) and
## fail unless both builds are the same bytes. The artefacts stay in dist/.
reproducible: venv
	$(BIN)/python tools/supply_chain.py reproducible --out dist

## CycloneDX SBOM of what a deployment installs (runtime lock + Peluit), in dist/sbom.cdx.json.
sbom: venv
	$(BIN)/python tools/supply_chain.py sbom --out dist/sbom.cdx.json

## The fault tests alone (disk full, kill -9), with the suite's bounded number of kills.
faults: venv
	$(BIN)/python -m pytest -p no:cacheprovider -m faults tests/faults $(PYTEST_ARGS)

## A longer kill -9 campaign: CRASH_KILLS kills per operation, CRASH_SEED to vary the moments.
CRASH_KILLS ?= 500
CRASH_SEED  ?= 17
crash-sweep: venv
	PELUIT_CRASH_KILLS=$(CRASH_KILLS) PELUIT_CRASH_SEED=$(CRASH_SEED) \
	    $(BIN)/python -m pytest -p no:cacheprovider -m faults tests/faults/test_crash.py -s $(PYTEST_ARGS)

bench: venv
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) $(DATA) build *.egg-info
