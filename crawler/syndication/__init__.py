"""Syndicated copies linked: one `story_group` for every copy of a story across the network's sites and runs.

Pure code, no Scrapy: `sketch.py` turns an article's cleaned body into a small fixed-size sketch of
its word shingles; `groups.py` decides which earlier article, if any, a new one is a copy of (the
sketches' resemblance, with agency and date as guards) and keeps the groups in a store
(`stores.py`: in memory, SQLite beside the incremental state, or Redis shared by workers).
The crawl's item stage is pipelines/storygroup.py; `scrapy reprocess` and the dataset build call
`groups.assign_groups`. docs/dataset.md describes the field and the rule.
"""
