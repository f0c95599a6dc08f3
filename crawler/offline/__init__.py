"""Offline tools: rebuild items from WARC files, package a WACZ, build a merged dataset."""
