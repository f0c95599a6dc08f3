"""pywb 2.10 (from its own environment, tests/replay/tools.py) serving WARC or WACZ files on 127.0.0.1, and how its answers read.

    with pywb_server([warc, ...], workdir) as base:     # or a .wacz (added with --unpack-wacz)
        status, headers, body, final_url = fetch(f"{base}/coll/mp_/{url}")

A fresh collection in `workdir`, a config with no live collection, no proxy and no recording, so
pywb can only answer from the archive; `rules_file` adds a fuzzy-match rules file (docs/pywb-rules.yaml).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import zlib
from email.utils import parsedate_to_datetime
from pathlib import Path

from tests.replay.tools import pywb_bin

CONFIG = "collections_root: collections\nenable_memento: true\nframed_replay: false\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def pywb_server(sources: list[Path], workdir: Path, rules_file: Path | None = None, timeout: float = 90):
    """pywb serving collection "coll" of the sources on 127.0.0.1; yields its base URL."""
    bin_dir = pywb_bin()
    if bin_dir is None:
        raise RuntimeError("pywb not found (tests/replay/tools.py)")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(CONFIG + (f"rules_file: {rules_file}\n" if rules_file else ""))
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    logpath = workdir / "pywb.log"
    log = open(logpath, "wb")

    def manager(*args):
        proc = subprocess.run([str(bin_dir / "wb-manager"), *args], cwd=workdir, stdout=log,
                              stderr=subprocess.STDOUT, env=env)
        if proc.returncode != 0:
            log.flush()
            raise RuntimeError(f"wb-manager {args[0]} failed:\n" + logpath.read_text(errors="replace")[-3000:])

    proc = None
    try:
        manager("init", "coll")
        warcs = [str(s) for s in sources if Path(s).suffix != ".wacz"]
        waczs = [str(s) for s in sources if Path(s).suffix == ".wacz"]
        if warcs:
            manager("add", "coll", *warcs)
        if waczs:
            manager("add", "--unpack-wacz", "coll", *waczs)
        port = free_port()
        proc = subprocess.Popen([str(bin_dir / "wayback"), "-p", str(port), "-b", "127.0.0.1"], cwd=workdir,
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError("pywb exited:\n" + logpath.read_text(errors="replace")[-3000:])
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("pywb did not start:\n" + logpath.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def fetch(url: str, timeout: float = 30):
    """(status, headers, body decoded from its content-coding, final URL); redirects followed."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status, headers, body, final = resp.status, resp.headers, resp.read(), resp.url
    except urllib.error.HTTPError as err:
        status, headers, body, final = err.code, err.headers, err.read(), err.url
    coding = (headers.get("Content-Encoding") or "").lower()
    with contextlib.suppress(OSError, zlib.error, EOFError):
        if coding == "gzip":
            body = gzip.decompress(body)
        elif coding == "deflate":
            body = zlib.decompress(body)
    return status, headers, body, final


def memento_ts(headers) -> str | None:
    """The Memento-Datetime of a replayed answer as 14 digits."""
    value = headers.get("Memento-Datetime") if headers else None
    return parsedate_to_datetime(value).strftime("%Y%m%d%H%M%S") if value else None


def warc_ts(date: str) -> str:
    """A WARC-Date as 14 digits."""
    return date.replace("-", "").replace(":", "").replace("T", "")[:14]
