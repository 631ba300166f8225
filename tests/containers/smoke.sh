#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Smoke test of the systemd test images (tests/bin/build-images.sh):
# one container per image on the docker network fleetca-net, each must boot to
# `systemctl is-system-running` = running with ssh active, have ssh, python3 with
# cryptography and bcrypt, its own host keys and machine id, and accept an ssh login as
# root with a key from another container (11 -> 12 -> 13 -> 11).
#
#   tests/containers/smoke.sh [11|12|13 ...]     (default: all three)
#
# Set FLEETCA_SMOKE_NO_BUILD=1 to skip calling start-docker.sh / build-images.sh.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN="$HERE/../bin"
REPO=${FLEETCA_IMAGE_REPO:-fleetca-test/debian}
NET=${FLEETCA_NETWORK:-fleetca-net}
BOOT_TIMEOUT=${FLEETCA_BOOT_TIMEOUT:-90}
VERSIONS=("$@")
[ "${#VERSIONS[@]}" -gt 0 ] || VERSIONS=(11 12 13)

# The flags machine.md found necessary for systemd as PID 1 on this engine (cgroup v1).
SYSTEMD_FLAGS=(--cap-add SYS_ADMIN --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
    --tmpfs /run --tmpfs /run/lock)

declare -A EXPECT_SSH=([11]="OpenSSH_8.4p1" [12]="OpenSSH_9.2p1" [13]="OpenSSH_10.0p2")

PREFIX="fleetca-smoke-$$"
FAILS=0
PASSES=0
say() { echo "smoke: $*"; }
ok() { PASSES=$((PASSES + 1)); say "ok   $*"; }
bad() { FAILS=$((FAILS + 1)); say "FAIL $*"; }
name_of() { echo "$PREFIX-deb$1"; }

cleanup() {
    local v
    for v in "${VERSIONS[@]}"; do
        docker rm -f "$(name_of "$v")" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

if [ -z "${FLEETCA_SMOKE_NO_BUILD:-}" ]; then
    "$BIN/start-docker.sh"
    "$BIN/build-images.sh" "${VERSIONS[@]}"
fi
docker network inspect "$NET" >/dev/null 2>&1 || docker network create "$NET" >/dev/null

start=$(date +%s)
for v in "${VERSIONS[@]}"; do
    docker run -d --name "$(name_of "$v")" --hostname "$(name_of "$v")" --network "$NET" \
        "${SYSTEMD_FLAGS[@]}" "$REPO:$v" >/dev/null
done

for v in "${VERSIONS[@]}"; do
    c=$(name_of "$v")
    state=$(timeout "$BOOT_TIMEOUT" docker exec "$c" systemctl is-system-running --wait 2>/dev/null || true)
    if [ "$state" = running ]; then
        ok "debian $v: is-system-running = running ($(($(date +%s) - start)) s after start)"
    else
        bad "debian $v: is-system-running = '${state:-timeout}'; failed units:"
        docker exec "$c" systemctl --failed --no-legend --plain || true
    fi
    if [ "$(docker exec "$c" systemctl is-active ssh)" = active ]; then
        ok "debian $v: ssh.service active"
    else
        bad "debian $v: ssh.service not active"
        docker exec "$c" journalctl -u ssh -u fleetca-ssh-hostkeys --no-pager | tail -n 20 || true
    fi
    sshv=$(docker exec "$c" ssh -V 2>&1)
    case "$sshv" in
        "${EXPECT_SSH[$v]}"*) ok "debian $v: $sshv" ;;
        *) bad "debian $v: ssh -V = '$sshv', expected ${EXPECT_SSH[$v]}" ;;
    esac
    if py=$(docker exec "$c" python3 -c 'import sys, cryptography, bcrypt; print("Python %d.%d.%d" % sys.version_info[:3], "cryptography", cryptography.__version__, "bcrypt", bcrypt.__version__)' 2>&1); then
        ok "debian $v: $py"
    else
        bad "debian $v: python3 / cryptography / bcrypt: $py"
    fi
    if docker exec "$c" python3 -c 'import apt' 2>/dev/null; then
        ok "debian $v: python3-apt importable (ansible.builtin.apt)"
    else
        bad "debian $v: python3-apt missing"
    fi
    mode=$(docker exec "$c" stat -c %a /root/.ssh 2>&1 || true)
    if [ "$mode" = 700 ]; then ok "debian $v: /root/.ssh is 0700"; else bad "debian $v: /root/.ssh mode '$mode'"; fi
    if docker exec "$c" grep -qs '^Include /etc/ssh/ssh_config.d/\*.conf' /etc/ssh/ssh_config; then
        ok "debian $v: /etc/ssh/ssh_config includes ssh_config.d/*.conf"
    else
        bad "debian $v: /etc/ssh/ssh_config has no Include of ssh_config.d"
    fi
done

# Every container must have its own host keys and machine id.
if [ "${#VERSIONS[@]}" -gt 1 ]; then
    for what in /etc/ssh/ssh_host_ed25519_key.pub /etc/machine-id; do
        n=$(for v in "${VERSIONS[@]}"; do docker exec "$(name_of "$v")" cat "$what"; done | sort -u | wc -l)
        if [ "$n" -eq "${#VERSIONS[@]}" ]; then
            ok "$what differs between the ${#VERSIONS[@]} containers"
        else
            bad "$what is shared between containers ($n distinct for ${#VERSIONS[@]})"
        fi
    done
fi

# ssh as root with a key: each container logs into the next one by name.
for i in "${!VERSIONS[@]}"; do
    a=$(name_of "${VERSIONS[$i]}")
    b=$(name_of "${VERSIONS[$(((i + 1) % ${#VERSIONS[@]}))]}")
    docker exec "$a" sh -c 'test -f /root/.ssh/id_ed25519 || ssh-keygen -q -t ed25519 -N "" -f /root/.ssh/id_ed25519'
    docker exec "$a" cat /root/.ssh/id_ed25519.pub | docker exec -i "$b" sh -c 'cat >> /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys'
    if out=$(docker exec "$a" ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10 "root@$b" 'hostname; ssh -V 2>&1' 2>&1); then
        ok "$a -> $b: ssh as root with a key: $(echo "$out" | tr '\n' ' ')"
    else
        bad "$a -> $b: ssh failed: $out"
    fi
done

echo "smoke: $(($(date +%s) - start)) s for ${#VERSIONS[@]} containers"
echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
