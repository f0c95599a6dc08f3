"""Scrapy commands of the project (COMMANDS_MODULE): `scrapy crawl` with an exit status a scheduler can act on,
and `scrapy frontier-status`, a shared crawl at a glance (the module's name is the command's)."""
