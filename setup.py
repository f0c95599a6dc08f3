"""setuptools shim for scrapyd eggs (`scrapyd-deploy`): everything comes from pyproject.toml; this only
adds the `scrapy` entry point through which scrapyd finds the settings module. Without this file,
scrapyd-deploy writes its own setup.py with find_packages(), which misses the `pipelines` package."""

from setuptools import setup

setup(entry_points={"scrapy": ["settings = crawler.settings"]})
