"""Extraction and cleaning, pure: a page in, a typed article out (site rules, a generic fallback, clutter removed)."""
