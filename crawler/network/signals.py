"""The signal the network policy sends when it refuses a request before any download (robots.txt, the address policy).

    crawler.signals.connect(handler, signal=request_refused)  # handler(request, reason)

`reason` is "robots.txt" or "address policy (<kind>)". The run report lists the refused URLs by
reason (crawler/reporting/runreport.py); the counts are the stats robotstxt/forbidden and
safety/refused/<kind>.
"""

request_refused = object()
