#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Run one molecule scenario against the locally built systemd containers:
#
#   tests/bin/molecule.sh SCENARIO [extra `molecule test` arguments]
#   e.g. tests/bin/molecule.sh client
#
# 1. tests/bin/start-docker.sh (docker engine + debootstrap, idempotent);
# 2. tests/bin/build-images.sh for the Debian versions the scenario uses (cached);
# 3. the docker network fleetca-net (created here, so molecule never deletes it while
#    another scenario still uses it);
# 4. builds the collection from the work tree and installs the tarball into a temporary
#    ANSIBLE_COLLECTIONS_PATH (the scenario tests what users install, offline);
# 5. molecule --base-config molecule/base.yml test -s SCENARIO.
#
# Tools come from the venv $FLEETCA_MOLECULE_VENV (default: the repo's .venv that
# `make venv` creates from requirements-test.txt): molecule, molecule-plugins[docker],
# ansible, pytest-testinfra, docker.
# FLEETCA_MOLECULE_COMMAND=converge (or verify, ...) runs another molecule command.
set -euo pipefail

say() { echo "molecule.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN="$ROOT/tests/bin"
[ $# -ge 1 ] || die "usage: $0 SCENARIO [molecule args...]"
SCENARIO=$1
shift
SCENARIO_FILE="$ROOT/molecule/$SCENARIO/molecule.yml"
[ -f "$SCENARIO_FILE" ] || die "no scenario $SCENARIO_FILE"
VENV=${FLEETCA_MOLECULE_VENV:-$ROOT/.venv}
[ -x "$VENV/bin/molecule" ] \
    || die "molecule is not installed in $VENV: run 'make venv' or set FLEETCA_MOLECULE_VENV"
NET=${FLEETCA_NETWORK:-fleetca-net}
COMMAND=${FLEETCA_MOLECULE_COMMAND:-test}

start=$(date +%s)
"$BIN/start-docker.sh"

# Only the Debian versions this scenario's platforms use.
mapfile -t versions < <(grep -oE 'fleetca-test/debian:[0-9]+' "$SCENARIO_FILE" | cut -d: -f2 | sort -u)
[ "${#versions[@]}" -gt 0 ] || versions=(11 12 13)
"$BIN/build-images.sh" "${versions[@]}"

docker network inspect "$NET" >/dev/null 2>&1 || docker network create "$NET" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/fleetca-molecule.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "building and installing the collection into $work/collections"
"$VENV/bin/ansible-galaxy" collection build --force --output-path "$work" "$ROOT" >/dev/null
ANSIBLE_COLLECTIONS_PATH="$work/collections" "$VENV/bin/ansible-galaxy" collection install \
    --offline --force -p "$work/collections" "$work"/fleetca-ssh-*.tar.gz >/dev/null
[ -f "$work/collections/ansible_collections/fleetca/ssh/MANIFEST.json" ] \
    || die "the collection did not install into $work/collections"

export ANSIBLE_COLLECTIONS_PATH="$work/collections"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_NOCOLOR=1 NO_COLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
cd "$ROOT"
say "molecule $COMMAND -s $SCENARIO (images and collection ready after $(($(date +%s) - start)) s)"
rc=0
molecule --base-config molecule/base.yml "$COMMAND" -s "$SCENARIO" "$@" || rc=$?
say "molecule $COMMAND -s $SCENARIO: exit $rc after $(($(date +%s) - start)) s"
exit "$rc"
