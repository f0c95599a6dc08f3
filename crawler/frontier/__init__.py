"""The distributed frontier: with REDIS_URL set, N worker processes share one request queue and seen-set in Redis.

Switched on by one add-on (crawler.frontier.addon.RedisFrontier, in ADDONS): with REDIS_URL unset
nothing here is imported beyond the add-on, and scrapy-redis is not needed at all.
"""
