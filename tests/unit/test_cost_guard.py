"""The guard of tests/unit (tests/unit/conftest.py): starting a subprocess, a server or a crawl here fails the test
with a line saying to move it to tests/e2e/, even when the code under test catches exceptions; pure work passes."""

from __future__ import annotations

import multiprocessing
import socket
import subprocess

import pytest

MOVE = "move this test to tests/e2e/"


def refused(seen: list[str], start) -> str:
    """What the guard said when `start()` ran; the refusal is then forgotten so that this test itself passes."""
    with pytest.raises(pytest.fail.Exception, match=MOVE):
        start()
    assert len(seen) == 1
    return seen.pop()


def test_a_subprocess_is_refused(_refused_starts):
    assert refused(_refused_starts, lambda: subprocess.run(["true"])) == "it starts a subprocess"


def test_a_multiprocessing_process_is_refused(_refused_starts):
    process = multiprocessing.get_context("spawn").Process(target=print)
    assert refused(_refused_starts, process.start) == "it starts a multiprocessing process"


def test_a_listening_socket_is_refused_but_a_bound_one_is_not(_refused_starts):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # importing urllib3 does this to probe IPv6: no server yet
        assert refused(_refused_starts, sock.listen) == "it listens on a socket (a server)"


def test_a_crawl_is_refused_even_in_process(_refused_starts):
    from scrapy.crawler import CrawlerRunner

    from spiders.sites import SpacewarSpider

    runner = CrawlerRunner({"LOG_ENABLED": False})
    # Scrapy turns the refusal into the Deferred's failure: the guard saw it all the same (and fails the
    # test at its end); here it is consumed and forgotten
    runner.crawl(SpacewarSpider).addErrback(lambda failure: None)
    assert _refused_starts == ["it runs a crawl (Crawler.crawl)"]
    _refused_starts.clear()


def test_the_refusal_passes_through_an_except_exception(_refused_starts):
    def careless():
        try:
            subprocess.run(["true"])
        except Exception:  # the refusal is a BaseException: it is not swallowed here
            return "swallowed"

    assert refused(_refused_starts, careless) == "it starts a subprocess"


def test_pure_work_passes(tmp_path):
    (tmp_path / "a.txt").write_text("pure")
    assert (tmp_path / "a.txt").read_text() == "pure"
