"""Reprocess's decoding of a content-coded body: a stream that ends early is a truncated capture, not a bug."""

from __future__ import annotations

import gzip
import zlib

import pytest

from crawler.offline.reprocess.pages import Undecodable, _decoded

PAGE = b"<html><body><p>The minister said the satellite was ready.</p></body></html>"


def test_a_gzip_content_coding_that_ends_early_is_truncated_not_a_bug():
    body = gzip.compress(PAGE * 50)
    headers = [("Content-Encoding", "gzip")]
    assert _decoded(body, headers) == (PAGE * 50, False)
    cut, truncated = _decoded(body[: len(body) // 2], headers)
    assert truncated is True


def test_deflate_that_ends_early_is_truncated_and_garbage_is_undecodable():
    body = zlib.compress(PAGE * 50)
    assert _decoded(body[:20], [("Content-Encoding", "deflate")])[1] is True
    with pytest.raises(Undecodable):
        _decoded(b"\x1f\x8b\x08garbage" * 3, [("Content-Encoding", "gzip")])
