"""Item pipeline stages, in the order crawler/settings.py runs them.

archived (the page's WARC record is on disk) -> extract (page in, cleaned article out) -> validate
(JSON Schema) -> de-duplicate (one item per URL per crawl) -> [exported before (JOBDIR)] ->
[incremental (STATE_PATH)] -> [shared export (REDIS_URL)] -> export (the contract fields).
The stages in brackets are put in the chain by their feature's add-on.
"""
