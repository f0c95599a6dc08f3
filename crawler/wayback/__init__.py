"""Backfill from a Wayback-style archive (issue 26): its CDX API and the choice of captures (pure: no Scrapy)."""
