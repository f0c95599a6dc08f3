"""HOST_MAP sends chosen host:port pairs elsewhere and leaves every other name to DNS."""

from twisted.internet.address import IPv4Address

from crawler.network.hostmap import HostMapResolver, parse_host_map


class Receiver:
    def __init__(self):
        self.addresses, self.began, self.done = [], False, False

    def resolutionBegan(self, resolution):
        self.began = True

    def addressResolved(self, address):
        self.addresses.append(address)

    def resolutionComplete(self):
        self.done = True


class Fallback:
    def __init__(self):
        self.asked = []

    def resolveHostName(self, receiver, host, port=0, *args):
        self.asked.append((host, port))
        return None


def test_json_text_and_dicts_parse_alike():
    as_text = parse_host_map('{"www.spacewar.com:443": "127.0.0.1:8443", "spacewar.com": "127.0.0.2"}')
    assert as_text == parse_host_map({"WWW.SpaceWar.com:443": "127.0.0.1:8443", "spacewar.com": "127.0.0.2"})
    assert as_text[("www.spacewar.com", 443)] == ("127.0.0.1", 8443)
    assert as_text[("spacewar.com", None)] == ("127.0.0.2", None)


def test_mapped_host_and_port_resolve_to_the_target_and_others_fall_back():
    fallback = Fallback()
    resolver = HostMapResolver(None, {"www.spacewar.com:443": "127.0.0.1:8443",
                                      "spacewar.com": "127.0.0.2"}, fallback=fallback)
    r = Receiver()
    resolver.resolveHostName(r, "www.spacewar.com", 443)
    assert r.began and r.done and r.addresses == [IPv4Address("TCP", "127.0.0.1", 8443)]
    r = Receiver()
    resolver.resolveHostName(r, "spacewar.com", 80)  # no port in the key: any port, port kept
    assert r.addresses == [IPv4Address("TCP", "127.0.0.2", 80)]
    resolver.resolveHostName(Receiver(), "www.spacewar.com", 80)  # port not mapped
    resolver.resolveHostName(Receiver(), "www.example.org", 443)
    assert fallback.asked == [("www.spacewar.com", 80), ("www.example.org", 443)]
