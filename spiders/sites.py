"""One spider per site profile (`scrapy crawl spacewar`, `scrapy crawl spacedaily`, ...): configuration, not copies."""

from crawler.site.profiles import PROFILES
from spiders.network import NetworkSpider

for _profile in PROFILES.values():
    _cls_name = _profile.name.capitalize() + "Spider"
    globals()[_cls_name] = type(_cls_name, (NetworkSpider,), {
        "name": _profile.name,
        "profile": _profile,
        "__module__": __name__,
        "__doc__": f"Archive {_profile.title or _profile.domain}.",
    })
