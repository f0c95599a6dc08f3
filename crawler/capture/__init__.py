"""Capture: the Scrapy components that archive every HTTP exchange as WARC records (download handler, recorder, outlinks, disk guard)."""
