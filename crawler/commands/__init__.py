"""Scrapy commands of the project (COMMANDS_MODULE): `scrapy crawl` with an exit status a scheduler can act on."""
