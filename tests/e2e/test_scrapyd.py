"""Scheduled runs through scrapyd: the project's scrapyd.conf, deployed with scrapyd-deploy, a job run against the replica."""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.crawling import FAST, REPO
from tests.redis_server import free_port

SCRAPYD_DEPLOY = Path(sys.executable).with_name("scrapyd-deploy")


def api(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(f"{base}/{endpoint}", data=body, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path):
    """scrapyd from the project's scrapyd.conf, on a free loopback port, with its own directories."""
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    conf = configparser.ConfigParser()
    conf.read(REPO / "scrapyd.conf")
    conf["scrapyd"].update({"http_port": str(port), "poll_interval": "0.5"})
    with open(home / "scrapyd.conf", "w") as f:
        conf.write(f)
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd", "--pidfile="], cwd=home,
                            stdout=subprocess.DEVNULL, stderr=(home / "scrapyd.err").open("w"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if api(base, "daemonstatus.json")["status"] == "ok":
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("scrapyd did not start: " + (home / "scrapyd.err").read_text()[-2000:])
        time.sleep(0.2)
    yield base, port, home
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def project_copy(dest: Path, port: int) -> Path:
    """The project as a user's checkout would be, its [deploy:local] pointed at the test scrapyd."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("crawler", "spiders", "pipelines"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, dest / name)
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "scrapy.cfg")
    cfg["deploy:local"]["url"] = f"http://127.0.0.1:{port}/"
    with open(dest / "scrapy.cfg", "w") as f:
        cfg.write(f)
    return dest


def test_a_deployed_project_runs_a_scheduled_crawl(replica, scrapyd, tmp_path):
    if not SCRAPYD_DEPLOY.exists():
        pytest.skip("scrapyd-client is not installed (pip install .[distributed])")
    base, port, home = scrapyd
    project = project_copy(tmp_path / "checkout", port)
    deploy = subprocess.run([str(SCRAPYD_DEPLOY), "local", "-p", "spacewar", "--version", "r1"], cwd=project,
                            capture_output=True, text=True, timeout=120)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert api(base, "listversions.json?project=spacewar")["versions"] == ["r1"]
    assert "spacewar" in api(base, "listspiders.json?project=spacewar")["spiders"]

    out = tmp_path / "archive"
    settings = dict(FAST, HOST_MAP=json.dumps(replica.host_map()), WARC_DIR=str(out / "warc"),
                    DEFAULT_FEED=str(out / "items" / "%(name)s-%(time)s.jsonl"),
                    STATS_FILE=str(out / "stats.json"), REPORT_DIR=str(out / "reports"))
    job = api(base, "schedule.json", [("project", "spacewar"), ("spider", "spacewar")]
              + [("setting", f"{k}={v}") for k, v in settings.items()])
    assert job["status"] == "ok"

    deadline = time.monotonic() + 240
    while True:
        jobs = api(base, "listjobs.json?project=spacewar")
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.5)

    log = next((home / "logs" / "spacewar" / "spacewar").glob(f"{job['jobid']}.log")).read_text("utf-8")
    stats = json.loads((out / "stats.json").read_text())
    assert stats["finish_reason"] == "finished", log[-3000:]
    # what a monitor of scrapyd reads: the job log's last line and the stats file carry the exit status
    last = [line for line in log.splitlines() if line.strip()][-1]
    assert "Crawl outcome: finished" in last and last.endswith("(exit status 0)")
    assert stats["outcome/exit_status"] == 0
    [items_file] = (out / "items").glob("spacewar-*.jsonl")
    urls = {json.loads(line)["url"] for line in items_file.read_text("utf-8").splitlines() if line.strip()}
    assert urls == {item["url"] for item in replica.expected_items()}
    assert list((out / "warc").glob("spacewar-*.warc.gz"))

    # a misspelt setting in a scheduled job (setting=STATE_PTH=...): before, a WARNING and a whole crawl that was not
    # the incremental one asked for; now the job stops before any request, its log's last line saying why
    requests = len(replica.log)
    job = api(base, "schedule.json", [("project", "spacewar"), ("spider", "spacewar")]
              + [("setting", f"{k}={v}") for k, v in dict(settings, STATE_PTH=str(out / "state.sqlite")).items()])
    deadline = time.monotonic() + 120
    while not any(j["id"] == job["jobid"] for j in api(base, "listjobs.json?project=spacewar")["finished"]):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    log = next((home / "logs" / "spacewar" / "spacewar").glob(f"{job['jobid']}.log")).read_text("utf-8")
    last = [line for line in log.splitlines() if line.strip()][-1]
    assert last.endswith("Configuration error: -s STATE_PTH: no such setting; did you mean STATE_PATH? "
                         "(exit status 78)"), log[-3000:]
    assert len(replica.log) == requests
