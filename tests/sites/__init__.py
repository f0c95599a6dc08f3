"""The sites the tests crawl, all on 127.0.0.1: the replica of SpaceWar.com, the fault site and the raw-bytes server."""
