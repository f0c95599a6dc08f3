"""An archival job opens no port, asks only for replayable codings, and never fetches the suffix list."""

import socket

from scrapy.http import HtmlResponse, Request
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

import scrapy.downloadermiddlewares.cookies as scrapy_cookies
from crawler.network.cookies import OfflineCookiesMiddleware
from spiders.sites import SpacewarSpider


def test_no_listener_and_only_gzip_deflate():
    s = get_project_settings()
    assert not s.getbool("TELNETCONSOLE_ENABLED")
    assert not s.getbool("REMOTE_CONTROL_ENABLED")
    assert s.getdict("DEFAULT_REQUEST_HEADERS")["Accept-Encoding"] == "gzip, deflate"
    assert s.getbool("ROBOTSTXT_OBEY")
    assert s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 4
    assert s.getbool("AUTOTHROTTLE_ENABLED")


def test_user_agent_names_the_project_and_the_contact_url():
    s = get_project_settings()
    s.set("CONTACT_URL", "https://archive.example.org/crawler", priority="cmdline")
    SpacewarSpider.update_settings(s)
    assert s["USER_AGENT"].startswith("spacewar-archiver/")
    assert "https://archive.example.org/crawler" in s["USER_AGENT"]


def test_a_live_crawl_with_the_placeholder_contact_warns_once_naming_both_settings(caplog):
    from tests.crawling import project_crawler

    caplog.set_level("WARNING")
    crawler = project_crawler(SpacewarSpider)  # the project's settings: the placeholder, no HOST_MAP
    crawler._create_spider()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "CONTACT_URL is the placeholder https://example.invalid/" in warnings[0]
    assert "WARC_OPERATOR" in warnings[0]
    # a contact set, a test site mapped by HOST_MAP, or a rebuild from WARC files: no warning
    for settings in ({"CONTACT_URL": "https://archive.example.org/crawler"},
                     {"HOST_MAP": {"www.spacewar.com": "127.0.0.1:8443"}}):
        caplog.clear()
        project_crawler(SpacewarSpider, **settings)._create_spider()
        assert not [r for r in caplog.records if "CONTACT_URL" in r.getMessage()], settings
    from scrapy.settings import Settings

    from spiders.network import placeholder_contact

    assert placeholder_contact(Settings({"CONTACT_URL": "https://example.invalid/x"}))
    assert not placeholder_contact(Settings({"CONTACT_URL": "https://example.invalid/x", "FROM_WARC": "/w"}))


def test_cookies_work_without_touching_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    from tests.crawling import project_crawler

    crawler = project_crawler(SpacewarSpider, COOKIES_ENABLED=True)
    mw = OfflineCookiesMiddleware.from_crawler(crawler)
    # the stock middleware still reads the module-level extractor we replace (guard for upgrades)
    assert scrapy_cookies._split_domain is not None
    req = Request("https://www.spacewar.com/")
    resp = HtmlResponse(req.url, request=req, headers={"Set-Cookie": "sid=1; Domain=spacewar.com; Path=/"})
    mw.process_response(req, resp)
    nxt = Request("https://www.spacewar.com/reports/x_999.html")
    mw.process_request(nxt)
    assert nxt.headers.get("Cookie") == b"sid=1"
    # a cookie set for a public suffix is refused, using the bundled list
    bad = HtmlResponse(req.url, request=req, headers={"Set-Cookie": "evil=1; Domain=com; Path=/"})
    mw.process_response(req, bad)
    other = Request("https://www.spacedaily.com/")
    mw.process_request(other)
    assert b"evil" not in (other.headers.get("Cookie") or b"")


# --- one place for each default --------------------------------------------------------------------
def _add_on_defaults() -> dict[str, dict]:
    import importlib

    from crawler import settings as project

    found = {}
    for path in project.ADDONS:
        module = importlib.import_module(path.rsplit(".", 1)[0])
        found[path] = getattr(module, "DEFAULTS", {})
    return found


def test_each_default_is_defined_once_and_no_component_repeats_one():
    import ast

    from crawler import settings as project
    from tests.crawling import REPO

    names = [name for defaults in _add_on_defaults().values() for name in defaults]
    assert len(names) == len(set(names))  # no two add-ons default the same setting
    assert not set(names) & {n for n in dir(project) if n.isupper()}  # settings.py would override them
    repeated = []
    for path in [p for d in ("crawler", "spiders", "pipelines") for p in (REPO / d).rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("get", "getint", "getbool",
                                                                                 "getfloat", "getlist", "getdict") \
                    and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant) \
                    and str(node.args[0].value).isupper():
                repeated.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.args[0].value}")
    assert repeated == []


