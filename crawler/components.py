"""What every add-on does in update_settings: put its components in Scrapy's chains and set its defaults.

Scrapy's component dictionaries (DOWNLOADER_MIDDLEWARES, SPIDER_MIDDLEWARES, ITEM_PIPELINES,
EXTENSIONS, DOWNLOAD_HANDLERS) are settings like any other; an add-on adds its components to them
by import path (nothing is imported here) with the order that places them in the data flow, and
sets its defaults at "addon" priority, so the project's settings.py, a spider or `-s` still win.
"""

from __future__ import annotations

from scrapy.settings import SETTINGS_PRIORITIES


def register(settings, chain: str, path: str, order) -> None:
    """Put component `path` in the component dictionary `chain` at `order` (None: switched off)."""
    components = settings.getdict(chain)
    components[path] = order
    settings.set(chain, components, priority=settings.getpriority(chain) or 0)


def defaults(settings, values: dict) -> None:
    """Set each setting at "addon" priority: above Scrapy's defaults, below the project, a spider and
    -s, and never over what another add-on already set."""
    for name, value in values.items():
        if (settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["addon"]:
            settings.set(name, value, priority="addon")


def addon_of(crawler, cls):
    """The crawl's add-on of class `cls` (or a subclass), or None when it is not switched on.

    An add-on owns what its components share (the incremental state, the replay's index), so they
    find it by class, as Scrapy's get_extension() finds an extension."""
    for addon in getattr(crawler.addons, "addons", ()):
        if isinstance(addon, cls):
            return addon
    return None
