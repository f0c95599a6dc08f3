"""`scrapy reprocess`: every archived article response of a set of WARC files turned into items again, on every core or on Ray.

The modules, each with one job:

* `reader.py`: the WARC reader (FastWARC, else warcio) over a byte range of a file, and the HTTP message;
* `tasks.py`: the work cut into (file, byte range) tasks, so one large file spreads over the cores too;
* `index.py`: the first pass (every capture's URL, date, status and digest, by range) into an on-disk
  SQLite table, and the selection (the latest 2xx capture of each URL, or every capture) with the record
  each revisit's payload comes from;
* `pages.py`: the second pass, per selected record: the response as the crawl saw it, then the crawl's own
  route and item steps (crawler/articleitem.py) with the frozen learned template;
* `local.py`, `ray_engine.py`: the engines that run the tasks (processes on this machine; Ray Data);
* `progress.py`: the progress bar on a terminal, plain progress lines otherwise;
* `run.py`: the run: inputs, template, both passes, output (JSON Lines or the dataset build), summary
  and exit status. The command (crawler/commands/reprocess.py) parses the options and calls it.
"""
