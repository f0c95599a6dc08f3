"""Link extraction from large feeds: the spider's per-page link work on feeds of 10,000 and 100,000 items.

    python -m bench.link_extraction [--items 10000,100000] [--no-before]

"before" is the XPath union the spider used until issue 18 (libxml2 sorts a union's nodes into
document order, which grows far faster than the page) with every link canonicalised; "after" is
what the spider does now: one query per place, and at most LINKS_PER_PAGE_MAX links looked at.
Both run in this process on the same parsed feed; the times are seconds of one run each.
"""

from __future__ import annotations

import argparse
import json
import time

from scrapy.http import XmlResponse

from crawler import settings as project
from crawler.site.links import FEED_LINKS, hrefs
from crawler.site.profiles import PROFILES
from crawler.site.urls import site_links
from tests.sites.faultsite import huge_feed

UNION = " | ".join(FEED_LINKS)  # the query as it was: one union of the three places


def measure(items: int, before: bool = True) -> dict:
    body = huge_feed(items)
    compiled = PROFILES["spacewar"].compiled()
    out = {"items": items, "megabytes": round(len(body) / 1e6, 1)}
    for label in (["before"] if before else []) + ["after"]:
        response = XmlResponse("https://www.spacewar.com/spacewar.xml", body=body)
        t0 = time.perf_counter()
        response.selector.remove_namespaces()
        if label == "before":
            links, _ = site_links(response.url, response.xpath(UNION).getall(), compiled)
        else:
            links, _ = site_links(response.url, hrefs(response.selector, FEED_LINKS), compiled,
                                  project.LINKS_PER_PAGE_MAX)
        out[f"{label}_seconds"] = round(time.perf_counter() - t0, 2)
        out[f"{label}_links"] = len(links)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", default="10000,100000")
    ap.add_argument("--no-before", action="store_true", help="skip the old union query (minutes at 100,000)")
    args = ap.parse_args(argv)
    for items in (int(n) for n in args.items.split(",")):
        print(json.dumps(measure(items, before=not args.no_before)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
