# managed_identity.azure development targets. Every target sets itself up (make setup is idempotent and quick).
#   make demo    the end-to-end flow against the offline emulator
#   make test    every check: sanity, units, emulator, integration, build, lint, changelog
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTHON ?= $(shell command -v python3.11 || command -v python3)
DIST := $(CURDIR)/dist
# pytest-xdist workers for the stages that start emulators and ansible-playbook runs (2 cores on CI machines).
WORKERS ?= 2
# Extra arguments: make emulator ARGS="--seed my.yaml", make units PYTEST_ARGS="-k retry", make sanity ARGS="--test pep8",
# make ansible-test-integration ARGS=token_info
ARGS ?=
PYTEST_ARGS ?=

export VENV
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(VENV)/collections

STAGES := changelog-lint lint units build-tests sanity emulator-tests integration ansible-test-integration

.PHONY: help setup test demo sanity units emulator-tests integration ansible-test-integration build-tests lint format \
	changelog-lint build emulator bench azure-cli-test

help:
	@echo "make demo | test | setup | sanity | units | emulator-tests | integration | ansible-test-integration"
	@echo "     build-tests | lint | format | changelog-lint | build | emulator [ARGS=...] | bench | azure-cli-test"

setup:
	@PYTHON="$(PYTHON)" tools/setup.sh

test:
	@tools/test.sh setup $(STAGES)

demo: setup
	@$(PY) tools/demo.py

sanity: setup
	@tools/sanity.sh $(ARGS)

units: setup
	@tools/pytest_stage.sh units tests/unit -n $(WORKERS) $(PYTEST_ARGS)

emulator-tests: setup
	@tools/pytest_stage.sh emulator-tests tests/emulator -n $(WORKERS) $(PYTEST_ARGS)

integration: setup
	@tools/pytest_stage.sh integration tests/integration -n $(WORKERS) $(PYTEST_ARGS)

# ansible-test's integration targets (tests/integration/targets/<module>) against an emulator the script starts and
# stops; one target: make ansible-test-integration ARGS=vm_identity (ARGS go to ansible-test integration).
ansible-test-integration: setup
	@$(PY) tools/ansible_test_integration.py --continue-on-error $(ARGS)

build-tests: setup
	@tools/pytest_stage.sh build-tests tests/build $(PYTEST_ARGS)

# ansible-lint (production profile, .ansible-lint) on roles/ and playbooks/ once they exist, and ruff's lint rules
# (pyproject.toml) on all Python, ShellCheck on the scripts. The test stand-in for ansible.windows
# (tests/support/collections) lets ansible-lint check validate_access's win_uri tasks against its argument spec.
# Formatting is not part of the gate (several authors, no correctness value): make format applies ruff's fixes and
# formatter on request.
lint: setup
	@paths=$$(for d in roles playbooks; do [[ -d $$d ]] && echo $$d; done); \
	if [[ -n $$paths ]]; then \
		echo ansible-lint $$paths; \
		ANSIBLE_COLLECTIONS_PATH=$(ANSIBLE_COLLECTIONS_PATH):$(CURDIR)/tests/support/collections \
			$(BIN)/ansible-lint --nocolor $$paths; \
	else \
		echo "ansible-lint: no roles/ or playbooks/ yet"; \
	fi
	$(BIN)/ruff check .
	$(BIN)/shellcheck tools/*.sh .ci/run

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

changelog-lint: setup
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

build: setup
	$(BIN)/ansible-galaxy collection build --force --output-path $(DIST) .

emulator: setup
	$(PY) -m azure_emulator $(ARGS)

bench: setup
	@tools/bench.sh

# Unmodified azure-cli against the emulator (tests/azure_cli). Not part of make test: azure-cli is a ~700 MB install
# with pins of its own, so it gets its own venv, created once, inside .venv (ignored by git, ruff and the build).
AZ_VENV := $(VENV)/azure-cli
azure-cli-test: setup
	@if [[ ! -x $(AZ_VENV)/bin/az ]]; then \
		$(PYTHON) -m venv $(AZ_VENV) && \
		$(AZ_VENV)/bin/python -m pip install --disable-pip-version-check --quiet -r tools/requirements-azure-cli.txt; \
	fi
	AZURE_CLI=$(AZ_VENV)/bin/az $(PY) -m pytest tests/azure_cli $(PYTEST_ARGS)
