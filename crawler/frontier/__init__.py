"""The distributed frontier: with REDIS_URL set, N worker processes share one request queue and seen-set in Redis.

Switched on by one add-on (crawler.frontier.addon.RedisFrontier, in ADDONS): with REDIS_URL unset
nothing here is imported beyond the add-on, and scrapy-redis is not needed at all.
"""

#: Signal sent by the last worker out when it deletes the shared frontier (the crawl is complete): components
#: that keep keys for the crawl's length only (the story groups without STATE_PATH) delete theirs too.
frontier_deleted = object()
