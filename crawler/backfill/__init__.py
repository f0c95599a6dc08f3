"""The backfill from a Wayback-style archive, Scrapy side: the add-on and the guard (the pure part is crawler/wayback/)."""
