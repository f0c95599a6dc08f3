"""Network policy: which addresses may be crawled, where hosts live (HOST_MAP), how failures are retried, cookies kept offline."""
