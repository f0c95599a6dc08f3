"""The operator's first hour and the hundredth run: the demo as the README shows it, Ctrl-C, quiet incremental runs,
the scheduling examples of docs/scheduling.md run as written on a fresh copy, bounds that hold."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.crawling import FAST, REPO, crawl, crawl_command
from tests.sites.replica.server import ReplicaServer

README = REPO / "README.md"
SCHEDULING = REPO / "docs" / "scheduling.md"


def fenced_after(text: str, marker: str) -> str:
    """The first fenced block after `marker` in a Markdown text."""
    rest = text[text.index(marker):]
    return re.search(r"```[a-z]*\n(.*?)```", rest, re.S).group(1)


# --- the demo ----------------------------------------------------------------------------------------
def run_demo(cwd: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "tests.demo", "--out", "demo-output", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def sample_pattern(line: str) -> str:
    """A README sample line as a regex: <time> and <UTC start> stand for timestamps, a duration and
    a size for any; every other figure must be the same."""
    pattern = re.escape(line.rstrip())
    pattern = pattern.replace(re.escape("<time>"), r"\d{8}T\d{6}").replace(re.escape("<UTC start>"), r"\d{8}T\d{6}Z")
    pattern = re.sub(r"\d+\\\.\d\\ s", r"\\d+\\.\\d\\ s", pattern)  # "in 4.3 s"
    return re.sub(r"\d+\\ KiB", r"\\d+\\ KiB", pattern)  # "508 KiB"


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """`make demo` once, then `make demo ARGS=--incremental` twice, then once more with every known page due
    (REVISIT_EVERY_RUN), from a directory of their own."""
    cwd = tmp_path_factory.mktemp("demo")
    plain = run_demo(cwd)
    first = run_demo(cwd, "--incremental")
    second = run_demo(cwd, "--incremental")
    every = run_demo(cwd, "--incremental", "-s", "REVISIT_EVERY_RUN=True")
    return cwd, plain, first, (second, every)


def test_the_readme_demo_sample_is_what_the_demo_prints(demo_runs):
    _, plain, _, _ = demo_runs
    assert plain.returncode == 0, plain.stdout[-3000:] + plain.stderr[-3000:]
    sample = fenced_after(README.read_text("utf-8"), "**No access to the live site?**").splitlines()
    printed = plain.stdout.splitlines()
    at = 0
    for line in sample:
        if line.strip() == "...":
            continue
        pattern = sample_pattern(line)
        found = [i for i in range(at, len(printed)) if re.fullmatch(pattern, printed[i].rstrip())]
        assert found, f"README line {line!r} not printed by the demo (from line {at}):\n{plain.stdout}"
        at = found[0] + 1


def test_incremental_demo_runs_fetch_what_is_due_revalidate_and_say_so_quietly(demo_runs):
    cwd, _, first, (second, every) = demo_runs
    assert first.returncode == 0 and second.returncode == 0 and every.returncode == 0, every.stdout[-3000:]
    assert "incremental   : 49 new, 0 changed, 0 unchanged" in first.stdout
    # right after the first run no article is due (docs/scheduling.md): the front pages only, nothing exported
    not_due = re.search(r"incremental   : 0 new, 0 changed, 0 unchanged \(0 revalidated: answered 304; (\d+) known "
                        r"pages not due yet\)", second.stdout)
    assert not_due and int(not_due.group(1)) >= 49, second.stdout
    # every known page due: each article revalidated with a conditional request, answered 304
    assert ("incremental   : 0 new, 0 changed, 49 unchanged (49 revalidated: answered 304; 0 known pages not due "
            "yet)") in every.stdout
    # the runs write to one WARC directory, and the summary names this run's file and checks it
    assert re.search(r"WARC files    : demo-output/warc/ \(1 file\(s\) written by this run, \d+ KiB; "
                     r"warcio check: passed\)", every.stdout)
    # the run report of the revalidating run says what happened, first
    [report] = sorted((cwd / "demo-output").glob("run-*/spacewar-*-report.md"))[-1:]
    text = report.read_text("utf-8")
    assert "> **\u2714 OK: exit status 0: finished:" in text
    assert "| Since the last run | 0 new, 0 changed, 49 unchanged articles |" in text
    assert "| Revalidated | 49 (" in text
    # quiet success: no article is a WARNING, no item is dumped in the log
    logs = sorted((cwd / "demo-output").glob("run-*/crawl.log"))
    every_log = logs[-1].read_text("utf-8")
    assert "unchanged since the last run" not in every_log and "'body':" not in every_log
    assert len(every_log) <= len(logs[-3].read_text("utf-8"))  # no longer than the first incremental run's


def test_a_run_whose_articles_come_back_unchanged_logs_one_debug_line_each(demo_runs, tmp_path):
    """Without revalidation (a WARC directory without the originals) the articles come back in full and
    are dropped as unchanged: a DEBUG line each, no WARNING, no item in the log."""
    cwd, plain, _, _ = demo_runs
    state = cwd / "demo-output" / "state.sqlite"  # the demo's incremental runs exported every article
    # a replica as the demo's (not the session's, which other tests edit)
    with ReplicaServer(n_articles=40, faults=True, slow_seconds=1.5) as replica:
        run = crawl(tmp_path, replica.host_map(), settings={"STATE_PATH": str(state), "LOG_LEVEL": "DEBUG",
                                                            "REVISIT_EVERY_RUN": "True"})  # every article due
    assert run.returncode == 0
    assert run.stats["incremental/unconditional/not_archived"] >= 49  # fetched in full, not revalidated
    dropped = [line for line in run.log.splitlines() if "Dropped: unchanged since the last run" in line]
    assert len(dropped) == run.stats["incremental/unchanged"] == 49
    assert all(" DEBUG: " in line for line in dropped)
    assert "'body':" not in run.log  # no item dumped
    first = json.loads(sorted((cwd / "demo-output").glob("run-*/stats.json"))[0].read_text())  # `make demo`
    assert run.stats.get("log_count/WARNING", 0) == first.get("log_count/WARNING", 0)  # the same faults, nothing more


def test_ctrl_c_during_the_demo_lets_the_crawl_finish_and_says_where_the_outputs_are(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # --polite: delays between requests, so the Ctrl-C lands mid-crawl even on a loaded machine
    proc = subprocess.Popen([sys.executable, "-m", "tests.demo", "--out", "demo-output", "--polite"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout.readline().startswith("Replica of www.spacewar.com serving")
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("demo-output/run-*/warc/*.open")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)  # as a terminal's Ctrl-C reaches the demo
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 75, out
    assert "Traceback" not in out
    assert "Crawl stopped by Ctrl-C" in out and "(exit status 75)" in out
    assert re.search(r"run report    : demo-output/run-\d{8}T\d{6}/spacewar-\d{8}T\d{6}Z-report\.md "
                     r"\(and spacewar-\d{8}T\d{6}Z-report\.html, with charts\)", out)
    assert list(tmp_path.glob("demo-output/run-*/warc/*.warc.gz")) and not list(tmp_path.glob("demo-output/**/*.open"))


# --- bounds and failures -------------------------------------------------------------------------------
def test_closespider_itemcount_exports_exactly_that_many(replica, tmp_path):
    result = crawl(tmp_path, replica.host_map(), settings={"CLOSESPIDER_ITEMCOUNT": "3"})
    assert result.returncode == 0
    assert len(result.items) == 3
    assert result.stats["finish_reason"] == "closespider_itemcount"


def test_a_failed_crawl_leaves_no_empty_jsonl_in_the_default_feed_directory(tmp_path):
    items = tmp_path / "items"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-s", f"DEFAULT_FEED={items}/%(name)s-%(time)s.jsonl",
           "-s", f"WARC_DIR={tmp_path / 'warc'}", "-s", 'HOST_MAP={"www.spacewar.com": "127.0.0.1:9"}',
           "-s", "RETRY_TIMES=0", "-s", f"LOG_FILE={tmp_path / 'crawl.log'}", "-s", "PROGRESS_INTERVAL=0"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 69
    assert not items.exists() or list(items.iterdir()) == []
    [report] = tmp_path.glob("spacewar-*-report.md")
    assert "(0 items, not written)" in report.read_text("utf-8")


# --- docs/scheduling.md, as written, on a fresh copy -------------------------------------------------------
@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A fresh copy of the repository's tracked files, with .venv pointing at the running environment."""
    root = tmp_path_factory.mktemp("checkout") / "spacewar-archiver"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in filter(None, files.split("\0")):
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    (root / ".venv").symlink_to(Path(sys.executable).parent.parent)
    assert not (root / "state").exists() and not (root / "logs").exists()
    return root


