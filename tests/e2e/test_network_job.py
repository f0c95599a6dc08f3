"""`scrapy crawl network`: two sites of the replica in one job on two workers, each site crawled politely, no item crossing sites."""

from __future__ import annotations

import collections
import json
import threading
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from tests.crawling import crawl
from tests.sites.replica.load import host_load, worker_of
from tests.sites.replica.server import ReplicaServer

SISTER = "www.spacedaily.com"
DELAY = 0.25
HEADERS = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language": "en",
           "Accept-Encoding": "gzip, deflate"}


def test_the_network_job_crawls_two_sites_each_politely_and_keeps_their_items_apart(redis_url, redis, tmp_path):
    results = {}
    with ReplicaServer(n_articles=15, faults=False, sisters={SISTER: 12}) as replica:
        def worker(name):
            results[name] = crawl(tmp_path / name, replica.host_map(), spider="network", timeout=300,
                                  args=["-a", "sites=spacewar,spacedaily"], settings={
                                      "REDIS_URL": redis_url, "WORKER_ID": name, "FRONTIER_IDLE_TIMEOUT": "2",
                                      "DOWNLOAD_DELAY": str(DELAY), "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
                                      "DEFAULT_REQUEST_HEADERS": json.dumps({**HEADERS, "X-Worker": name})})

        threads = [threading.Thread(target=worker, args=(name,)) for name in ("w1", "w2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = list(replica.log)
        expected = {"spacewar": {i["url"] for i in replica.expected_items()},
                    "spacedaily": {i["url"] for i in replica.sister_expected_items(SISTER)}}

    assert [r.returncode for r in results.values()] == [0, 0]
    # every article of each site, once, under its own site; none under the other's
    items = [item for r in results.values() for item in r.items]
    by_site = collections.defaultdict(list)
    for item in items:
        by_site[item["site"]].append(item["url"])
    assert {site: sorted(urls) for site, urls in by_site.items()} == {s: sorted(u) for s, u in expected.items()}
    # each worker wrote WARC files of its own per site: each site's exchanges in files named for it,
    # opening with a warcinfo record naming the site and the politeness the workers shared; the
    # job's own files hold only what is of neither site (the image host's robots.txt)
    hosts = {"spacewar": "www.spacewar.com", "spacedaily": SISTER}
    for name, r in results.items():
        series = collections.defaultdict(set)
        for path in r.warc_files():
            site = path.name.split("-", 1)[0]
            assert path.name.startswith(f"{site}-{name}-"), path.name
            with open(path, "rb") as fh:
                it = iter(ArchiveIterator(fh))
                fields = next(it).content_stream().read().decode()
                assert f"isPartOf: network{'/' + site if site in hosts else ''}\r\n" in fields
                assert "politeness shared by the workers in Redis, per host: 1 in flight per host" in fields
                series[site] |= {urlsplit(rec.rec_headers.get_header("WARC-Target-URI")).hostname for rec in it
                                 if rec.rec_type in ("request", "response", "revisit")}
        for site, host in hosts.items():  # its pages, and its pages' images on the image host
            assert host in series[site] and not series[site] & (set(hosts.values()) - {host}), series
        assert not series.get("network", set()) & set(hosts.values()), series
    # both sites at once, each politely: one request at a time on each host, at most one start per
    # DOWNLOAD_DELAY over any 5 s (the jittered gaps average 1.22 x DOWNLOAD_DELAY), from both workers together
    spans = []
    for host in ("www.spacewar.com", SISTER):
        load = host_load(log, host)
        assert load.requests > 30 and load.peak_in_flight == 1, load.row()
        assert load.peak_rate[5.0] <= 1 / DELAY, load.row()
        assert {worker_of(e) for e in log if e.host.split(":")[0] == host} == {"w1", "w2"}
        starts = [e.started for e in log if e.host.split(":")[0] == host]
        spans.append((min(starts), max(starts)))
    # the sites did not wait for each other: crawled side by side for most of the job
    (a0, a1), (b0, b1) = spans
    assert min(a1, b1) - max(a0, b0) >= 0.7 * min(a1 - a0, b1 - b0)
