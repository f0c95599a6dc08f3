"""Incremental state (STATE_PATH): what earlier runs fetched and exported, conditional requests, unchanged articles dropped."""