def against(site_map: dict, command: str, **settings) -> str:
    """The command with the replica's settings after `scrapy crawl spacewar` (the one change the tests make)."""
    extra = " ".join(f"-s {k}={v}" for k, v in {**FAST, **settings}.items() if k != "LOG_LEVEL")
    return command.replace("scrapy crawl spacewar", f"scrapy crawl spacewar -s 'HOST_MAP={json.dumps(site_map)}' "
                                                    f"{extra}", 1)


def cron_command(checkout: Path) -> str:
    lines = [line for line in fenced_after(SCHEDULING.read_text("utf-8"), "## cron").splitlines()
             if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    [entry] = lines
    command = entry.split(None, 5)[5]  # after the five time fields
    command = command.replace("\\%", "%")  # cron turns \% into %
    return command.replace("cd /srv/spacewar-archiver", f"cd {checkout}", 1)


def run_shell(command: str, checkout: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """As cron runs it: /bin/sh -c, the checkout's own code on the path."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    return subprocess.run(["/bin/sh", "-c", command], cwd="/", env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_cron_line_works_from_a_fresh_checkout_and_mails_a_real_reason(checkout, replica):
    command = cron_command(checkout)
    ok = run_shell(against(replica.host_map(), command, CLOSESPIDER_PAGECOUNT=10), checkout)  # a short run
    assert ok.returncode == 0 and ok.stdout == "" and ok.stderr == "", ok.stdout + ok.stderr  # nothing to mail
    [log] = (checkout / "logs").glob("spacewar-*.log")
    assert "Crawl outcome: finished" in log.read_text("utf-8")
    assert (checkout / "state" / "spacewar.sqlite").exists()
    failed = run_shell(against({"www.spacewar.com": "127.0.0.1:9"}, command, RETRY_TIMES=0), checkout)
    assert re.fullmatch(r"spacewar crawl failed with exit status 69: ERROR: Crawl outcome: nothing archived: "
                        r"the site could not be reached .*\(exit status 69\)\n", failed.stdout), failed.stdout
    time.sleep(1.1)  # the log names have seconds: this one's is its own
    busy = subprocess.Popen(["flock", str(checkout / "state" / "crawl.lock"), "sleep", "30"])  # a run still going
    try:
        time.sleep(0.5)
        held = run_shell(against(replica.host_map(), command, CLOSESPIDER_PAGECOUNT=10), checkout)
    finally:
        busy.kill()
        busy.wait()
    assert held.stdout.startswith("spacewar crawl failed with exit status 1: no log: another run holds "
                                  "state/crawl.lock"), held.stdout


def test_the_systemd_service_runs_from_a_fresh_checkout(checkout):
    unit = fenced_after(SCHEDULING.read_text("utf-8"), "/etc/systemd/system/spacewar-archiver.service")
    values = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert values["WorkingDirectory"] == "/srv/spacewar-archiver"
    # 69 (nothing archived) and 75 (stopped early) are retried; a full disk (74) and a bad configuration (78) wait
    assert values["RestartPreventExitStatus"].split() == ["74", "78"]
    command = values["ExecStart"].replace("/srv/spacewar-archiver/", "")
    fresh = checkout.parent / "systemd" / "spacewar-archiver"
    shutil.copytree(checkout, fresh, symlinks=True, ignore=shutil.ignore_patterns("state", "logs", "output"))
    # the site unreachable (the quickest run): the service runs, fails as it should and says why
    proc = subprocess.run(["/bin/sh", "-c", against({"www.spacewar.com": "127.0.0.1:9"}, command, RETRY_TIMES=0)],
                          cwd=fresh,
                          env={**os.environ, "PYTHONPATH": str(fresh)}, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 69, proc.stderr[-3000:]
    assert "Crawl outcome: nothing archived: the site could not be reached" in proc.stderr  # to the journal
    stats = json.loads((fresh / "logs" / "last-stats.json").read_text())
    assert stats["outcome/exit_status"] == 69 and (fresh / "state" / "spacewar.sqlite").exists()
