"""Scrapy commands of the project (COMMANDS_MODULE): `scrapy crawl` with an exit status a scheduler can act on,
`scrapy frontier`, a shared crawl at a glance (the module's name is the command's), and
`scrapy explain URL`, which shows how the cleaning reads one archived page and why each block went;
`scrapy reprocess`. helpformat.py lays out their --help."""
