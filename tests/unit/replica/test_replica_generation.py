"""The replica's site is generated the same on every start (tests/e2e/test_replica.py serves it over real sockets)."""

from __future__ import annotations

from tests.sites.replica.server import ReplicaServer


def test_generated_articles_are_the_same_on_every_start():
    a = ReplicaServer(n_articles=15, faults=True).site
    b = ReplicaServer(n_articles=15, faults=True).site
    assert a.expected_items() == b.expected_items()


