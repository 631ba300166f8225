#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# make demo: a whole fleet in containers, from the installed collection, in plain words.
#
#   1. starts a CA (Debian 12), two servers (Debian 11 and 13) and a workstation (Debian 12)
#      as systemd containers on the docker network fleetca-demo (tests/bin/containers.sh:
#      starts docker and builds the Debian images with debootstrap the first time, cached);
#   2. runs fleetca.ssh.enroll (CA keys, host certificates, hardened sshd) and
#      fleetca.ssh.trust (@cert-authority line on the workstation);
#   3. gives alice a user certificate with fleetca.ssh.issue (the CA's policy, profile default);
#   4. logs in from the workstation to both servers with no TOFU prompt and no known host key;
#   5. revokes the certificate with fleetca.ssh.revoke and shows both servers refusing it;
#   6. removes its containers and network (also on failure or Ctrl-C).
#
# It fails (non-zero exit) as soon as a step does not behave as announced: it is also a smoke
# test. Needs root and a built collection in .build/collections (`make demo` does both).
# Containers are named demo-*: molecule (default-*, client-*, revocation-* on fleetca-net) and
# the benchmark (bench-* on fleetca-bench) may run at the same time on this machine.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export VIRTUAL_ENV=${VIRTUAL_ENV:-$root/.venv}
export PATH="$VIRTUAL_ENV/bin:$PATH:/usr/sbin:/sbin"
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_LOCALHOST_WARNING=false \
    ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_RETRY_FILES_ENABLED=false

NET=fleetca-demo
CA=demo-ca
SERVERS=(demo-web1 demo-web2)
WS=demo-ws
SPECS=("$CA:12" "${SERVERS[0]}:11" "${SERVERS[1]}:13" "$WS:12")
NAMES=("$CA" "${SERVERS[@]}" "$WS")
KEY=/home/alice/.ssh/id_ed25519
LOCK=${FLEETCA_DEMO_LOCK:-/tmp/fleetca-demo.lock}

say() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf '\nDEMO FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (docker and debootstrap need it): sudo make demo"
[ -x "$VIRTUAL_ENV/bin/ansible-playbook" ] || die "no ansible-playbook in $VIRTUAL_ENV: run make install"
[ -f "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/fleetca/ssh/MANIFEST.json" ] \
    || die "fleetca.ssh is not installed in $ANSIBLE_COLLECTIONS_PATH: run make install"

# Two demos at once would replace each other's demo-* containers: the second one waits.
exec 9>"$LOCK"
if ! flock -n 9; then
    say "Another make demo is running on this machine; waiting for it to finish"
    flock -w 1800 9 || die "another make demo holds $LOCK for more than 30 min"
fi

work=$(mktemp -d /tmp/fleetca-demo.XXXXXX)
started=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$started" -eq 1 ]; then
        say "Cleaning up: removing the containers ${NAMES[*]} and the network $NET"
        "$root/tests/bin/containers.sh" down "$NET" "${NAMES[@]}" 2>&1 | sed 's/^/    /' || true
    fi
    rm -rf "$work"
    if [ "$rc" -eq 0 ]; then
        say "Demo finished in $((SECONDS / 60)) min $((SECONDS % 60)) s"
    else
        printf '\nDEMO FAILED (exit %s) after %s s\n' "$rc" "$SECONDS" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs ansible-playbook with its output in a log: prints the PLAY RECAP when it succeeds,
# the whole log when it fails.
playbook() {
    local log=$work/$1.log
    shift
    if ansible-playbook -i "$work/inventory.yml" "$@" >"$log" 2>&1; then
        sed -n '/^PLAY RECAP/,$p' "$log" | sed '/^$/d; s/^/    /'
    else
        cat "$log" >&2
        die "ansible-playbook $* failed (log above)"
    fi
}

# Runs a command in a container as alice (with her key, on her workstation).
as_alice() { docker exec -u alice -w /home/alice "$WS" "$@"; }

# alice logs in from the workstation: BatchMode (no prompt at all), StrictHostKeyChecking=yes
# and no known_hosts file of her own, so only /etc/ssh/ssh_known_hosts can vouch for a server.
# Prints ssh's output and errors (without the CRs ssh puts in its messages); ssh's exit status.
# shellcheck disable=SC2016 # the command line is expanded by the server's shell, not here
ssh_login() {
    local server=$1
    shift
    as_alice ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null \
        -o ConnectTimeout=20 -i "$KEY" "$@" "alice@$server" \
        'echo "logged in as $(id -un) on $(hostname), $(. /etc/os-release; echo "$PRETTY_NAME")"' \
        2>&1 | tr -d '\r'
}

# ---------------------------------------------------------------------------------------------
say "Starting 4 containers on the docker network $NET: a CA ($CA, Debian 12),"
note "two servers (${SERVERS[0]}, Debian 11; ${SERVERS[1]}, Debian 13) and a workstation ($WS, Debian 12)."
note "The first run starts docker and builds the Debian images with debootstrap (a few minutes);"
note "later runs reuse them."
started=1
"$root/tests/bin/containers.sh" up "$NET" "${SPECS[@]}" 2>&1 | sed 's/^/    /'

cat >"$work/inventory.yml" <<YAML
# The demo fleet: Ansible reaches the containers with docker exec, no ssh needed.
fleetca_demo:
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
  children:
    ssh_ca:
      hosts:
        $CA:
    ssh_servers:
      hosts:
        ${SERVERS[0]}:
        ${SERVERS[1]}:
    ssh_clients:
      hosts:
        $WS:
