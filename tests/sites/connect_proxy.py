"""A forwarding HTTP proxy on loopback that sends each CONNECT to the address a host map gives: tools without a host map reach the replica.

    with ConnectProxy(replica.host_map()) as proxy:
        wget -e use_proxy=yes -e https_proxy=http://127.0.0.1:{proxy.port} --no-check-certificate ...

GNU wget (and other archiving tools) resolve host names themselves and have no HOST_MAP: through
this proxy they ask for https://www.spacewar.com/... as on the real network, and write that URL in
their WARC files, while the bytes come from the replica. It understands CONNECT only (the replica's
site is https; its http answers are redirects to https), tunnels the bytes both ways unchanged, and
answers 502 for a host the map does not name.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            data = client.recv(4096)
            if not data:
                return
            head += data
        line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        target = self.server.host_map.get(line[1]) if len(line) == 3 and line[0] == "CONNECT" else None
        if target is None:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        host, port = target.rsplit(":", 1)
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with upstream:
            socks = [client, upstream]
            while True:
                ready, _, _ = select.select(socks, [], [], 30)
                if not ready:
                    return
                for sock in ready:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ConnectProxy:
    """The proxy on 127.0.0.1 (an ephemeral port: `port`), for a {"host:port": "ip:port"} map."""

    def __init__(self, host_map: dict[str, str], bind: str = "127.0.0.1"):
        self.server = _Server((bind, 0), _Handler)
        self.server.host_map = dict(host_map)
        self.port = self.server.server_address[1]
        self.url = f"http://{bind}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="connect-proxy", daemon=True)

    def __enter__(self) -> "ConnectProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
