"""METRICS_PORT: this worker's and the shared crawl's figures in the Prometheus text format, on 127.0.0.1 only.

    curl http://127.0.0.1:9410/metrics

Off by default (METRICS_PORT = 0); switched on, it needs prometheus-client (the "metrics" extra)
and stops the crawl at start-up with one line naming the extra when it is missing. The server is
prometheus-client's own, in a thread of its own, bound to 127.0.0.1 (a scraper on another machine
goes through an SSH tunnel or a local agent); each scrape reads the same figures as
`scrapy frontier` (crawler/frontier/status.py) from Redis in that thread, never in the
reactor. A port already taken is a configuration error: give each worker of one machine its own.

Metrics (gauges; labels in brackets):
  archiver_queue_requests, archiver_seen_requests, archiver_exported_articles   the shared frontier
  archiver_worker_pages [worker], archiver_worker_items [worker],
  archiver_worker_in_flight [worker], archiver_worker_heartbeat_age_seconds [worker],
  archiver_worker_taken [worker] (requests taken from the shared queue and not finished)
  archiver_host_in_flight [host], archiver_host_requests_per_second [host, window],
  archiver_host_delay_seconds [host], archiver_host_blocked_seconds [host]
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.config import ConfigError, require
from crawler.frontier.addon import key_prefix, redis_client

logger = logging.getLogger(__name__)

BIND = "127.0.0.1"


class CrawlCollector:
    """A prometheus-client collector: the shared crawl's figures from Redis, and this worker's own live."""

    def __init__(self, prometheus, server, prefix: str, namespace: str, worker: str, own=None):
        from prometheus_client.core import GaugeMetricFamily

        self.metric = GaugeMetricFamily
        self.server = server
        self.prefix = prefix
        self.namespace = namespace
        self.worker = worker
        self.own = own  # function() -> this worker's figures (crawler/frontier/status.worker_figures)

    def collect(self):
        from crawler.frontier.status import frontier_status

        st = frontier_status(self.server, self.prefix, self.namespace)
        if self.own is not None:  # this worker's figures now, not as of its last heartbeat
            st["workers"][self.worker] = {**st["workers"].get(self.worker, {}), **self.own(), "age_s": 0.0}
        g = self.metric
        for name, doc, value in (("archiver_queue_requests", "Requests waiting in the shared queue", st["queue"]),
                                 ("archiver_seen_requests", "Requests in the shared seen-set", st["seen"]),
                                 ("archiver_exported_articles", "Articles exported by the workers", st["exported"])):
            yield g(name, doc, value=value)
        worker_metrics = {
            "pages": g("archiver_worker_pages", "Responses downloaded by the worker", labels=["worker"]),
            "items": g("archiver_worker_items", "Items scraped by the worker", labels=["worker"]),
            "in_flight": g("archiver_worker_in_flight", "Requests the worker is downloading", labels=["worker"]),
            "taken": g("archiver_worker_taken", "Requests the worker took from the shared queue and has not finished",
                       labels=["worker"]),
            "age_s": g("archiver_worker_heartbeat_age_seconds", "Seconds since the worker's last heartbeat",
                       labels=["worker"]),
        }
        for worker, beat in st["workers"].items():
            for field, metric in worker_metrics.items():
                metric.add_metric([worker], float(beat.get(field, 0) or 0))
        yield from worker_metrics.values()
        in_flight = g("archiver_host_in_flight", "Requests in flight on the host (all workers)", labels=["host"])
        rate = g("archiver_host_requests_per_second", "Requests started on the host per second",
                 labels=["host", "window"])
        delay = g("archiver_host_delay_seconds", "The host's shared delay between starts", labels=["host"])
        blocked = g("archiver_host_blocked_seconds", "Seconds the host stays blocked after a 429/503",
                    labels=["host"])
        for h in st["hosts"]:
            in_flight.add_metric([h["host"]], h["in_flight"])
            rate.add_metric([h["host"], "10s"], h["rate_10s"])
            rate.add_metric([h["host"], "60s"], h["rate_60s"])
            if h["delay_s"] is not None:
                delay.add_metric([h["host"]], h["delay_s"])
            blocked.add_metric([h["host"]], h["blocked_for_s"])
        yield from (in_flight, rate, delay, blocked)


class MetricsEndpoint:
    """Extension: serve the collector on http://127.0.0.1:METRICS_PORT/metrics while the crawl runs."""

    def __init__(self, prometheus, collector: CrawlCollector, port: int):
        self.prometheus = prometheus
        self.registry = prometheus.CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self.port = port
        self.httpd = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        port = s.getint("METRICS_PORT")
        if not port or not s.get("REDIS_URL"):
            raise NotConfigured
        prometheus = require("prometheus_client", why="METRICS_PORT is set", package="prometheus-client",
                             extra="metrics")
        from crawler.frontier.status import worker_figures
        from crawler.network.politeness import DEFAULTS as POLITE

        collector = CrawlCollector(prometheus, redis_client(s, socket_timeout=5, socket_connect_timeout=5),
                                   key_prefix(s, crawler.spidercls.name),
                                   s.get("POLITE_NAMESPACE") or POLITE["POLITE_NAMESPACE"], s.get("WORKER_ID"),
                                   own=lambda: worker_figures(crawler))
        o = cls(prometheus, collector, port)
        o.start()  # at start-up, so that a port already taken stops the crawl before it fetches anything
        crawler.signals.connect(o.stop, signal=signals.engine_stopped)
        return o

    def start(self):
        try:
            self.httpd, _thread = self.prometheus.start_http_server(self.port, addr=BIND, registry=self.registry)
        except OSError as e:
            raise ConfigError(f"METRICS_PORT={self.port}: cannot listen on {BIND}:{self.port} ({e.strerror or e}); "
                              "give each worker of a machine its own port") from None
        logger.info("Metrics in the Prometheus text format on http://%s:%d/metrics", BIND, self.port)

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def address(self) -> tuple[str, int]:
        return self.httpd.server_address[:2] if self.httpd is not None else (BIND, self.port)

