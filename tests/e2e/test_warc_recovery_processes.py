"""WARC recovery across processes: a writer killed mid-write leaves a recoverable file; the directory lock is exclusive
and dies with its process."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.warc.recovery import WarcDirLock, recover_directory
from tests.crawling import REPO, warcio_check


def record_ids(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        return [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(fh)]


def test_a_process_killed_while_writing_leaves_a_recoverable_file(tmp_path):
    """kill -9 a process that writes large records as fast as it can, then recover."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO)!r})
        from crawler.warc.files import WarcFileWriter
        from crawler.warc.records import new_record_id, warc_date
        w = WarcFileWriter({str(tmp_path)!r}, "killed", host="h", max_size=10**12)
        body = os.urandom(400_000)
        print("ready", flush=True)
        while True:
            w.write_record([("WARC-Type", "resource"), ("WARC-Record-ID", new_record_id()),
                            ("WARC-Date", warc_date())], body)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(0.7)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [open_file] = tmp_path.glob("*.open")
    size = open_file.stat().st_size
    [result] = recover_directory(tmp_path, index=False)
    assert result.records >= 2
    assert result.kept_bytes + result.cut_bytes == size
    assert warcio_check(result.final_path).returncode == 0
    assert len(record_ids(result.final_path)) == result.records


def test_the_directory_lock_is_exclusive_and_dies_with_its_process(tmp_path):
    first = WarcDirLock(tmp_path)
    assert first.acquire()
    assert not WarcDirLock(tmp_path).acquire()
    first.release()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time; sys.path.insert(0, {str(REPO)!r})
        from crawler.warc.recovery import WarcDirLock
        assert WarcDirLock({str(tmp_path)!r}).acquire(); print("locked", flush=True); time.sleep(60)
    """)], stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"locked"
    assert not WarcDirLock(tmp_path).acquire()
    holder.kill()
    holder.wait()
    assert WarcDirLock(tmp_path).acquire()
