# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/listing.py: a long list in a result shows its first 100 items and counts the rest."""

from ansible_collections.fleetca.ssh.plugins.module_utils import listing


def test_up_to_100_items_are_listed_as_they_are():
    assert listing.listed([]) == []
    assert listing.listed(list(range(100))) == list(range(100))


def test_the_rest_is_counted_in_a_last_item():
    assert listing.listed(list(range(250))) == list(range(100)) + ["... and 150 more"]
    assert listing.listed(tuple("x" * 101)) == ["x"] * 100 + ["... and 1 more"]
