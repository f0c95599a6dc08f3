"""WARC, pure: files, record headers, HTTP bytes, digests, recovery, CDXJ and archive lookup, with no Scrapy import."""
