"""Fixtures of the filter plugin tests: a filter by name, loaded from the collection under
test, with its documentation parsed (ansible-doc renders the same YAML)."""

import importlib
import inspect

import pytest
import yaml


class LoadedFilter:
    def __init__(self, name):
        self.module = importlib.import_module("ansible_collections.fleetca.ssh.plugins.filter." + name)
        self.function = self.module.FilterModule().filters()[name]
        self.doc = yaml.safe_load(self.module.DOCUMENTATION)
        self.examples = yaml.safe_load(self.module.EXAMPLES)
        self.returns = yaml.safe_load(self.module.RETURN)

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
        assert name in loaded.module.EXAMPLES
        return loaded
    return load


@pytest.fixture
def signature_of():
    return parameters
