"""One spider per site profile (`scrapy crawl spacewar`, `scrapy crawl spacedaily`, ...): configuration, not copies;
and `scrapy crawl network`, every profile (or those of `-a sites=spacewar,spacedaily`) in one job."""

from crawler.site.profiles import PROFILES
from spiders.network import NetworkSpider

for _profile in PROFILES.values():
    _cls_name = _profile.name.capitalize() + "Spider"
    globals()[_cls_name] = type(_cls_name, (NetworkSpider,), {
        "name": _profile.name,
        "profile": _profile,
        "__module__": __name__,
        "__doc__": f"Archive {_profile.title or _profile.domain}.",
    })


class WholeNetworkSpider(NetworkSpider):
    """Archive every site of the network in one job, or those of `-a sites=spacewar,spacedaily`.

    One frontier (the scheduler, or with REDIS_URL the shared one), politeness per host; each
    item's `site` is the profile of its URL. In one process the scheduler hands out the request
    of the host with the fewest requests in the downloader (Scrapy's DownloaderAwarePriorityQueue),
    so a slow or blocked site cannot fill the downloader while the others wait; and the downloader
    has room for two requests per site (a site at its polite rate keeps one waiting for its slot),
    the per-host limits being what holds each host back. Each site's records go to WARC files
    named for the site (WARC_PREFIX_BY_SITE, crawler/capture/recorder.py)."""

    name = "network"
    custom_settings = {"SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
                       "CONCURRENT_REQUESTS": max(16, 2 * len(PROFILES)),
                       "WARC_PREFIX_BY_SITE": True}
