"""A replica of www.spacewar.com served on 127.0.0.1 (HTTP and HTTPS) for tests, the demo and benchmarks."""
