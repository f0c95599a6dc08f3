"""Extraction in worker processes (crawler/workers/extraction.py, EXTRACT_WORKERS): same items, nothing lost."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.extract.article import NotAnArticle
from crawler.extract.extractor import article_from_page as work
from crawler.workers.extraction import PageWorkers
from tests.crawling import REPO, crawl

SAMPLES = REPO / "tests" / "fixtures" / "samples"
AFP_URL = "https://www.spacewar.com/reports/Tokyo_reports_cyber_attack_as_tensions_rise_999.html"
SPX_URL = "https://www.spacewar.com/reports/Kharkiv_999.html"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text("utf-8")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def survivors_of_a_killed_parent(script: str, timeout: float = 10.0) -> tuple[list[int], list[int]]:
    """Run `script` (it prints its helper processes' pids, then waits), kill it -9 once they are up;
    (the pids, those still alive `timeout` seconds later)."""
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert pids and all(alive(p) for p in pids)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + timeout
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        return pids, [p for p in pids if alive(p)]
    finally:
        proc.kill()


def run_with(workers: PageWorkers, coro_fn):
    async def main():
        workers.start()
        try:
            return await coro_fn()
        finally:
            workers.close()
    return asyncio.run(main())


def test_not_an_article_keeps_its_reason_across_processes():
    exc = pickle.loads(pickle.dumps(NotAnArticle("listing-page", "a section page")))
    assert (exc.reason, exc.detail) == ("listing-page", "a section page")


def test_a_worker_returns_the_article_extraction_gives_in_process():
    crawler = get_crawler()
    crawler.stats.open_spider()
    workers = PageWorkers(1, crawler.stats)
    pages = [(sample("article-afp.html"), AFP_URL), (sample("article-spx.html"), SPX_URL)]

    async def both():
        pids = workers.pids
        return pids, await asyncio.gather(*(workers.run(html, url) for html, url in pages))

    pids, results = run_with(workers, both)
    assert pids and os.getpid() not in pids
    assert results == [work(html, url) for html, url in pages]
    assert results[0].title == "Tokyo reports cyber attack as tensions rise"
    assert crawler.stats.get_value("extract/workers/pages") == 2
    assert crawler.stats.get_value("extract/workers/inline") is None


def test_pages_larger_than_the_socket_buffer_go_through_whole():
    html = sample("article-afp.html")
    # a 3 MB story: the frame cannot be sent in one go, the event loop sends the rest when it can
    para = "<p>" + "The radar station was seen from the air again. " * 40 + "</p>\n"
    big = html.replace("</p>", "</p>\n" + para * 1800, 1)
    assert len(big) > 3_000_000
    workers = PageWorkers(1)

    async def both():
        return await asyncio.gather(workers.run(big, AFP_URL), workers.run(html, AFP_URL))

    results = run_with(workers, both)
    assert results == [work(big, AFP_URL), work(html, AFP_URL)]
    assert len(results[0].body) > 2_500_000


def test_a_listing_comes_back_as_not_an_article_with_its_reason():
    workers = PageWorkers(1)

    async def listing():
        with pytest.raises(NotAnArticle) as info:
            await workers.run(sample("section-Missile_Defense.html"), "https://www.spacewar.com/Missile_Defense.html")
        return info.value.reason

    assert run_with(workers, listing) == "listing-page"


def test_pages_held_by_a_killed_worker_are_extracted_in_process_and_a_new_worker_takes_over():
    crawler = get_crawler()
    crawler.stats.open_spider()
    workers = PageWorkers(1, crawler.stats)
    html = sample("article-afp.html")

    async def kill_mid_way():
        first = workers.pids[0]
        tasks = [asyncio.ensure_future(workers.run(html, AFP_URL)) for _ in range(20)]
        await asyncio.sleep(0)  # all 20 are sent
        os.kill(first, signal.SIGKILL)
        results = await asyncio.gather(*tasks)
        after = await workers.run(html, AFP_URL)  # the new worker
        return first, workers.pids, results, after

    first, pids, results, after = run_with(workers, kill_mid_way)
    expected = work(html, AFP_URL)
    assert results == [expected] * 20 and after == expected
    assert pids and first not in pids
    assert crawler.stats.get_value("extract/workers/died") == 1
    assert crawler.stats.get_value("extract/workers/inline") >= 1  # the pages the dead one held
    assert crawler.stats.get_value("extract/workers/pages") >= 1  # at least the one after


def test_ctrl_c_is_left_to_the_crawl():
    workers = PageWorkers(1)

    async def interrupt():
        pid = workers.pids[0]
        await workers.run(sample("article-afp.html"), AFP_URL)  # the worker is up and running
        os.kill(pid, signal.SIGINT)  # what Ctrl-C sends to the whole process group
        await asyncio.sleep(0.3)
        result = await workers.run(sample("article-afp.html"), AFP_URL)
        return pid, workers.pids, result

    pid, pids, result = run_with(workers, interrupt)
    assert pids == [pid] and result.title


def test_workers_exit_when_the_crawl_process_is_killed(tmp_path):
    script = (
        "import asyncio, sys\n"
        "from crawler.workers.extraction import PageWorkers\n"
        "async def main():\n"
        "    w = PageWorkers(2)\n"
        "    w.start()\n"
        "    print(*w.pids, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    pids, alive_after = survivors_of_a_killed_parent(script)
    assert len(pids) == 2 and not alive_after, "workers outlived the crawl process"


def test_a_script_without_a_main_guard_is_not_run_again_by_its_workers(tmp_path):
    # multiprocessing's spawn and forkserver import the parent's __main__ in the child: a user's
    # crawl script without `if __name__ == "__main__"` would start a crawl in every worker
    script = tmp_path / "my_crawl.py"
    script.write_text(
        "import asyncio\n"
        "from crawler.workers.extraction import PageWorkers\n"
        "print('script body ran', flush=True)\n"
        "async def main():\n"
        "    w = PageWorkers(1)\n"
        "    w.start()\n"
        f"    raw = await w.run(open({str(SAMPLES / 'article-afp.html')!r}).read(), {AFP_URL!r})\n"
        "    print(raw.title, w.pids, flush=True)\n"
        "    w.close()\n"
        "asyncio.run(main())\n")
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("script body ran") == 1
    assert "Tokyo reports cyber attack as tensions rise" in out.stdout and "died" not in out.stderr


def test_a_crawl_with_workers_exports_the_same_items_as_one_without(replica, tmp_path):
    runs = {n: crawl(tmp_path / f"workers-{n}", replica.host_map(), settings={"EXTRACT_WORKERS": str(n)})
            for n in (1, 0)}
    for result in runs.values():
        assert result.returncode == 0

    def comparable(result):
        return {i["url"]: {k: v for k, v in i.items() if k not in ("warc", "fetched_at")} for i in result.items}

    with_workers, without = comparable(runs[1]), comparable(runs[0])
    assert len(with_workers) >= 40 and with_workers == without
    # every article was extracted in the worker, none in the crawl process
    assert runs[1].stats.get("extract/workers/pages") >= runs[1].stats.get("articles/exported") == len(with_workers)
    assert "extract/workers/inline" not in runs[1].stats
    assert runs[1].stats.get("extract/workers/cpu_seconds", 0) > 0
    assert "extract/workers/pages" not in runs[0].stats
