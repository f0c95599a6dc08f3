"""Shared fixtures: the replica of the site, and one full crawl of it shared by the end-to-end tests."""

from __future__ import annotations

import pytest

from tests.crawling import crawl
from tests.redis_server import redis_server_or_skip


@pytest.fixture(scope="session")
def replica():
    from tests.sites.replica.server import ReplicaServer

    with ReplicaServer(n_articles=40, faults=True, slow_seconds=1.5) as server:
        yield server


@pytest.fixture(scope="session")
def full_crawl(replica, tmp_path_factory):
    """One crawl of the replica with default settings (politeness off); many tests read it."""
    before = len(replica.log)
    result = crawl(tmp_path_factory.mktemp("crawl"), replica.host_map())
    result.exchanges = replica.log[before:]
    return result


@pytest.fixture
def hf_offline(tmp_path, monkeypatch):
    """Hugging Face `datasets` with every hub access off and a private cache; yields its cache dir."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    import datasets
    import huggingface_hub.constants

    # the variables are read at import time: if an earlier test imported the libraries, force them too
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hf-cache"


@pytest.fixture(scope="session")
def redis_url():
    with redis_server_or_skip() as server:
        yield server.url


@pytest.fixture
def redis(redis_url):
    import redis as redis_py

    client = redis_py.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
