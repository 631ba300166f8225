#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Install the Debian packages the test suite needs, only those that are missing:
#   openssh-server openssh-client docker.io debootstrap shellcheck libmagic1
# (shellcheck: for ansible-test's shellcheck sanity test; libmagic1: for python-magic,
# which `reuse lint` in make package-check loads)
# (extra names on the command line are added to that list), and python3-venv when
# $PYTHON (python3) cannot bootstrap pip with ensurepip, as Debian's own python3 cannot
# without it: `make venv` and ansible-test's sanity venvs need it. Creates /run/sshd where it is
# missing (sshd -t needs it).
#
# - Runs as root (CI, a fresh Debian 12 machine) or through passwordless sudo.
# - `apt-get update` runs only when needed: when a package has no install candidate
#   in the current lists (e.g. lists never downloaded), or when an install fails
#   (stale lists pointing at removed .debs); then the install is tried once more.
# - Starts no service: while installing, a policy-rc.d that answers 101 is put in
#   place (unless the machine already has one), so neither sshd nor dockerd is left
#   running as a system service. Nothing in the tests depends on them being started
#   here: tests/bin/start-docker.sh starts dockerd itself.
set -euo pipefail

PACKAGES=(openssh-server openssh-client docker.io debootstrap shellcheck libmagic1 "$@")
PYTHON=${PYTHON:-python3}
if command -v "$PYTHON" >/dev/null 2>&1 && ! "$PYTHON" -m ensurepip --version >/dev/null 2>&1; then
    PACKAGES+=(python3-venv)
fi

say() { echo "system-deps: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "need root to run: $*"
    fi
}

# sshd -t (the unit tests' validation, the interop servers) refuses to run without its privilege
# separation directory, which openssh-server's systemd unit creates when it starts; nothing here
# starts it, and /run is emptied at boot.
ensure_privsep_dir() {
    [ -d /run/sshd ] || as_root install -d -m 0755 /run/sshd
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

has_candidate() {
    local cand
    cand=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
    ensure_privsep_dir
    say "all present: ${PACKAGES[*]}"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get on this machine"
export DEBIAN_FRONTEND=noninteractive

POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
    as_root sh -c "printf '#!/bin/sh\n# temporary, from fleetca.ssh tests/bin/system-deps.sh\nexit 101\n' > $POLICY && chmod 0755 $POLICY"
    trap 'as_root rm -f "$POLICY"' EXIT
fi

updated=0
apt_update() {
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || die "apt-get update failed"
    updated=1
}

for pkg in "${missing[@]}"; do
    if ! has_candidate "$pkg"; then
        apt_update
        break
    fi
done

install() {
    say "apt-get install ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
}

if ! install; then
    [ "$updated" -eq 1 ] && die "apt-get install ${missing[*]} failed"
    apt_update
    install || die "apt-get install ${missing[*]} failed"
fi

for pkg in "${missing[@]}"; do
    installed "$pkg" || die "$pkg is still not installed"
done
say "installed: ${missing[*]}"
ensure_privsep_dir
