#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build the local systemd test images fleetca-test/debian:11, :12 and :13 from Debian's
# mirror with debootstrap (no registry is reachable here, so every image is built locally).
#
#   tests/bin/build-images.sh [11|12|13 ...]      (default: all three)
#
# Cached: a suite is skipped when its image exists and carries the label
# org.fleetca.recipe equal to the hash of this script's recipe (package list and
# rootfs customisation). Change either and the image is rebuilt.
# Environment:
#   FLEETCA_DEBIAN_MIRROR  mirror URL (default http://deb.debian.org/debian)
#   FLEETCA_BUILD_JOBS     suites built at once (default 2; the machine has 2 cores)
#   FLEETCA_FORCE_BUILD=1  rebuild even when the cache says the image is current
#   FLEETCA_IMAGE_REPO     image repository (default fleetca-test/debian)
#   FLEETCA_DEBOOTSTRAP_CACHE  where downloaded .debs are kept between builds
#                          (default /var/cache/fleetca-debootstrap; "" = no cache)
# Needs root (debootstrap) and a running docker (tests/bin/start-docker.sh).
set -euo pipefail

MIRROR=${FLEETCA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
JOBS=${FLEETCA_BUILD_JOBS:-2}
REPO=${FLEETCA_IMAGE_REPO:-fleetca-test/debian}
LOCK=${FLEETCA_BUILD_LOCK:-/tmp/fleetca-build-images.lock}
CACHE=${FLEETCA_DEBOOTSTRAP_CACHE-/var/cache/fleetca-debootstrap}

# Everything a test container needs: systemd as PID 1, sshd and ssh, Python for Ansible
# (python3-apt for ansible.builtin.apt), sudo for become, iproute2 for network facts,
# procps for ps/pgrep, dbus for hostnamectl/timedatectl, and python3-cryptography +
# python3-bcrypt so that any container can be the CA host without network access
# (python3-cffi-backend named explicitly: debootstrap does not resolve the virtual
# python3-cffi-backend-api-* packages they depend on).
PACKAGES=(
    systemd
    systemd-sysv
    dbus
    openssh-server
    openssh-client
    python3
    python3-apt
    python3-cryptography
    python3-bcrypt
    python3-cffi-backend
    sudo
    iproute2
    procps
    ca-certificates
)

say() { echo "build-images: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

suite_of() {
    case "$1" in
        11) echo bullseye ;;
        12) echo bookworm ;;
        13) echo trixie ;;
        *) return 1 ;;
    esac
}

