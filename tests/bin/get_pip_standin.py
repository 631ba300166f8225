# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip.py that ansible-test downloads to bootstrap pip.

ansible-test sanity creates one virtual environment per test (without pip) and
bootstraps pip in it by running ``python ~/.ansible/test/cache/get_pip_X_Y.py
[pip options] pip==X.Y --no-setuptools --no-wheel``. It downloads that script
from a host outside the package registries, which this project's machines and
CI cannot reach. `make sanity` copies this file to that cache path instead: it
installs the interpreter's bundled pip with ensurepip, then lets that pip
install the requested packages (pip==X.Y) from the package index.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import sys

# Options that only get-pip.py itself understands.
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main(argv):
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    args = [arg for arg in argv if arg not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