YAML
say "Inventory (groups ssh_ca, ssh_servers, ssh_clients; no other variable):"
sed -n '/^fleetca_demo:/,$p' "$work/inventory.yml" | sed 's/^/    /'

# ---------------------------------------------------------------------------------------------
say "Enrolling: ansible-playbook fleetca.ssh.enroll creates the host CA and the user CA on $CA,"
note "certifies the host keys of both servers in one signing call and installs a hardened sshd"
note "that trusts the user CA."
playbook enroll fleetca.ssh.enroll

say "The host certificate ${SERVERS[0]} now presents (ssh-keygen -L, abridged):"
docker exec "${SERVERS[0]}" ssh-keygen -L -f /etc/ssh/ssh_host_ed25519_key-cert.pub \
    | sed -n '1,/Critical Options/p' | sed '/Critical Options/d; s/^/    /'

say "Trusting: ansible-playbook fleetca.ssh.trust writes the host CA into the workstation's"
note "/etc/ssh/ssh_known_hosts as an @cert-authority line."
playbook trust fleetca.ssh.trust
say "The line on $WS (no server's own key is listed anywhere):"
line=$(docker exec "$WS" grep '^@cert-authority' /etc/ssh/ssh_known_hosts) \
    || die "no @cert-authority line in /etc/ssh/ssh_known_hosts on $WS"
note "$line"

# ---------------------------------------------------------------------------------------------
say "Creating the user alice on the servers and on the workstation, and her key on $WS"
if ! ansible -i "$work/inventory.yml" 'ssh_servers:ssh_clients' -o \
    -m ansible.builtin.user -a 'name=alice shell=/bin/bash' >"$work/users.log" 2>&1; then
    cat "$work/users.log" >&2
    die "could not create the user alice"
fi
as_alice install -d -m 0700 /home/alice/.ssh
as_alice ssh-keygen -q -t ed25519 -N '' -C alice@demo-ws -f "$KEY"
note "$(as_alice ssh-keygen -l -f "$KEY.pub")"

docker cp "$WS:$KEY.pub" "$work/alice.pub" >/dev/null
say "Giving alice a certificate: ansible-playbook fleetca.ssh.issue -e fleetca_ssh_issue_user=alice"
note "-e fleetca_ssh_issue_public_key_file=alice.pub -e fleetca_ssh_issue_valid_for=+1h: signed on $CA"
note "under the built-in profile 'default' (principal alice, key id alice@default, at most 24 h),"
note "recorded in the issuance log with alice as requester, written on the controller and printed;"
note "then copied beside her key"
playbook issue fleetca.ssh.issue -e fleetca_ssh_issue_user=alice \
    -e "fleetca_ssh_issue_public_key_file=$work/alice.pub" -e fleetca_ssh_issue_valid_for=+1h \
    -e "fleetca_ssh_issue_dest=$work/alice-cert.pub"
docker cp "$work/alice-cert.pub" "$WS:$KEY-cert.pub" >/dev/null
docker exec "$WS" chown alice:alice "$KEY-cert.pub"
say "What ssh-keygen -L reads in alice's certificate:"
as_alice ssh-keygen -L -f "$KEY-cert.pub" | sed 's/^/    /'

# ---------------------------------------------------------------------------------------------
say "Without the @cert-authority line, ssh has no way to trust ${SERVERS[0]} (TOFU would prompt;"
note "with StrictHostKeyChecking=yes it refuses). Trying with the global known_hosts hidden:"
if out=$(ssh_login "${SERVERS[0]}" -o GlobalKnownHostsFile=/dev/null); then
    die "the login succeeded without any known host key: $out"
fi
grep -q 'Host key verification failed' <<<"$out" || die "unexpected refusal: $out"
note "refused as expected: $(grep 'Host key verification failed' <<<"$out" | head -n 1)"

say "Logging in as alice from $WS to both servers: BatchMode=yes (no prompt possible),"
note "StrictHostKeyChecking=yes, UserKnownHostsFile=/dev/null; the servers are trusted only"
note "through the @cert-authority line, alice only through her certificate."
for server in "${SERVERS[@]}"; do
    out=$(ssh_login "$server") || { printf '%s\n' "$out" >&2; die "alice could not log in to $server"; }
    note "ssh alice@$server: $out"
done

# ---------------------------------------------------------------------------------------------
say "Revoking alice's certificate: ansible-playbook fleetca.ssh.revoke"
note "-e '{\"fleetca_ssh_revoke_key_ids\": [\"alice@default\"]}' adds the key id to the master KRL on"
note "$CA and installs that KRL on every server (sshd reads it at each login; nothing is reloaded)."
playbook revoke fleetca.ssh.revoke -e '{"fleetca_ssh_revoke_key_ids": ["alice@default"]}'

say "The same login is now refused on both servers:"
for server in "${SERVERS[@]}"; do
    if out=$(ssh_login "$server"); then
        die "alice still logs in to $server after the revocation: $out"
    fi
    grep -q 'Permission denied' <<<"$out" || die "unexpected failure on $server (not a refusal): $out"
    note "ssh alice@$server: $(grep 'Permission denied' <<<"$out" | head -n 1)"
    logline=
    for _ in 1 2 3 4 5; do
        logline=$(docker exec "$server" journalctl -u ssh --no-pager -o cat 2>/dev/null \
            | grep -i 'revoked' | tail -n 1) && break
        sleep 1
    done
    [ -n "$logline" ] || die "no 'revoked' line in $server's sshd log (journalctl -u ssh)"
    note "sshd on $server logged: $logline"
done
