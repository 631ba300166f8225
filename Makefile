# SPDX-License-Identifier: GPL-3.0-or-later
# Build and test fleetca.ssh. `make test` works on a fresh Debian 12 machine (root,
# Python 3.11) and in CI (.ci/run): it installs what it needs, builds the collection,
# installs the tarball under .build/collections and tests that installed copy.
#
#   make test        system-deps venv build install package-check changelog-lint role-docs-check
#                    unit units-ansible-test interop sanity lint molecule demo
#   make package-check  the tarball as Galaxy and ansible-builder see it (offline)
#   make role-docs   rewrite the roles' README variable tables from meta/argument_specs.yml
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

.PHONY: molecule test system-deps venv build install unit units-ansible-test interop sanity lint demo changelog clean \
        check-installed-import package-check changelog-lint role-docs role-docs-check

# The demo last: it is the README's other command, and a smoke test of the whole job.
test: system-deps venv build install package-check changelog-lint role-docs-check unit units-ansible-test interop sanity lint molecule demo

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

# The tarball as a Galaxy server and an execution environment build see it, offline:
# - reuse lint: every file of the work tree has a copyright and a licence (REUSE.toml);
# - galaxy-importer (tests/package/galaxy-importer.cfg: ansible-doc and ansible-lint --offline,
#   no ansible-test container) on the built tarball: any WARNING or ERROR line fails;
# - ansible-builder introspect finds the Python and system dependencies in the installed
#   collection's meta/execution-environment.yml, and ansible-builder create writes the build
#   context of docs/examples/execution-environment.yml (no image is built, nothing is pulled).
PACKAGE_CHECK := $(BUILD)/package-check
EE_DEPS_EXPECTED := cryptography bcrypt openssh-client openssh-clients

package-check: install
	$(BIN)/reuse lint --quiet || { $(BIN)/reuse lint; exit 1; }
	rm -rf $(PACKAGE_CHECK) && mkdir -p $(PACKAGE_CHECK)
	cd $(PACKAGE_CHECK) && GALAXY_IMPORTER_CONFIG=$(ROOT)/tests/package/galaxy-importer.cfg \
		$(BIN)/python -m galaxy_importer.main $(TARBALL) > importer.log 2>&1 \
		|| { cat importer.log; echo "galaxy-importer failed"; exit 1; }
	@if grep -E '^(WARNING|ERROR|CRITICAL)' $(PACKAGE_CHECK)/importer.log; then \
		echo "galaxy-importer: warnings or errors on $(TARBALL) (full log: $(PACKAGE_CHECK)/importer.log)"; exit 1; \
	fi
	@grep -q '^Importer processing completed successfully' $(PACKAGE_CHECK)/importer.log \
		|| { cat $(PACKAGE_CHECK)/importer.log; exit 1; }
	@echo "galaxy-importer: no warning on $(notdir $(TARBALL))"
	$(BIN)/ansible-builder introspect --sanitize $(COLLECTIONS) > $(PACKAGE_CHECK)/introspect.yml
	@cat $(PACKAGE_CHECK)/introspect.yml
	@for dep in $(EE_DEPS_EXPECTED); do \
		grep -Eq "^- '$$dep[ >=]" $(PACKAGE_CHECK)/introspect.yml \
			|| { echo "ansible-builder introspect: $$dep missing"; exit 1; }; \
	done
	$(BIN)/ansible-builder create -f docs/examples/execution-environment.yml --context $(PACKAGE_CHECK)/ee-context
	@test -s $(PACKAGE_CHECK)/ee-context/Dockerfile || { echo "ansible-builder create wrote no Dockerfile"; exit 1; }
	@grep -q 'fleetca.ssh' $(PACKAGE_CHECK)/ee-context/_build/requirements.yml \
		|| { echo "the EE build context does not install fleetca.ssh"; exit 1; }

# The changelog fragments and changelogs/changelog.yaml as antsibull-changelog reads them.
changelog-lint: venv
	$(BIN)/antsibull-changelog lint

# Each role's README holds a variable table generated from its meta/argument_specs.yml
# (between the role-docs markers). `make role-docs` rewrites them; role-docs-check fails,
# naming the README, when a committed one differs from what the generator writes.
role-docs: venv
	$(BIN)/python tests/bin/role_docs.py

role-docs-check: venv
	$(BIN)/python tests/bin/role_docs.py --check

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
		$(TEST_ENV) $(BIN)/python -m pytest -p no:cacheprovider $(2) $(PYTEST_ARGS) $(1); \
	fi
endef

unit: install check-installed-import
	@test -n "$$(find tests/unit -name 'test_*.py' 2>/dev/null | head -n 1)" || { echo "tests/unit has no tests"; exit 1; }
	$(call pytest_dir,tests/unit)

# The same unit tests as ansible-test runs them on the installed tree (its pytest config,
# the collection loader, pytest-xdist), offline: tests/unit stays in the layout it expects.
units-ansible-test: install
	cd $(INSTALLED) && ANSIBLE_TEST_CONTENT_ROOT=$(INSTALLED) $(BIN)/ansible-test units --local --color no \
		--python $(SANITY_PYTHON)

# Interop tests run in parallel workers (pytest-xdist): each test makes its own CA, sshd on a free
# port and login account, so they share nothing; on the 2-core CI machine 2 workers halve the
# time (17.5 min to 8.6 min, measured 2026-12-03). INTEROP_WORKERS=0 runs them in one process.
INTEROP_WORKERS ?= 2

interop: install check-installed-import
	$(call pytest_dir,tests/interop,-n $(INTEROP_WORKERS))

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
# through playbooks/revoke.yml with a server down; a server pulling the signed KRL.
MOLECULE_SCENARIOS ?= client default revocation pull rotation

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
