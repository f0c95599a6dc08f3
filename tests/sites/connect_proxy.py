"""A forwarding proxy on loopback (HTTP CONNECT, or SOCKS5) that sends each connection to the address a host map gives: tools without a host map reach the replica.

    with ConnectProxy(replica.host_map()) as proxy:
        wget -e use_proxy=yes -e https_proxy=http://127.0.0.1:{proxy.port} --no-check-certificate ...

GNU wget (and other archiving tools) resolve host names themselves and have no HOST_MAP: through
this proxy they ask for https://www.spacewar.com/... as on the real network, and write that URL in
their WARC files, while the bytes come from the replica. It understands CONNECT (the replica's
site is https; its http answers are redirects to https) and SOCKS5 with a host name (warcprox's
`--socks-proxy`: warcprox refuses an upstream whose address is 127.0.0.1, so bind this proxy to
127.0.0.2), tunnels the bytes both ways unchanged, and refuses a host the map does not name.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading


def _tunnel(client: socket.socket, upstream: socket.socket) -> None:
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


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            raise ConnectionError("closed")
        data += more
    return data


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client: socket.socket = self.request
        first = client.recv(1, socket.MSG_PEEK)
        if first == b"\x05":
            try:
                self._socks5(client)
            except (ConnectionError, OSError):
                pass
            return
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
        _tunnel(client, upstream)

    def _socks5(self, client: socket.socket) -> None:
        _, n = _recv(client, 2)
        _recv(client, n)  # the methods offered: "no authentication" is the answer
        client.sendall(b"\x05\x00")
        _, cmd, _, atyp = _recv(client, 4)
        if atyp == 3:
            host = _recv(client, _recv(client, 1)[0]).decode("ascii")
        elif atyp == 1:
            host = socket.inet_ntoa(_recv(client, 4))
        else:
            host = None
            _recv(client, 16)
        port = int.from_bytes(_recv(client, 2), "big")
        target = self.server.host_map.get(f"{host}:{port}") if cmd == 1 else None
        if target is None:
            client.sendall(b"\x05\x04\x00\x01" + bytes(6))  # host unreachable
            return
        address, mapped = target.rsplit(":", 1)
        upstream = socket.create_connection((address, int(mapped)), timeout=10)
        client.sendall(b"\x05\x00\x00\x01" + bytes(6))
        _tunnel(client, upstream)


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
