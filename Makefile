# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs into .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint clean lambda-zip infra-scan release

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

# checkov scans infra/ (the templates and the analytics Dockerfile) with zero failed checks (a check that does not apply is skipped inline with its reason).
# It pins old boto3 and friends, so it lives in a virtualenv of its own; --skip-download: no network at run time.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_VERSION := 3.3.30
$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q checkov==$(CHECKOV_VERSION)
	touch $@

infra-scan: $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
	$(CHECKOV_VENV)/bin/checkov -d infra --framework cloudformation dockerfile --skip-download --quiet --compact

# Property tests run derandomized unless told otherwise (tests/conftest.py): `make test` is what CI runs.
test: lint infra-scan
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(VENV)/bin/pytest -q

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) demo-out .pytest_cache .mypy_cache .ruff_cache

# The deployment's artifacts (`awscost deploy package`, src/awscost/deploy/package.py): BUILD/awscost-collector.zip,
# the collector Lambda's code (the awscost package alone, stamped, without the price snapshot), and the analytics
# image's build context in BUILD/analytics/. Push them with `awscost deploy push --bucket B` (docs/deployment.md).
BUILD ?= build
lambda-zip:
	$(PY) -c 'import sys; from awscost.entrypoints.cli import main; main(sys.argv[1:])' deploy package --out $(BUILD)

# A release is an annotated tag, never a commit: `make release VERSION=vX.Y.Z [REMOTE=origin]` refuses a dirty tree
# or a tag that exists (here or on REMOTE), writes the changelog (the subjects since the previous tag) into the
# tag's message, and pushes the tag alone. `awscost deploy package` then stamps builds of it with that version.
REMOTE ?= origin
release:
	@echo "$(VERSION)" | grep -Eq '^v[0-9]+\.[0-9]+\.[0-9]+$$' \
		|| { echo "make release: VERSION=vX.Y.Z, not '$(VERSION)'" >&2; exit 2; }
	@test -z "$$(git status --porcelain)" \
		|| { echo "make release: the tree is dirty (commit or stash first; a release commits nothing)" >&2; exit 1; }
	@! git rev-parse -q --verify "refs/tags/$(VERSION)" >/dev/null \
		|| { echo "make release: tag $(VERSION) exists" >&2; exit 1; }
	@test -z "$$(git ls-remote --tags $(REMOTE) refs/tags/$(VERSION))" \
		|| { echo "make release: tag $(VERSION) exists on $(REMOTE)" >&2; exit 1; }
	@previous=$$(git describe --tags --abbrev=0 2>/dev/null || true); \
		{ echo "awscost $(VERSION)"; echo; \
		  if [ -n "$$previous" ]; then echo "Changes since $$previous:"; else echo "Changes:"; fi; echo; \
		  git log --no-merges --format='- %s (%h)' $${previous:+$$previous..}HEAD; } \
		| git tag --annotate --cleanup=verbatim --file=- "$(VERSION)"
	git push $(REMOTE) "refs/tags/$(VERSION)"
	@echo "released $(VERSION): git show $(VERSION) for its changelog"
