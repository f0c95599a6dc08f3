"""Helper processes beside the reactor: the socket-pair link, the extraction workers and the WARC writer process."""
