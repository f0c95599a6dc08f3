"""Fatal configuration errors, and the optional packages a switched-on feature needs.

An optional feature (the Redis frontier, WACZ packaging, the dataset build, the benchmarks)
imports its packages only when it is switched on. Switched on without them, it stops the crawl
at start-up with one line naming the extra to install, e.g.

    REDIS_URL is set but scrapy-redis is not installed: pip install -e ".[distributed]"

`scrapy crawl` (crawler/commands/crawl.py) prints a ConfigError as that one line, without a
traceback, and exits with the configuration-error status (crawler/reporting/outcome.py).
"""

from __future__ import annotations

import importlib


class ConfigError(Exception):
    """A setting or an argument that makes the crawl impossible: the message says what to change."""


class ServiceUnavailable(Exception):
    """A service the configuration names (the Redis of REDIS_URL) does not answer: the message names it."""


class InUse(Exception):
    """An output another running crawl holds for its whole length (STATE_PATH): the message names it and the
    process; try again once that crawl has ended."""


def require(module: str, *, why: str, package: str, extra: str):
    """Import `module` for a feature that `why` switched on, or raise ConfigError naming the extra.

    >>> require("scrapy_redis", why="REDIS_URL is set", package="scrapy-redis", extra="distributed")
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name if exc.name and exc.name.split(".")[0] != module.split(".")[0] else None
        what = f"{package} is not installed" + (f" (it needs {missing})" if missing else "")
        raise ConfigError(f'{why} but {what}: pip install -e ".[{extra}]"') from None
