"""Archival crawler for SpaceWar.com and the Space Media Network (Scrapy project package)."""

__version__ = "0.1.0"
