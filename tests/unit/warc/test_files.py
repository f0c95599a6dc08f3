"""WARC files: named as documented, `.open` while written, rolled over at WARC_MAX_SIZE, readable by warcio."""

import os
import re

from warcio.archiveiterator import ArchiveIterator

import errno

import pytest

from crawler.warc.files import WarcFileSet, WarcFileWriter
from crawler.warc.records import new_record_id, warc_date
from tests.crawling import warcio_check

NAME = re.compile(r"^test-\d{17}-\d{5}-[A-Za-z0-9._-]+\.warc\.gz$")


def _resource(writer, n, size=2000):
    # random bytes: gzip cannot shrink them, so sizes on disk are predictable
    return writer.write_record([
        ("WARC-Type", "resource"), ("WARC-Record-ID", new_record_id()), ("WARC-Date", warc_date()),
        ("WARC-Target-URI", f"https://www.spacewar.com/{n}"), ("Content-Type", "application/octet-stream"),
    ], os.urandom(size))


def test_files_are_open_while_written_then_renamed_and_pass_warcio_check(tmp_path):
    w = WarcFileWriter(tmp_path, "test", warcinfo={"software": "t"}, max_size=1_000_000_000)
    loc = _resource(w, 1)
    assert [p.name.endswith(".warc.gz.open") for p in tmp_path.iterdir()] == [True]
    assert NAME.match(loc.filename)
    w.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert [f.name for f in files] == [loc.filename]
    assert not list(tmp_path.glob("*.open"))
    assert warcio_check(files).returncode == 0


def test_rollover_at_max_size_each_file_opening_with_warcinfo(tmp_path):
    w = WarcFileWriter(tmp_path, "test", max_size=5000, warcinfo={"software": "t"})
    locs = [_resource(w, n, size=4000) for n in range(6)]
    w.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 3
    assert len({loc.filename for loc in locs}) == len(files)
    serials = [int(f.name.split("-")[2]) for f in files]
    assert serials == sorted(serials) and len(set(serials)) == len(serials)
    for f in files:
        with open(f, "rb") as fh:
            types = [r.rec_type for r in ArchiveIterator(fh)]
        assert types[0] == "warcinfo" and types.count("warcinfo") == 1 and len(types) > 1
    assert warcio_check(files).returncode == 0


def test_location_points_at_the_record(tmp_path):
    w = WarcFileWriter(tmp_path, "test", max_size=1_000_000_000)
    locs = [_resource(w, n) for n in range(3)]
    w.close()
    for loc in locs:
        with open(tmp_path / loc.filename, "rb") as fh:
            fh.seek(loc.offset)
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Record-ID") == loc.record_id


def test_prefix_and_host_cannot_escape_the_directory(tmp_path):
    w = WarcFileWriter(tmp_path / "warc", "../../etc/passwd", host="evil/../../host", max_size=1_000_000_000)
    loc = _resource(w, 1)
    w.close()
    assert "/" not in loc.filename and not loc.filename.startswith(".")
    assert (tmp_path / "warc" / loc.filename).exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [tmp_path / "warc" / loc.filename]


def test_an_existing_file_is_never_overwritten(tmp_path):
    first = WarcFileWriter(tmp_path, "test", host="h", max_size=1_000_000_000)
    a = _resource(first, 1)
    first.close()
    second = WarcFileWriter(tmp_path, "test", host="h", max_size=1_000_000_000)
    b = _resource(second, 2)
    second.close()
    assert a.filename != b.filename
    assert len(list(tmp_path.glob("*.warc.gz"))) == 2


def test_small_records_compress_to_the_same_bytes_as_with_the_full_window():
    import random
    import zlib

    from crawler.warc.files import gzip_member

    rng = random.Random(6)
    words = [b"spacewar", b"satellite", b"<p>", b"</p>", b"missile", b"\r\n", b"Content-Length: 42"]
    for size in [0, 1, 249, 250, 251, 762, 763, 3000, 7929, 7931, 16122, 16123, 40000, 200000]:
        data = b" ".join(rng.choice(words) for _ in range(size))[:size]
        full = zlib.compressobj(6, zlib.DEFLATED, 31)
        assert gzip_member(data) == full.compress(data) + full.flush(), size
        assert zlib.decompress(gzip_member(data), 47) == data


def _resource_in(files, n, prefix, size=2000):
    return files.write_record([
        ("WARC-Type", "resource"), ("WARC-Record-ID", new_record_id()), ("WARC-Date", warc_date()),
        ("WARC-Target-URI", f"https://www.spacewar.com/{n}"), ("Content-Type", "application/octet-stream"),
    ], os.urandom(size), prefix)


def test_a_failed_write_in_one_series_stops_every_series_and_leaves_only_its_own_file_open(tmp_path, monkeypatch):
    errors = []
    files = WarcFileSet(tmp_path, "network", max_size=1_000_000_000, on_error=errors.append)
    kept = _resource_in(files, 1, "spacewar")
    _resource_in(files, 2, "spacedaily")
    failing = files.writer("spacedaily")
    monkeypatch.setattr(failing, "_check_space", lambda size: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    failing.min_free_bytes = 1
    with pytest.raises(OSError):
        _resource_in(files, 3, "spacedaily")
    with pytest.raises(OSError, match="earlier failure"):
        _resource_in(files, 4, "spacewar")  # the other series refuses too: the disk is the same
    assert [e.errno for e in errors] == [errno.ENOSPC]
    files.close()
    assert len(list(tmp_path.glob("spacedaily-*.warc.gz.open"))) == 1  # for the next run's recovery
    assert not list(tmp_path.glob("spacewar-*.open")) and not list(tmp_path.glob("network-*.open"))
    assert [p.name for p in tmp_path.glob("spacewar-*.warc.gz")] == [kept.filename]  # closed whole
    assert warcio_check([tmp_path / kept.filename]).returncode == 0


def test_a_record_zlib_cannot_compress_is_a_failed_write_reported_once(tmp_path):
    """A compression level zlib refuses (12) never makes 0-byte files and a traceback per record: the
    first write fails as a write does (OSError, on_error once), so the crawl stops with exit status 74."""
    errors = []
    w = WarcFileWriter(tmp_path, "test", warcinfo={"software": "t"}, max_size=1_000_000_000, compress_level=12,
                       on_error=errors.append)
    with pytest.raises(OSError, match="zlib cannot compress at level 12"):
        _resource(w, 1)
    with pytest.raises(OSError, match="earlier failure"):
        _resource(w, 2)
    assert [e.errno for e in errors] == [errno.EINVAL]