def test_the_settings_module_lists_the_chain_in_flow_order():
    from crawler import settings as project

    assert list(project.ADDONS) == sorted(project.ADDONS, key=project.ADDONS.get)
    assert list(project.ITEM_PIPELINES) == sorted(project.ITEM_PIPELINES, key=project.ITEM_PIPELINES.get)
    assert list(project.EXTENSIONS) == sorted(project.EXTENSIONS, key=project.EXTENSIONS.get)


def test_a_plain_crawl_puts_every_feature_of_the_default_path_in_the_chain(tmp_path):
    from tests.crawling import project_crawler

    s = project_crawler(SpacewarSpider, WARC_ENABLED=True, WARC_DIR=str(tmp_path)).settings
    assert s.getdict("DOWNLOADER_MIDDLEWARES")["crawler.capture.recorder.WarcRecorderMiddleware"] == 950
    assert s.getdict("DOWNLOADER_MIDDLEWARES")["crawler.network.backoff.BackoffRetryMiddleware"] == 550
    assert s.getdict("DOWNLOADER_MIDDLEWARES")["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert s.getdict("SPIDER_MIDDLEWARES")["crawler.capture.outlinks.CaptureMetadataMiddleware"] == 950
    assert s.getdict("DOWNLOAD_HANDLERS")["https"] == "crawler.capture.handler.RawCaptureDownloadHandler"
    assert s.getint("WARC_MIN_FREE_BYTES") == 64 * 1024 * 1024  # the capture add-on's default
    for feature in ("RevalidateMiddleware", "FrontierIdleClose", "WaczPackager", "ExportedBeforePipeline"):
        assert not any(feature in path for chain in ("DOWNLOADER_MIDDLEWARES", "EXTENSIONS", "ITEM_PIPELINES")
                       for path in s.getdict(chain)), feature


def test_cookies_past_the_browser_caps_are_not_kept_and_the_header_is_cut():
    from tests.crawling import project_crawler

    crawler = project_crawler(SpacewarSpider, COOKIES_ENABLED=True, COOKIES_MAX_PER_DOMAIN=5, COOKIES_MAX_HEADER=200)
    crawler.stats.open_spider()
    mw = OfflineCookiesMiddleware.from_crawler(crawler)
    req = Request("https://www.spacewar.com/")
    flood = [f"c{i}={'v' * 30}; Path=/" for i in range(12)] + [f"huge={'x' * 5000}; Path=/"]
    mw.process_response(req, HtmlResponse(req.url, request=req, headers={"Set-Cookie": flood}))
    nxt = Request("https://www.spacewar.com/reports/x_999.html")
    mw.process_request(nxt)
    header = nxt.headers.get("Cookie")
    assert b"huge=" not in header and len(header) <= 200
    assert header.count(b"=") <= 5
    assert crawler.stats.get_value("cookies/refused/too_large") == 1
    assert crawler.stats.get_value("cookies/refused/too_many") == 12 - 5


def _extensions(**switches) -> dict:
    """The extensions a crawl names with the project's settings, the network add-on applied: Scrapy imports
    every key of EXTENSIONS (even one set to None) and the enabled ones of EXTENSIONS_BASE."""
    from crawler.network.addon import NetworkPolicy

    s = get_project_settings()
    for name, value in switches.items():
        s.set(name, value, priority="cmdline")
    NetworkPolicy().update_settings(s)
    named = {**s.getdict("EXTENSIONS_BASE"), **s.getdict("EXTENSIONS")}
    assert set(s.get_component_priority_dict_with_base("EXTENSIONS")) <= set(named)
    return named


def test_the_port_extensions_are_not_even_imported_while_switched_off():
    """The telnet console and the remote control would import twisted.conch and aiohttp at every start
    only to say "not configured"; switched on, they are loaded as Scrapy's."""
    named = _extensions()
    assert "scrapy.extensions.telnet.TelnetConsole" not in named
    assert "scrapy.extensions.remote_control.RemoteControl" not in named
    assert named["scrapy.extensions.closespider.CloseSpider"] == 0  # the others are left alone
    assert _extensions(TELNETCONSOLE_ENABLED=True)["scrapy.extensions.telnet.TelnetConsole"] == 0
    assert _extensions(REMOTE_CONTROL_ENABLED=True)["scrapy.extensions.remote_control.RemoteControl"] == 0
