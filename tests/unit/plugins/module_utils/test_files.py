# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the file helpers (files.py) on real files: paths checked before any work,
atomic replacement with the mode set before the first byte, and what identity tells apart."""

import os
import stat

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import files
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import FleetcaError


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def leftovers(directory, name):
    """Temp files of write_atomic (`.NAME.*`) still in `directory`."""
    return [entry for entry in os.listdir(str(directory)) if entry.startswith(".%s." % name)]


# --- check_writable_path -------------------------------------------------------------

def test_a_writable_path_passes(tmp_path):
    files.check_writable_path("path", str(tmp_path / "new.krl"))


def test_a_missing_directory_names_the_field_and_the_directory(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(FleetcaError, match="^requests\\[0\\].path: directory %s does not exist$" % missing):
        files.check_writable_path("requests[0].path", str(missing / "cert.pub"))


def test_a_directory_is_not_a_file_to_write(tmp_path):
    with pytest.raises(FleetcaError, match="^path: %s is a directory$" % tmp_path):
        files.check_writable_path("path", str(tmp_path))


# --- write_atomic --------------------------------------------------------------------

@pytest.mark.parametrize("mode", [0o600, 0o644, 0o640])
def test_a_new_file_gets_its_mode_whatever_the_umask(tmp_path, mode):
    path = tmp_path / "file"
    old_umask = os.umask(0o077)
    try:
        files.write_atomic(str(path), b"content\n", mode)
    finally:
        os.umask(old_umask)
    assert path.read_bytes() == b"content\n"
    assert mode_of(path) == mode


def test_replacing_swaps_the_whole_file_and_an_open_reader_keeps_the_old_one(tmp_path):
    path = tmp_path / "revoked.krl"
    files.write_atomic(str(path), b"old version", 0o644)
    before = os.stat(str(path))
    with open(str(path), "rb") as reader:
        files.write_atomic(str(path), b"new version, longer", 0o644)
        assert reader.read() == b"old version"  # never a mix of old and new bytes
    assert path.read_bytes() == b"new version, longer"
    assert os.stat(str(path)).st_ino != before.st_ino
    assert leftovers(tmp_path, "revoked.krl") == []


def test_a_private_key_is_never_readable_by_others_even_before_the_rename(tmp_path):
    # the file replaced keeps nothing of the old one: 0600 even over a 0644 file
    path = tmp_path / "ca"
    files.write_atomic(str(path), b"public", 0o644)
    files.write_atomic(str(path), b"private", 0o600)
    assert mode_of(path) == 0o600


def test_the_owner_is_set_when_given(tmp_path):
    path = tmp_path / "cert.pub"
    files.write_atomic(str(path), b"x", 0o644, owner=(os.getuid(), os.getgid()))
    info = os.stat(str(path))
    assert (info.st_uid, info.st_gid) == (os.getuid(), os.getgid())


def test_a_failed_rename_leaves_the_target_and_no_temp_file(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "inside").write_text("kept")
    with pytest.raises(OSError):
        files.write_atomic(str(target), b"data", 0o644)
    assert (target / "inside").read_text() == "kept"
    assert leftovers(tmp_path, "target") == []


def test_a_missing_directory_fails_before_writing_anything(tmp_path):
    with pytest.raises(OSError):
        files.write_atomic(str(tmp_path / "missing" / "file"), b"data", 0o644)
    assert not (tmp_path / "missing").exists()


# --- write_if_different -------------------------------------------------------------

def test_write_if_different_writes_a_new_file_then_leaves_the_same_one_alone(tmp_path):
    path = tmp_path / "alice-cert.pub"
    assert files.write_if_different("dest", str(path), b"cert\n", 0o644) is True
    assert path.read_bytes() == b"cert\n" and mode_of(path) == 0o644
    before = files.identity(str(path))
    assert files.write_if_different("dest", str(path), b"cert\n", 0o644) is False
    assert files.identity(str(path)) == before


@pytest.mark.parametrize("content, mode", [(b"other cert\n", 0o644), (b"cert\n", 0o600)])
def test_write_if_different_replaces_other_content_or_another_mode(tmp_path, content, mode):
    path = tmp_path / "alice-cert.pub"
    files.write_atomic(str(path), content, mode)
    assert files.write_if_different("dest", str(path), b"cert\n", 0o644) is True
    assert path.read_bytes() == b"cert\n" and mode_of(path) == 0o644


def test_write_if_different_in_check_mode_reports_and_writes_nothing(tmp_path):
    path = tmp_path / "alice-cert.pub"
    assert files.write_if_different("dest", str(path), b"cert\n", 0o644, check_mode=True) is True
    assert not path.exists()
    files.write_atomic(str(path), b"old\n", 0o644)
    assert files.write_if_different("dest", str(path), b"cert\n", 0o644, check_mode=True) is True
    assert path.read_bytes() == b"old\n"


def test_write_if_different_names_the_field_for_a_missing_directory(tmp_path):
    with pytest.raises(FleetcaError, match="^dest: directory %s does not exist$" % (tmp_path / "missing")):
        files.write_if_different("dest", str(tmp_path / "missing" / "cert.pub"), b"cert\n", 0o644)


# --- read_if_exists and identity ----------------------------------------------------------

def test_read_if_exists_returns_the_bytes_or_none(tmp_path):
    path = tmp_path / "file"
    assert files.read_if_exists(str(path)) is None
    path.write_bytes(b"\x00\xffbytes")
    assert files.read_if_exists(str(path)) == b"\x00\xffbytes"


def test_an_unreadable_path_is_an_error_naming_it(tmp_path):
    with pytest.raises(FleetcaError, match="^cannot read %s: Is a directory$" % tmp_path):
        files.read_if_exists(str(tmp_path))


def test_identity_changes_when_the_file_is_replaced_and_not_when_it_is_read(tmp_path):
    path = str(tmp_path / "file")
    assert files.identity(path) is None
    files.write_atomic(path, b"one", 0o644)
    first = files.identity(path)
    files.read_if_exists(path)
    assert files.identity(path) == first
    files.write_atomic(path, b"one", 0o644)
    assert files.identity(path) != first
