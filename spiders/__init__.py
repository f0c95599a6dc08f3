"""Spiders of the archival crawler: one generic class, one spider per site profile."""
