#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Make sure a Docker engine answers on /var/run/docker.sock and that debootstrap is
# installed, so that tests/bin/build-images.sh and the container tests can run.
#
# Idempotent: when `docker info` already answers and debootstrap is there, it does nothing
# but make sure the kernel's inotify instance limit fits many systemd containers.
# Otherwise (a fresh Debian 12 machine in CI, run as root, non-interactive):
#   1. installs docker.io and debootstrap through tests/bin/system-deps.sh (the one installer),
#   2. starts dockerd in the background (log: $FLEETCA_DOCKERD_LOG, /tmp/dockerd.log),
#   3. waits up to $FLEETCA_DOCKER_TIMEOUT seconds (60) for `docker info` to answer.
# Concurrent callers are serialised with a lock file.
set -euo pipefail

LOG=${FLEETCA_DOCKERD_LOG:-/tmp/dockerd.log}
TIMEOUT=${FLEETCA_DOCKER_TIMEOUT:-60}
LOCK=${FLEETCA_DOCKER_LOCK:-/tmp/fleetca-start-docker.lock}
PIDFILE=${FLEETCA_DOCKERD_PIDFILE:-/var/run/docker.pid}
INOTIFY_INSTANCES=${FLEETCA_INOTIFY_INSTANCES:-1024}
# Extra dockerd arguments (tests of this script start a second daemon on another socket).
read -r -a DOCKERD_ARGS <<<"${FLEETCA_DOCKERD_ARGS:-}"

say() { echo "start-docker: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

docker_answers() {
    command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

dockerd_alive() {
    [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "need root to run: $* (run this script as root)"
    fi
}

# Every systemd container holds several inotify instances, all counted against one per-user
# limit of the host kernel (128 by default): past about 20 containers at once (the fleet
# benchmark) systemd hangs at boot with "Failed to create inotify object: Too many open files".
# Raised here, never lowered.
raise_inotify_limit() {
    local knob=/proc/sys/fs/inotify/max_user_instances current
    current=$(cat "$knob" 2>/dev/null || echo 0)
    if [ "$current" -lt "$INOTIFY_INSTANCES" ]; then
        if as_root sh -c "echo $INOTIFY_INSTANCES > $knob" 2>/dev/null; then
            say "fs.inotify.max_user_instances: $current -> $INOTIFY_INSTANCES"
        else
            say "WARNING: cannot raise fs.inotify.max_user_instances ($current): many containers may not boot"
        fi
    fi
}

main() {
    exec 9>"$LOCK"
    flock -w 300 9 || die "another start-docker.sh holds $LOCK for more than 300 s"
    raise_inotify_limit

    local missing=()
    command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
    if ! docker_answers; then
        # The engine itself: dockerd (and a docker CLI) come with Debian's docker.io.
        if ! command -v dockerd >/dev/null 2>&1 && [ ! -x /usr/sbin/dockerd ] \
            || ! command -v docker >/dev/null 2>&1; then
            missing+=(docker.io)
        fi
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        say "missing ${missing[*]}: installing the project's system packages"
        bash "$(dirname "${BASH_SOURCE[0]}")/system-deps.sh" || die "tests/bin/system-deps.sh failed"
    fi
    export PATH="$PATH:/usr/sbin:/sbin"

    if docker_answers; then
        [ "${#missing[@]}" -gt 0 ] && say "docker answers"
        return 0
    fi

    # No daemon answers. A dockerd that is already starting gets the time to come up;
    # otherwise start one.
    if dockerd_alive; then
        say "dockerd (pid $(cat "$PIDFILE")) runs but does not answer yet; waiting for it"
    else
        say "starting dockerd in the background, log in $LOG"
        # A stale pid file from a previous boot of a kept machine blocks the start.
        as_root rm -f "$PIDFILE"
        as_root setsid nohup dockerd --pidfile "$PIDFILE" "${DOCKERD_ARGS[@]}" \
            >>"$LOG" 2>&1 </dev/null 9>&- &
    fi

    local waited=0
    until docker_answers; do
        if [ "$waited" -ge "$TIMEOUT" ]; then
            say "last lines of $LOG:"
            tail -n 30 "$LOG" >&2 2>/dev/null || true
            die "docker did not answer on /var/run/docker.sock within ${TIMEOUT} s (see $LOG)"
        fi
        if ! dockerd_alive && [ "$waited" -ge 5 ]; then
            say "last lines of $LOG:"
            tail -n 30 "$LOG" >&2 2>/dev/null || true
            die "dockerd exited while starting (see $LOG)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "docker answers after ${waited} s"
}

main "$@"
