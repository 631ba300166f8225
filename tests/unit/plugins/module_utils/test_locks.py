# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/locks.py: the flock beside a file, between real processes."""

import multiprocessing
import os
import signal
import time

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import locks
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError

CONTEXT = multiprocessing.get_context("fork")


def hold(path, ready, seconds):
    with locks.FileLock(path, timeout=5):
        ready.set()
        time.sleep(seconds)


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds the lock on `target` for `seconds`; killed at the end."""
    started = []

    def start(seconds=60):
        ready = CONTEXT.Event()
        process = CONTEXT.Process(target=hold, args=(str(tmp_path / "target"), ready, seconds))
        process.start()
        assert ready.wait(10), "the holder never got the lock"
        started.append(process)
        return process

    yield start
    for process in started:
        if process.is_alive():
            process.kill()
        process.join()


def test_a_held_lock_times_out_naming_the_holder_and_the_option(tmp_path, holder):
    process = holder()
    began = time.monotonic()
    with pytest.raises(FleetcaError) as error:
        with locks.FileLock(str(tmp_path / "target"), timeout=1):
            pytest.fail("got a lock another process holds")
    assert time.monotonic() - began >= 1
    message = str(error.value)
    assert message.startswith("lock_timeout: gave up after 1 s")
    assert "pid %d on " % process.pid in message
    assert str(tmp_path / "target.lock") in message


def test_a_killed_holder_releases_the_lock(tmp_path, holder):
    process = holder()
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    with locks.FileLock(str(tmp_path / "target"), timeout=2) as lock:
        assert lock.waited < 2
    # the lock file stays, naming its last holder
    assert ("pid %d " % os.getpid()) in (tmp_path / "target.lock").read_text()


def test_a_waiter_is_told_after_the_notice_delay(tmp_path, holder, monkeypatch):
    monkeypatch.setattr(locks, "NOTICE_AFTER", 0.3)
    process = holder(seconds=1.5)
    notices = []
    with locks.FileLock(str(tmp_path / "target"), timeout=10, notice=notices.append) as lock:
        assert lock.waited >= 0.3
    assert len(notices) == 1
    assert "waiting for the lock %s, held by pid %d" % (tmp_path / "target.lock", process.pid) in notices[0]


def test_an_uncontended_lock_is_quiet_and_new_lock_files_are_private(tmp_path):
    notices = []
    with locks.FileLock(str(tmp_path / "target"), timeout=0, notice=notices.append) as lock:
        assert lock.waited < locks.NOTICE_AFTER
    assert notices == []
    assert oct(os.stat(str(tmp_path / "target.lock")).st_mode & 0o777) == oct(0o600)


def add_one(path, value, rounds):
    """A read-modify-write of a counter file, under the lock."""
    for dummy in range(rounds):
        with locks.FileLock(path, timeout=60):
            with open(path) as handle:
                numbers = handle.read().split()
            numbers.append(str(value))
            with open(path + ".new", "w") as handle:
                handle.write(" ".join(numbers))
            os.rename(path + ".new", path)


def test_concurrent_read_modify_writes_all_land(tmp_path):
    path = str(tmp_path / "counter")
    with open(path, "w") as handle:
        handle.write("")
    workers = [CONTEXT.Process(target=add_one, args=(path, n, 20)) for n in range(16)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    with open(path) as handle:
        numbers = handle.read().split()
    assert sorted(numbers) == sorted(str(n) for n in range(16) for dummy in range(20))


def test_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FleetcaError, match="cannot open the lock file .*missing/target.lock"):
        with locks.FileLock(str(tmp_path / "missing" / "target")):
            pass
