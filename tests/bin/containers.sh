#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Start and remove systemd containers of the local Debian test images, outside molecule
# (make demo, benchmarks/fleet.py):
#
#   tests/bin/containers.sh up NETWORK NAME:VERSION ...   e.g. up fleetca-demo demo-ca:12 demo-web:13
#   tests/bin/containers.sh down NETWORK NAME ...
#
# up: starts docker and builds the images the names ask for (both cached, see start-docker.sh
# and build-images.sh), creates NETWORK, replaces any container of the same name, starts
# each with the flags systemd needs here (docs: shared machine.md) and waits until every one
# has booted. Ansible reaches them with community.docker.docker (docker exec); they reach
# each other by name on NETWORK.
# down: removes the containers, then NETWORK once no container uses it.
set -euo pipefail

say() { echo "containers: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

BIN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${FLEETCA_IMAGE_REPO:-fleetca-test/debian}
BOOT_TIMEOUT=${FLEETCA_BOOT_TIMEOUT:-180}

up() {
    local net=$1 spec name version versions=() names=()
    shift
    for spec in "$@"; do
        [[ $spec =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*:(11|12|13)$ ]] || die "'$spec' is not NAME:11, NAME:12 or NAME:13"
        names+=("${spec%:*}")
        versions+=("${spec##*:}")
    done
    "$BIN/start-docker.sh"
    mapfile -t versions < <(printf '%s\n' "${versions[@]}" | sort -u)
    "$BIN/build-images.sh" "${versions[@]}"
    docker network inspect "$net" >/dev/null 2>&1 || docker network create "$net" >/dev/null
    docker rm -f "${names[@]}" >/dev/null 2>&1 || true
    for spec in "$@"; do
        name=${spec%:*}
        version=${spec##*:}
        docker run -d --name "$name" --hostname "$name" --network "$net" \
            --cap-add SYS_ADMIN --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
            --tmpfs /run --tmpfs /run/lock --label org.fleetca.container=1 \
            "$REPO:$version" /lib/systemd/systemd >/dev/null
    done
    # Booted: systemd "running" or "degraded" (a unit that does not apply to a container) and
    # sshd active. Polled: right after `docker run` systemctl cannot reach systemd yet, and a
    # boot stuck in "initializing" must not pass for "degraded" (both exit 1 from --wait).
    local stuck=("${names[@]}") waiting deadline=$((SECONDS + BOOT_TIMEOUT))
    while [ "${#stuck[@]}" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
        waiting=()
        for name in "${stuck[@]}"; do
            [[ "$(docker exec "$name" sh -c 'systemctl is-system-running; systemctl is-active ssh' 2>&1 | tr '\n' ' ')" \
                =~ ^(running|degraded)\ active\ $ ]] || waiting+=("$name")
        done
        stuck=("${waiting[@]}")
        [ "${#stuck[@]}" -eq 0 ] || sleep 2
    done
    [ "${#stuck[@]}" -eq 0 ] || die "not booted within ${BOOT_TIMEOUT} s (systemd state, sshd): ${stuck[*]}"
    say "up on $net: ${names[*]}"
}

down() {
    local net=$1
    shift
    [ $# -eq 0 ] || docker rm -f "$@" >/dev/null 2>&1 || true
    if docker network inspect "$net" >/dev/null 2>&1 \
        && [ -z "$(docker network inspect -f '{{range .Containers}}x{{end}}' "$net")" ]; then
        docker network rm "$net" >/dev/null
    fi
    say "down on $net: $*"
}

[ $# -ge 2 ] || die "usage: $0 up NETWORK NAME:VERSION ... | down NETWORK NAME ..."
command=$1
shift
case "$command" in
    up) [ $# -ge 2 ] || die "usage: $0 up NETWORK NAME:VERSION ..."; up "$@" ;;
    down) down "$@" ;;
    *) die "unknown command '$command' (up or down)" ;;
esac
