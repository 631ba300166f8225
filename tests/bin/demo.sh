#!/usr/bin/env bash
# make demo: create a CA, sign a host key and a user key with fleetca.ssh, and show
# what OpenSSH's own ssh-keygen reads in the certificates. Runs on the controller only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
work=$(mktemp -d /tmp/fleetca-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

say() { printf '\n==> %s\n' "$*"; }

say "Making a host key and a user key to certify (ssh-keygen), in $work"
ssh-keygen -q -t ed25519 -N '' -C web1 -f "$work/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C alice@laptop -f "$work/alice"

cat > "$work/demo.yml" <<YAML
- name: fleetca.ssh demo - a CA signs a host and a user certificate
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Ensure a host CA and a user CA (separate keys)
      fleetca.ssh.ca_key:
        path: "$work/{{ item }}"
      loop: [host_ca, user_ca]
    - name: Sign the host key for web1 (valid 52 weeks)
      fleetca.ssh.cert:
        ca_key: "$work/host_ca"
        type: host
        public_key_path: "$work/ssh_host_ed25519_key.pub"
        path: "$work/ssh_host_ed25519_key-cert.pub"
        principals: [web1, web1.example.com]
        valid_for: +52w
        renew_before: +4w
        requester: web1
    - name: Sign alice's key for 8 hours
      fleetca.ssh.cert:
        ca_key: "$work/user_ca"
        store: "$work/issued.db"
        type: user
        public_key_path: "$work/alice.pub"
        path: "$work/alice-cert.pub"
        principals: [alice]
        key_id: alice@laptop
        valid_for: +8h
YAML

say "Running the playbook: CA keys, then one host and one user certificate"
ansible-playbook -i localhost, "$work/demo.yml"
say "Running it again: nothing to change (idempotent)"
ansible-playbook -i localhost, "$work/demo.yml" | tail -n 3

say "What ssh-keygen -L reads in the host certificate"
ssh-keygen -L -f "$work/ssh_host_ed25519_key-cert.pub"
say "What ssh-keygen -L reads in the user certificate"
ssh-keygen -L -f "$work/alice-cert.pub"
say "Done; the demo's files are removed."
