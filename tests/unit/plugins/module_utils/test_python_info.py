# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/python_info.py: what the running Python can import."""

import platform
import sys

import cryptography

from ansible_collections.fleetca.ssh.plugins.module_utils import python_info


def test_payload_main_reports_versions_and_missing_libraries():
    found = python_info.payload_main({"libraries": ["cryptography", "fleetca_no_such_library"]})
    assert found == {"python": sys.executable, "python_version": platform.python_version(),
                     "libraries": {"cryptography": cryptography.__version__, "fleetca_no_such_library": None}}


def test_a_library_without_a_version():
    assert python_info.library_version("this") == "unknown"  # importable, no __version__
