"""setuptools shim for scrapyd eggs (`scrapyd-deploy` runs `setup.py bdist_egg`): everything, the `scrapy`
entry point through which scrapyd finds the settings module included, comes from pyproject.toml. Without
this file, scrapyd-deploy writes its own setup.py with find_packages(), which misses the `pipelines` package."""

from setuptools import setup

setup()
