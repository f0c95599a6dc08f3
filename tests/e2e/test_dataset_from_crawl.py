"""The dataset built from two real crawls of the replica loads in pandas and in Hugging Face datasets."""

import json
import shutil

from crawler.offline.dataset import build
from tests.crawling import crawl


def test_two_crawls_of_the_replica_merge_into_one_dataset(full_crawl, replica, tmp_path, hf_offline):
    items_dir = tmp_path / "items"
    items_dir.mkdir()
    shutil.copy(full_crawl.items_path, items_dir / "run1.jsonl")
    second = crawl(tmp_path / "run2", replica.host_map())
    assert second.returncode == 0
    shutil.copy(second.items_path, items_dir / "run2.jsonl")

    manifest = build([items_dir], tmp_path / "dataset")
    expected = {item["url"] for item in replica.expected_items()}
    assert manifest == json.loads((tmp_path / "dataset" / "manifest.json").read_text())
    rows = [json.loads(line) for line in (tmp_path / "dataset" / "articles.jsonl").read_text().splitlines()]
    assert {r["url"] for r in rows} == expected and len(rows) == len(expected)
    assert all(r["history_count"] == 2 for r in rows)  # each article captured once per run
    latest = {i["url"]: i for i in second.items}
    assert all(r["fetched_at"] == latest[r["url"]]["fetched_at"] for r in rows)  # the later run wins

    import pandas as pd

    df = pd.read_parquet(tmp_path / "dataset" / "articles.parquet")
    assert len(df) == len(expected) and set(df["url"]) == expected

    import datasets

    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "dataset" / "articles.parquet"),
                               split="train", cache_dir=str(hf_offline))
    assert ds.num_rows == len(expected)
    by_url = {r["url"]: r for r in ds}
    some = next(iter(latest.values()))
    assert by_url[some["url"]]["body"] == some["body"]
