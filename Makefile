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

# The collector Lambda's code: the awscost package alone (the Lambda runtime provides boto3; nothing else is
# imported on the collector path, and the sandbox, a package of its own, stays out). The price snapshot stays
# out too (3 MB the collector never reads; the pricing job says so when it falls back). Upload it to the
# CodeBucket/CodeKey of infra/awscost.yaml. BUILD=dir builds elsewhere (the tests do).
BUILD ?= build
lambda-zip:
	rm -rf $(BUILD)/lambda && mkdir -p $(BUILD)/lambda
	cp -r src/awscost $(BUILD)/lambda/awscost
	find $(BUILD)/lambda -name __pycache__ -prune -exec rm -rf {} +
	rm -f $(BUILD)/lambda/awscost/planning/pricing/prices-snapshot.json.gz
	cd $(BUILD)/lambda && python3 -m zipfile -c ../awscost-lambda.zip awscost
	@echo wrote $(BUILD)/awscost-lambda.zip