# Changes made to the debootstrapped tree before it becomes an image.
customize_rootfs() {
    local root=$1
    # Host keys are made at first boot of each container (unit below): an image must not
    # carry keys that all of its containers would share.
    rm -f "$root"/etc/ssh/ssh_host_*
    cat >"$root"/etc/systemd/system/fleetca-ssh-hostkeys.service <<'UNIT'
[Unit]
Description=Generate missing SSH host keys (fleetca test image)
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target ssh.service
UNIT
    mkdir -p "$root"/etc/systemd/system/multi-user.target.wants "$root"/etc/systemd/system/ssh.service.wants
    ln -sf /etc/systemd/system/fleetca-ssh-hostkeys.service \
        "$root"/etc/systemd/system/multi-user.target.wants/fleetca-ssh-hostkeys.service
    ln -sf /etc/systemd/system/fleetca-ssh-hostkeys.service \
        "$root"/etc/systemd/system/ssh.service.wants/fleetca-ssh-hostkeys.service
    install -d -m 0700 "$root"/root/.ssh
    # Each container gets its own machine id at boot (an empty file, as in Debian's images).
    : >"$root"/etc/machine-id
    rm -f "$root"/var/lib/dbus/machine-id
    # Smaller image: downloaded .debs are not needed (package lists are kept for apt).
    rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
    rm -rf "$root"/var/log/apt/* "$root"/var/log/dpkg.log "$root"/tmp/* "$root"/var/tmp/*
}

recipe_hash() {
    { printf '%s\n' "${PACKAGES[@]}"; declare -f customize_rootfs; } | sha256sum | cut -c1-16
}

image_recipe() {
    docker image inspect --format '{{ index .Config.Labels "org.fleetca.recipe" }}' "$1" 2>/dev/null || true
}

unmount_under() {
    # Unmount anything debootstrap may have left mounted below the rootfs (deepest first).
    local root=$1
    awk -v r="$root" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
        while IFS= read -r mnt; do
            umount -l "$mnt" 2>/dev/null || true
        done
}

build_one() {
    local ver=$1 suite tag hash tmp rootfs start
    suite=$(suite_of "$ver")
    tag="$REPO:$ver"
    hash=$(recipe_hash)
    if [ -z "${FLEETCA_FORCE_BUILD:-}" ] && [ "$(image_recipe "$tag")" = "$hash" ]; then
        say "$tag is current (recipe $hash): skipped"
        return 0
    fi
    start=$(date +%s)
    local old_id
    old_id=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
    tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/fleetca-rootfs-$ver.XXXXXX")
    # shellcheck disable=SC2064
    trap "unmount_under '$tmp'; rm -rf --one-file-system '$tmp'" EXIT
    rootfs="$tmp/rootfs"
    say "$tag: debootstrap $suite (log $tmp/debootstrap.log)"
    local cache_opt=()
    if [ -n "$CACHE" ]; then
        mkdir -p "$CACHE/$suite"
        cache_opt=(--cache-dir="$CACHE/$suite")
    fi
    if ! debootstrap "${cache_opt[@]}" --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
        "$suite" "$rootfs" "$MIRROR" >"$tmp/debootstrap.log" 2>&1; then
        tail -n 40 "$tmp/debootstrap.log" >&2
        [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 40 "$rootfs/debootstrap/debootstrap.log" >&2
        die "$tag: debootstrap $suite failed"
    fi
    unmount_under "$rootfs"
    customize_rootfs "$rootfs"
    say "$tag: debootstrap done in $(($(date +%s) - start)) s; importing"
    if ! tar --numeric-owner --xattrs -C "$rootfs" -c . | docker import \
        -c 'CMD ["/lib/systemd/systemd"]' \
        -c 'ENV container=docker' \
        -c "LABEL org.fleetca.recipe=$hash org.fleetca.suite=$suite" \
        -m "fleetca test image: debootstrap $suite, recipe $hash" \
        - "$tag" >/dev/null; then
        die "$tag: docker import failed"
    fi
    unmount_under "$tmp"
    rm -rf --one-file-system "$tmp"
    trap - EXIT
    # Drop the image this one replaces (kept if a container still uses it).
    if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
        docker rmi "$old_id" >/dev/null 2>&1 || true
    fi
    say "$tag: built in $(($(date +%s) - start)) s, $(docker image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
}

main() {
    [ "$(id -u)" -eq 0 ] || die "run as root (debootstrap needs it)"
    command -v debootstrap >/dev/null 2>&1 || export PATH="$PATH:/usr/sbin:/sbin"
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing: run tests/bin/start-docker.sh"
    docker info >/dev/null 2>&1 || die "docker does not answer: run tests/bin/start-docker.sh"

    local versions=("$@") v
    [ "${#versions[@]}" -gt 0 ] || versions=(11 12 13)
    for v in "${versions[@]}"; do
        suite_of "$v" >/dev/null || die "unknown Debian version '$v' (use 11, 12 or 13)"
    done

    # One builder at a time on this machine; a second caller waits, then finds the cache.
    exec 9>"$LOCK"
    flock -w 1800 9 || die "another build-images.sh holds $LOCK for more than 30 min"

    local status failed=()
    status=$(mktemp -d)
    for v in "${versions[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
            wait -n || true
        done
        # build_one runs with errexit in force (not inside a && list) and marks success.
        (build_one "$v"; touch "$status/$v.ok") 9>&- &
    done
    wait
    for v in "${versions[@]}"; do
        [ -f "$status/$v.ok" ] || failed+=("$v")
    done
    rm -rf "$status"
    [ "${#failed[@]}" -eq 0 ] || die "failed to build: ${failed[*]}"
    docker image ls "$REPO" >&2
}

main "$@"
