# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs into .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint clean lambda-zip infra-scan

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

# checkov scans infra/ with zero failed checks (a check that does not apply is skipped inline with its reason).
# It pins old boto3 and friends, so it lives in a virtualenv of its own; --skip-download: no network at run time.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_VERSION := 3.3.30
$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q checkov==$(CHECKOV_VERSION)
	touch $@

infra-scan: $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
	$(CHECKOV_VENV)/bin/checkov -d infra --framework cloudformation --skip-download --quiet --compact

# Property tests run derandomized unless told otherwise (tests/conftest.py): `make test` is what CI runs.
test: lint infra-scan
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(VENV)/bin/pytest -q

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) demo-out .pytest_cache .mypy_cache .ruff_cache

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
