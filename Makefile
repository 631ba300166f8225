# SPDX-License-Identifier: GPL-3.0-or-later
# Build and test fleetca.ssh. `make test` works on a fresh Debian 12 machine (root,
# Python 3.11) and in CI (.ci/run): it installs what it needs, builds the collection,
# installs the tarball under .build/collections and tests that installed copy.
#
#   make test        system-deps venv build install unit interop sanity lint molecule demo
#   make demo        tests/bin/demo.sh, with .venv/bin first on PATH
#   make changelog   CHANGELOG.rst from changelogs/ (antsibull-changelog)
#   make clean

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
.DELETE_ON_ERROR:
# `make test` runs its steps in the order listed, even under -j.
.NOTPARALLEL:

PYTHON ?= python3
ROOT := $(abspath .)
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements
BUILD := $(ROOT)/.build
COLLECTIONS := $(BUILD)/collections
INSTALLED := $(COLLECTIONS)/ansible_collections/fleetca/ssh
VERSION := $(shell sed -n 's/^version:[[:space:]]*//p' galaxy.yml)
TARBALL := $(BUILD)/fleetca-ssh-$(VERSION).tar.gz

# ansible-test sanity: the Python versions to run the multi-version tests on.
# Only 3.11 is installed here (Debian 12); module code must still stay 3.9-compatible.
SANITY_PYTHON ?= 3.11
# Sanity tests skipped because they cannot run on this machine kind:
#   pslint      needs PowerShell, which neither PyPI nor Debian's mirror provides
#               (and the collection has no PowerShell content).
# (shellcheck runs: system-deps installs Debian's shellcheck.)
SANITY_SKIP ?= pslint
SANITY_ARGS ?=

# Everything run from here sees the venv's tools first (ansible-galaxy, ansible-test, ...).
export PATH := $(BIN):$(PATH)
export ANSIBLE_NOCOLOR := 1
export NO_COLOR := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: molecule test system-deps venv build install unit interop sanity lint demo changelog clean \
        check-installed-import

# The demo last: it is the README's other command, and a smoke test of the whole job.
test: system-deps venv build install unit interop sanity lint molecule demo

system-deps:
	PYTHON=$(PYTHON) bash tests/bin/system-deps.sh

# Re-created only when requirements-test.txt changes (stamp file inside the venv).
venv: $(STAMP)

$(STAMP): requirements-test.txt
	@if [ ! -x $(BIN)/python ]; then echo "creating $(VENV)"; $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install -q -r requirements-test.txt
	@cp requirements-test.txt $@

# Always rebuilt: the tarball must reflect the work tree as it is now.
build: venv
	rm -rf $(BUILD)/fleetca-ssh-*.tar.gz
	mkdir -p $(BUILD)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD) .
	@test -f $(TARBALL) || { echo "expected $(TARBALL)"; exit 1; }

install: build
	rm -rf $(INSTALLED)
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-galaxy collection install --force --offline -p $(COLLECTIONS) $(TARBALL)
	@test -f $(INSTALLED)/MANIFEST.json || { echo "not installed: $(INSTALLED)"; exit 1; }

# Tests import the collection from the installed tree: ansible_collections.fleetca.ssh
# must resolve there and not to the work tree (or anything else on sys.path).
TEST_ENV := PYTHONPATH=$(COLLECTIONS) PYTHONDONTWRITEBYTECODE=1

check-installed-import:
	@$(TEST_ENV) $(BIN)/python -c 'import os, sys; \
	from ansible_collections.fleetca.ssh.plugins.module_utils import wire; \
	where = os.path.realpath(wire.__file__); \
	want = os.path.realpath("$(INSTALLED)") + os.sep; \
	print("fleetca.ssh imported from", os.path.dirname(where)); \
	sys.exit(0 if where.startswith(want) else "not the installed tree: " + where)'

# pytest's exit code 5 (no test collected) is a failure, except for a test directory
# that holds no test file at all, which is reported and skipped.
define pytest_dir
	@if [ -z "$$(find $(1) -name 'test_*.py' -o -name '*_test.py' 2>/dev/null | head -n 1)" ]; then \
		echo "$(1): no test files, nothing to run"; \
	else \
		echo "$(TEST_ENV) pytest $(1)"; \
		$(TEST_ENV) $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) $(1); \
	fi
endef

unit: install check-installed-import
	@test -n "$$(find tests/unit -name 'test_*.py' 2>/dev/null | head -n 1)" || { echo "tests/unit has no tests"; exit 1; }
	$(call pytest_dir,tests/unit)

interop: install check-installed-import
	$(call pytest_dir,tests/interop)

# ansible-test sanity on the installed tree, on the local Python (the venv's).
# ansible-test still builds one venv per sanity test under ~/.ansible/test/venv and
# bootstraps pip in it with get-pip.py from a host this machine cannot reach: a
# stand-in (tests/bin/get_pip_standin.py) is put in its cache, and the tests' own
# pinned requirements come from PyPI (once; the venvs are reused afterwards).
ANSIBLE_TEST_CACHE := $(HOME)/.ansible/test/cache

sanity: install
	@pipv=$$($(BIN)/python -c 'import re, ansible_test._internal.python_requirements as m, inspect; \
	print(re.search(r"pip=.([0-9.]+).", inspect.getsource(m.get_venv_packages)).group(1).replace(".", "_"))'); \
	mkdir -p $(ANSIBLE_TEST_CACHE); \
	if [ ! -s $(ANSIBLE_TEST_CACHE)/get_pip_$$pipv.py ]; then \
		echo "seeding $(ANSIBLE_TEST_CACHE)/get_pip_$$pipv.py (offline stand-in)"; \
		cp tests/bin/get_pip_standin.py $(ANSIBLE_TEST_CACHE)/get_pip_$$pipv.py; \
	fi
	@# ANSIBLE_TEST_CONTENT_ROOT stops ansible-test from walking up to this repo's .git,
	@# where .build/ is ignored and so every file of the installed tree would be skipped.
	cd $(INSTALLED) && ANSIBLE_TEST_CONTENT_ROOT=$(INSTALLED) $(BIN)/ansible-test sanity --color no --python $(SANITY_PYTHON) \
		$(addprefix --skip-test ,$(SANITY_SKIP)) $(SANITY_ARGS)

# Against the work tree; FQCN references (fleetca.ssh.*) resolve to the installed copy.
# Real fleets in systemd containers (Debian 11/12/13 images built here, cached):
# the client role alone; CA + servers + workstation through site.yml; revocation
# through playbooks/revoke.yml with a server down.
MOLECULE_SCENARIOS ?= client default revocation

molecule: venv
	for scenario in $(MOLECULE_SCENARIOS); do bash tests/bin/molecule.sh $$scenario; done

lint: install
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-lint

# The demo uses the installed collection (.build/collections) and the venv's tools, and runs
# a fleet in systemd containers (docker and debootstrap: system-deps).
demo: system-deps install
	VIRTUAL_ENV=$(VENV) bash tests/bin/demo.sh

# Folds changelogs/fragments/*.yml into the release of galaxy.yml's version in
# changelogs/changelog.yaml (adding to it when it exists) and regenerates CHANGELOG.rst.
changelog: venv
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog release --reload-plugins

clean:
	rm -rf $(BUILD) $(VENV) .pytest_cache .hypothesis tests/output .ansible
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
