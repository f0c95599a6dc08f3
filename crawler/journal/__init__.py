"""The crash-safety journal (JOBDIR): every accepted request and exported article journaled, so kill -9 loses nothing."""
