"""The project's scrapyd.conf and scrapy.cfg keep scheduled runs on loopback (tests/e2e/test_scrapyd.py runs scrapyd)."""

from __future__ import annotations

import configparser
import urllib.parse

from tests.crawling import REPO


def test_project_scrapyd_conf_listens_on_loopback_only():
    conf = configparser.ConfigParser()
    conf.read(REPO / "scrapyd.conf")
    assert conf["scrapyd"]["bind_address"] == "127.0.0.1"
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "scrapy.cfg")
    assert urllib.parse.urlsplit(cfg["deploy:local"]["url"]).hostname == "127.0.0.1"
