"""Where the wall time of one `scrapy reprocess` goes, phase by phase, from the shell's start of the command to its exit.

    python -m bench.cc_phases --warc FILE.warc.gz [--checkout DIR] [--processes 2] [--rounds 3] [-- OPTIONS...]

The command runs from the checkout (default: this tree) as `scrapy reprocess FILE -O OUT --processes N`
would, through a small launcher that marks the time (time.time(), the same clock as this process's) at
each phase's end: Python up; `import scrapy.cmdline` (Scrapy's own start); the project's settings; every
command's module (Scrapy's and the project's: Scrapy imports them all to list the commands); the run's
imports; the warm-up before the pool forks (pages.warm); each pass's first and last result; the
selection; the story groups; the summary; the exit. The marks are made by wrapping the functions in
place (nothing in the tree is changed), so a checkout without one of them (an older tree) shows the
phases it has. The best round (by the whole) is printed, with each phase's share.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO

#: the launcher run in the child: marks, then Scrapy's command line as `scrapy reprocess ...` runs it
LAUNCHER = r'''
import time
T = [("Python up", time.time())]
import json, os, sys
MARKS = os.environ["CC_PHASES_MARKS"]

def mark(name):
    T.append((name, time.time()))

def dump():
    with open(MARKS, "w") as fh:
        json.dump(T, fh)

import scrapy.cmdline as cmdline
mark("import scrapy.cmdline (Scrapy's start)")

def after(owner, name, label):
    original = getattr(owner, name, None)
    if original is None:
        return
    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        mark(label)
        return result
    setattr(owner, name, wrapped)

after(cmdline, "get_project_settings", "project settings (crawler/settings.py)")
after(cmdline, "_get_commands_dict", "every command's module (Scrapy's and crawler/commands/)")
import crawler.commands.reprocess as command
run_command = command.Command.run

def run(self, args, opts):
    mark("options parsed")
    from crawler.offline.reprocess import index, local, pages
    import crawler.offline.reprocess.run as R
    mark("the run's imports")
    after(R.pages, "warm", "warm-up before the fork (templates, sites, schema)")
    original_map = local.LocalEngine.map_ordered
    passes = {"scan": "first pass", "run_task": "second pass"}
    def map_ordered(self, fn, tasks):
        first = True
        for result in original_map(self, fn, tasks):
            if first:
                mark(f"{passes.get(fn.__name__, fn.__name__)}: first result")
                first = False
            yield result
        if not first:  # (a call with no task, e.g. no file read whole after --index, marks nothing)
            mark(f"{passes.get(fn.__name__, fn.__name__)}: last result")
    local.LocalEngine.map_ordered = map_ordered
    after(index.CaptureIndex, "select", "selection (SQLite)")
    after(R, "group_lines", "story groups (the workers' sketches)")
    after(R, "group_jsonl", "story groups (every line parsed)")
    after(R, "write_summary", "summary written")
    result = run_command(self, args, opts)
    mark("run over (this process not ended by the command)")
    dump()
    return result

command.Command.run = run
if hasattr(command, "_end_process"):
    command._own_process = lambda: True  # as when run as `scrapy`: the command ends the process itself
    end_process = command._end_process
    def end(status):
        mark("run over")
        dump()
        end_process(status)
    command._end_process = end
sys.argv = ["scrapy", *sys.argv[1:]]
cmdline.execute()
'''


def phases(checkout: Path, argv: list[str]) -> tuple[float, list[tuple[str, float]]]:
    """One run: (wall seconds, [(phase, seconds since the start)]), the exit last."""
    with tempfile.TemporaryDirectory(prefix="cc-phases-") as tmp:
        marks = Path(tmp) / "marks.json"
        launcher = Path(tmp) / "launch.py"
        launcher.write_text(LAUNCHER)
        env = {**os.environ, "PYTHONPATH": str(checkout), "CC_PHASES_MARKS": str(marks)}
        started = time.time()
        proc = subprocess.run([sys.executable, str(launcher), *argv], cwd=checkout, env=env, capture_output=True,
                              text=True)
        ended = time.time()
        if proc.returncode != 0 or not marks.exists():
            raise RuntimeError(f"exit {proc.returncode}:\n{proc.stderr[-3000:]}")
        return ended - started, [(name, at - started) for name, at in json.loads(marks.read_text())] + [
            ("exit", ended - started)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warc", type=Path, required=True)
    parser.add_argument("--checkout", type=Path, default=REPO, help="the tree to run (default: this one)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("options", nargs="*", help="more options of scrapy reprocess (after --)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cc-phases-out-") as out:
        command = ["reprocess", str(args.warc.resolve()), "-O", str(Path(out) / "out.jsonl"), "--processes",
                   str(args.processes), "--progress-interval", "0", *args.options]
        best = min((phases(args.checkout.resolve(), command) for _ in range(args.rounds)), key=lambda r: r[0])
    wall, marks = best
    print(f"{args.checkout}: {wall:.3f} s end to end (best of {args.rounds})")
    print("| phase (ends at) | at s | phase s | share |\n| --- | --- | --- | --- |")
    before = 0.0
    for name, at in marks:
        print(f"| {name} | {at:.3f} | {at - before:.3f} | {(at - before) / wall:.0%} |")
        before = at
    return 0


if __name__ == "__main__":
    sys.exit(main())
