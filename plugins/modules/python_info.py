#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fleetca.ssh contributors
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: python_info
short_description: Which libraries the Python that runs modules on a host can import
version_added: 0.1.0
description:
  - Read-only. Asks the Python that Ansible runs modules with on the host whether it can import
    the given libraries, and their versions; the C(fleetca.ssh.ca) role checks C(cryptography)
    and C(bcrypt) with it before it installs anything.
  - That Python is resolved as for any module, C(ansible_python_interpreter), else
    C(ANSIBLE_PYTHON_INTERPRETER) or C(interpreter_python) in C(ansible.cfg), else interpreter
    discovery (whose result is returned as the fact C(discovered_interpreter_python), like a
    module call does). So the answer is about the Python the collection's modules will run on,
    not about whatever C(python3) is first on C(PATH).
  - Runs in one connection round trip (a module call without pipelining takes five or six); its
    action plugin sends the code as one C(python -c) command. Needs only Python's standard library.
author:
  - fleetca.ssh contributors (@fleetca)
extends_documentation_fragment:
  - fleetca.ssh.info_module
  - fleetca.ssh.payload_action
options:
  libraries:
    description: Import names of the libraries to look for.
    type: list
    elements: str
    default: [cryptography, bcrypt]
seealso:
  - module: fleetca.ssh.sshd_info
"""

EXAMPLES = r"""
- name: Ask the module Python for cryptography and bcrypt
  fleetca.ssh.python_info:
  register: python

- name: Show the cryptography version (null when it cannot be imported)
  ansible.builtin.debug:
    msg: "{{ python.python }} has cryptography {{ python.libraries.cryptography }}"
"""

RETURN = r"""
python:
  description: The Python that answered (C(sys.executable) of the module interpreter).
  returned: always
  type: str
  sample: /usr/bin/python3
python_version:
  description: Its version.
  returned: always
  type: str
  sample: 3.11.2
libraries:
  description: Per O(libraries) name, its C(__version__) (C(unknown) when it has none), null when it cannot be imported.
  returned: always
  type: dict
  sample: {"cryptography": "38.0.4", "bcrypt": null}
"""
