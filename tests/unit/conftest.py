"""The cost guard of tests/unit: a test here that starts a subprocess, a server or a crawl fails, saying to move it.

`make test-fast` runs tests/unit alone and must stay under a minute; what starts a process, listens
on a socket or runs Scrapy's engine (even in-process) belongs in tests/e2e/. The guard wraps the
few calls every such start goes through, so it catches them whatever helper a test uses.
"""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

MOVE = "tests/unit/ is for tests that start no crawl, subprocess or server: {what}; move this test to tests/e2e/"


def _refuse(what: str, seen: list[str]):
    def refused(*args, **kwargs):
        seen.append(what)
        # pytest.fail raises a BaseException, which an `except Exception` in the code under test lets through
        pytest.fail(MOVE.format(what=what), pytrace=False)

    return refused


@pytest.fixture(scope="module", autouse=True)
def _refused_starts():
    """Module scope, so that it also covers the module fixtures (set up before any function fixture);
    yields the list of what was refused."""
    from multiprocessing.process import BaseProcess

    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler

    seen: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "_execute_child", _refuse("it starts a subprocess", seen))
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
            if hasattr(os, name):
                patch.setattr(os, name, _refuse(f"it calls os.{name}", seen))
        patch.setattr(BaseProcess, "start", _refuse("it starts a multiprocessing process", seen))
        # listen, not bind: importing urllib3 binds a socket to probe IPv6; every TCP server listens
        patch.setattr(socket.socket, "listen", _refuse("it listens on a socket (a server)", seen))
        patch.setattr(Crawler, "crawl", _refuse("it runs a crawl (Crawler.crawl)", seen))
        patch.setattr(Crawler, "crawl_async", _refuse("it runs a crawl (Crawler.crawl_async)", seen))
        patch.setattr(ExecutionEngine, "open_spider_async", _refuse("it starts Scrapy's engine", seen))
        yield seen


@pytest.fixture(autouse=True)
def _unit_tests_start_nothing(_refused_starts, request):
    """Fails the test also when the code under test swallowed the refusal (once: not when it already failed)."""
    del _refused_starts[:]
    yield
    call = getattr(request.node, "_call_report", None)
    if _refused_starts and not (call and call.failed):
        pytest.fail(MOVE.format(what=_refused_starts[0]), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item._call_report = report
    return report


#: the session fixtures of tests/conftest.py that start a server (set up before any function fixture)
SERVERS = {"replica", "full_crawl", "redis_url", "redis"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        servers = SERVERS & set(getattr(item, "fixturenames", ()))
        if servers and "tests/unit/" in item.nodeid.replace(os.sep, "/"):
            item.user_properties.append(("starts_server", sorted(servers)))


def pytest_runtest_setup(item):
    """Runs before the item's fixtures are set up, so a server fixture never starts."""
    for key, servers in item.user_properties:
        if key == "starts_server":
            pytest.fail(MOVE.format(what=f"it uses the server fixture(s) {', '.join(servers)}"), pytrace=False)
