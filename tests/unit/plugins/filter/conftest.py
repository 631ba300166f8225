# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the filter plugin tests: a filter by name, loaded from the collection under
test, with its documentation parsed from the sidecar NAME.yml (what ansible-doc renders)."""

import importlib
import inspect
import os

import pytest
import yaml


class LoadedFilter:
    def __init__(self, name):
        self.module = importlib.import_module("ansible_collections.fleetca.ssh.plugins.filter." + name)
        self.function = self.module.FilterModule().filters()[name]
        with open(os.path.splitext(self.module.__file__)[0] + ".yml") as handle:
            docs = yaml.safe_load(handle)
        self.doc = docs["DOCUMENTATION"]
        self.examples = docs["EXAMPLES"]
        self.returns = docs["RETURN"]

    def documented_options(self):
        return sorted(name for name in self.doc["options"] if name != "_input")


def parameters(function):
    """The names a filter takes after its input."""
    return sorted(list(inspect.signature(function).parameters)[1:])


@pytest.fixture
def load_filter():
    """`load_filter(name)`: the filter plugin file NAME.py, its docs checked for the basics."""
    def load(name):
        loaded = LoadedFilter(name)
        assert loaded.doc["name"] == name
        assert "_input" in loaded.doc["options"] and "_value" in loaded.returns
        assert "fleetca.ssh." + name in loaded.examples and yaml.safe_load(loaded.examples)
        return loaded
    return load


@pytest.fixture
def signature_of():
    return parameters
