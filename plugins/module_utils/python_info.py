# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which libraries the Python running this code can import, and their versions.

Run on a host by the python_info action (plugin_utils/remote_python.py) as a self-contained
`python -c` payload with the interpreter Ansible runs modules with: standard library only,
Python 3.6+.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import platform
import sys


def library_version(name):
    """The version of the importable library `name` ("unknown" when it has none), else None."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    return str(getattr(module, "__version__", "unknown"))


def payload_main(args):
    """{python, python_version, libraries: {name: version or None}}."""
    return {"python": sys.executable, "python_version": platform.python_version(),
            "libraries": dict((name, library_version(name)) for name in args["libraries"])}
