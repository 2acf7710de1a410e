# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs into .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint clean lambda-zip

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/awscost demo --out demo-out

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Property tests run derandomized unless told otherwise (tests/conftest.py): `make test` is what CI runs.
test: lint
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(VENV)/bin/pytest -q

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache

# The deployment's artifacts (`awscost deploy package`, src/awscost/deploy/package.py): BUILD/awscost-collector.zip,
# the collector Lambda's code (the awscost package alone, stamped, without the price snapshot), and the analytics
# image's build context in BUILD/analytics/. Push them with `awscost deploy push --bucket B` (docs/deployment.md).
BUILD ?= build
lambda-zip:
	$(PY) -c 'import sys; from awscost.entrypoints.cli import main; main(sys.argv[1:])' deploy package --out $(BUILD)
