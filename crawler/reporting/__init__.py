"""The operator's view of a crawl: progress lines, the run report, the stats file, and the exit status."""
