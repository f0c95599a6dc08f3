"""The distributed frontier: with REDIS_URL set, N worker processes share one request queue and seen-set in Redis.

Switched on by one add-on (crawler.frontier.addon.RedisFrontier, in ADDONS): with REDIS_URL unset
nothing here is imported beyond the add-on, and scrapy-redis is not needed at all.
"""

#: Signal sent by the last worker out when it deletes the shared frontier (the crawl is complete): components
#: that keep keys for the crawl's length only (the story groups without STATE_PATH) delete theirs too.
frontier_deleted = object()


def frontier_lost(crawler, exc: BaseException) -> bool:
    """Tell the shared frontier's scheduler that its Redis went away (`exc`, met by another component: the shared
    export's claim, the story groups' store): it says so in its one line and stops this worker without
    acknowledging anything more, so the page in hand goes back to the queue. False when the crawl has no shared
    frontier."""
    engine = getattr(crawler, "engine", None) if crawler is not None else None
    lost = getattr(getattr(engine, "scheduler", None), "lost", None)
    if lost is None:
        return False
    lost(exc)
    return True
