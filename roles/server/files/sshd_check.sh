# shellcheck shell=sh
# SPDX-License-Identifier: GPL-3.0-or-later
# fleetca.ssh.server: check a candidate sshd configuration before it replaces the live one.
# Used as the `validate` command of the template task, run as
#   sh -c THIS_SCRIPT fleetca-sshd-check CANDIDATE FINAL MAIN SSHD MODE [EXPECTED ...]
# CANDIDATE  the rendered file (Ansible's temporary copy)
# FINAL      where it will be installed
# MAIN       the main sshd_config
# SSHD       the sshd binary
# MODE       dropin: FINAL is a drop-in included by MAIN's `Include .../*.conf` line;
#            main:   FINAL is the main config itself
# EXPECTED   "keyword value" lines that `sshd -T` must print for the whole configuration
#            ("keyword v1|v2" accepts either spelling)
#
# In dropin mode the WHOLE configuration is checked, not the drop-in alone: a temporary copy
# of MAIN whose drop-in Include names, in glob order, every other drop-in that is in place now
# plus the candidate under FINAL's name. `sshd -t` then sees exactly what it will see after
# the move (other drop-ins, the main file's own lines, host keys), while nothing under
# /etc/ssh changes until the check passed. Exit 0 when good; otherwise print why, naming the
# file and line, and exit 1 (Ansible then leaves the live configuration untouched).
# The role doubles every percent sign: Ansible formats the validate command with "%" itself.
set -u
cand=$1 final=$2 main=$3 sshd=$4 mode=$5 base=
shift 5
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fleetca-sshd.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

if [ "$mode" = dropin ]; then
    dir=$(dirname "$final")
    base=$(basename "$final")
    cp "$cand" "$tmp/$base" || exit 1
    # The include list in glob(3) order (C collation of the file names, all in one directory).
    list=$(
        for file in "$dir"/*.conf; do
            [ -e "$file" ] && [ "$file" != "$final" ] && printf '%s\t%s\n' "$(basename "$file")" "$file"
        done
        printf '%s\t%s\n' "$base" "$tmp/$base"
    )
    includes=$(printf '%s\n' "$list" | LC_ALL=C sort -t "$(printf '\t')" -k1,1 | cut -f2 | tr '\n' ' ')
    # Replace the Include line that names the drop-in directory; keep every other line.
    awk -v dir="$dir" -v includes="$includes" '
        BEGIN { done = 0 }
        {
            line = $0
            sub(/^[ \t]+/, "", line)
            if (!done && tolower(substr(line, 1, 7)) == "include" \
                && (index(line, dir "/*.conf") || index(line, "sshd_config.d/*.conf"))) {
                print "Include " includes
                done = 1
                next
            }
            print
        }
        END { if (!done) exit 3 }
    ' "$main" >"$tmp/sshd_config"
    status=$?
    if [ "$status" -ne 0 ]; then
        echo "fleetca: $main has no Include line for $dir/*.conf (awk exit $status)"
        exit 1
    fi
    config=$tmp/sshd_config
else
    config=$cand
fi

# Name the real files in messages, not the temporary ones.
explain() {
    sed -e "s#$tmp/$base#$final (candidate)#g" -e "s#$tmp/sshd_config#$main#g" -e "s#$cand#$final (candidate)#g"
}

if ! out=$("$sshd" -t -f "$config" 2>&1); then
    echo "fleetca: sshd -t rejects the configuration with the new $final:"
    printf '%s\n' "$out" | explain
    # Quote the offending lines ("FILE: line N: ..." or "FILE line N: ...").
    printf '%s\n' "$out" | sed -n 's/^\(.*[^:]\):\{0,1\} line \([0-9][0-9]*\)[:.]* .*/\2 \1/p' | sort -u |
        while read -r number file; do
            [ -f "$file" ] && printf '  %s line %s: %s\n' "$file" "$number" "$(sed -n "${number}p" "$file")"
        done | explain
    exit 1
fi

if ! effective=$("$sshd" -T -f "$config" 2>/dev/null); then
    echo "fleetca: sshd -T fails on the configuration with the new $final:"
    "$sshd" -T -f "$config" 2>&1 | explain
    exit 1
fi
failed=0
set -f
for expected in "$@"; do
    # "keyword value" or "keyword value1|value2" (sshd -T may print another spelling).
    keyword=${expected%% *}
    found=0
    old_ifs=$IFS
    IFS='|'
    for value in ${expected#* }; do
        printf '%s\n' "$effective" | grep -qixF -- "$keyword $value" && found=1
    done
    IFS=$old_ifs
    if [ "$found" -eq 0 ]; then
        actual=$(printf '%s\n' "$effective" | grep -i "^$keyword " | tr '\n' ' ')
        echo "fleetca: sshd -T would use '${actual:-$keyword (unset)}', not '$expected': an earlier drop-in or a line before the Include in $main sets it first"
        failed=1
    fi
done
exit "$failed"
