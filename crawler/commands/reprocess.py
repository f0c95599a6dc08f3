"""`scrapy reprocess PATH... -O FILE`: the items of every archived article response, rebuilt from WARC files, on every core.

    scrapy reprocess output/warc -O rebuilt.jsonl                    # every core, the latest capture per URL
    scrapy reprocess output/warc other.warc.gz -o all.jsonl --all-captures
    scrapy reprocess output/warc --dataset output/dataset            # Parquet + manifest (the dataset build)
    scrapy reprocess output/warc -O out.jsonl --processes 2 --summary summary.json
    scrapy reprocess output/warc -O out.jsonl --engine ray           # on Ray Data (pip install -e ".[ray]")

PATH is an archive file (WARC 1.0/1.1/0.17/0.18, per-record or whole-file gzip or not
compressed; ARC; WACZ) or a directory searched recursively for them (Common Crawl's
segments/*/warc/). The archived responses are read directly (not
through the Scrapy engine, no crawl settings, no link structure), and each article response is
made into an item by the crawl's own code (crawler/articleitem.py) with the learned template
beside the WARC files (or --template), read only. By default the latest 2xx capture of each URL
(a revisit resolved to the payload it refers to); --all-captures takes every capture. A progress
bar on a terminal, progress lines otherwise, and a summary at the end (--summary FILE: as JSON).
docs/reprocess.md has the details.

Exit status: 0 when articles were made; 66 when the paths hold no archive it can read (one line
says what was found and what was expected); 74 when no record could be read; 69 when no article
came of the records; 78 for a configuration error (a missing extra, an unknown --sites name), with
one line naming it. -O FILE is replaced only on success: otherwise an existing FILE stays.

Run as the `scrapy` command itself, it ends its process once the run is over and everything is
written and flushed (`os._exit` with the exit status): the interpreter's teardown of the modules
loaded (Scrapy, Twisted, lxml, the extraction) would add about 0.1 s to every run, a tenth of a
run on a Common Crawl file. Called in-process (the tests, a script), it returns as any command.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.helpformat import CommandHelpFormatter
from crawler.config import ConfigError
from crawler.reporting.outcome import CONFIG_ERROR

logger = logging.getLogger("crawler.reprocess")


class Command(ScrapyCommand):
    requires_crawler_process = False
    requires_project = False
    default_settings = {"LOG_LEVEL": "INFO"}

    def syntax(self) -> str:
        return "[options] PATH [PATH ...] (-O FILE | -o FILE | --dataset DIR)"

    def short_desc(self) -> str:
        return "Rebuild the items of every archived article from WARC files, on every core"

    def long_desc(self) -> str:
        return "\n\n".join(__doc__.split("\n\n")[2:]).strip()  # the prose (argparse reflows the examples)

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.formatter_class = CommandHelpFormatter
        parser.add_argument("-O", "--overwrite-output", metavar="FILE", dest="overwrite_output",
                            help="write the items to FILE as JSON Lines, replacing it ('-' for stdout)")
        parser.add_argument("-o", "--output", metavar="FILE", dest="output",
                            help="append the items to FILE as JSON Lines")
        parser.add_argument("--dataset", metavar="DIR", help="build the dataset (articles.jsonl, .parquet, "
                                                             "manifest.json) in DIR instead of JSON Lines")
        parser.add_argument("--processes", type=int, default=0, metavar="N",
                            help="worker processes (default: every core)")
        parser.add_argument("--engine", choices=("local", "ray"), default="local",
                            help="local processes (default) or Ray Data (the ray extra)")
        parser.add_argument("--all-captures", action="store_true",
                            help="every capture of each URL, not only the latest")
        parser.add_argument("--template", metavar="FILE",
                            help="the learned templates' file (default: the first boilerplate.json beside "
                                 "the inputs)")
        parser.add_argument("--summary", metavar="FILE", help="also write the summary as JSON to FILE")
        parser.add_argument("--progress-interval", type=float, default=10.0, metavar="S",
                            help="seconds between progress lines when not on a terminal (0: none)")
        parser.add_argument("--task-size", type=int, metavar="BYTES",
                            help="bytes of WARC file per task (default: the input over 4 tasks per process, "
                                 "1 to 4 MiB)")
        parser.add_argument("--sites", metavar="NAMES",
                            help="only these sites of the network (comma-separated profile names, as `-a sites=`); "
                                 "other records are skipped on their WARC headers (default: every site)")
        parser.add_argument("--index", metavar="FILE", action="append",
                            help="a CDXJ index of input files (the crawl's FILE.warc.gz.cdxj, Common Crawl's "
                                 "cdx-NNNNN.gz; repeatable): the first pass reads only the records it lists on the "
                                 "sites asked for, at their offsets; it must list every response of its files")
        parser.add_argument("--tmp-dir", metavar="DIR", help="where the capture index (SQLite) goes "
                                                             "(default: the system's temporary directory)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from crawler.offline.reprocess.run import (NoInput, Options, no_input_status, output_among_inputs, run,
                                                   summary_lines, write_summary)

        if not args:
            raise UsageError("give at least one WARC file or directory")
        targets = [t for t in (opts.overwrite_output, opts.output, opts.dataset) if t]
        if len(targets) != 1:
            raise UsageError("give one of -O FILE, -o FILE or --dataset DIR")
        if opts.processes < 0:
            raise UsageError("--processes must be 0 (every core) or more")
        output = opts.overwrite_output or opts.output
        if output and ":" in output and output.rsplit(":", 1)[1] in ("jsonl", "jsonlines"):
            output = output.rsplit(":", 1)[0]  # Scrapy's FILE:FORMAT; JSON Lines is the one format
        clash = output_among_inputs(output, args)
        if clash:
            raise UsageError(clash)
        options = Options(paths=args, output=output, append=bool(opts.output), dataset=opts.dataset,
                          processes=opts.processes, engine=opts.engine, all_captures=opts.all_captures,
                          template=opts.template, summary=opts.summary, progress_interval=opts.progress_interval,
                          tmp_dir=opts.tmp_dir, task_size=opts.task_size, sites=opts.sites,
                          index=opts.index)
        _logging(self.settings)
        try:
            summary, status = run(options)
        except ConfigError as exc:
            print(f"Configuration error: {exc} (exit status {CONFIG_ERROR})", file=sys.stderr)
            self.exitcode = CONFIG_ERROR
            return
        except NoInput as exc:
            print(f"Reprocess: {exc} (exit status {no_input_status()})", file=sys.stderr)
            self.exitcode = no_input_status()
            return
        except FileNotFoundError as exc:
            raise UsageError(str(exc)) from None
        for line in summary_lines(summary):
            logger.info(line)
        if opts.summary:
            write_summary(summary, opts.summary)
        self.exitcode = status
        if options.engine == "local" and _own_process():
            _end_process(status)


def _own_process() -> bool:
    """This process is the `scrapy` command line's (`scrapy ...` or `python -m scrapy ...`), not a test's or a
    script's that called the command."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None:
        return spec.name == "scrapy.__main__"
    return os.path.basename(getattr(main, "__file__", None) or "") == "scrapy"


def _end_process(status: int) -> None:
    """The process ends now with `status`, its logs and standard streams flushed, without the interpreter's
    teardown (see the module docstring): the run closed its files, its pool and its temporary files."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing more can be said on it
            pass
    os._exit(status)


def _logging(settings) -> None:
    """Log lines on stderr (or LOG_FILE), at LOG_LEVEL, as a crawl's look."""
    from scrapy.utils.log import configure_logging

    configure_logging(settings)
    logging.getLogger("scrapy").setLevel(logging.WARNING)
