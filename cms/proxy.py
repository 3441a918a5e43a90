"""The client's address behind the reverse proxy (nginx in production, deploy/nginx).

Behind a proxy every request comes from the proxy's address: counted as one client, five
strangers' failed logins would lock everybody out (django-axes counts per address), one bad
API token would throttle every token user, and the security log would name the proxy for
every event. The proxy reports the client in ``X-Forwarded-For``; that header is believed
only from the proxies named in ``CMS_TRUSTED_PROXIES`` (anyone else could write it), and
only as far as trusted hops reach: nginx appends the address it saw, so the rightmost
address that is not a trusted proxy is the client, whatever a client wrote further left.
"""

import functools
import ipaddress
from collections.abc import Sequence

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _trusted(values: tuple[str, ...]) -> list[Network]:
    return parse_networks(values)


def parse_networks(values: Sequence[str]) -> list[Network]:
    """Addresses or networks (``127.0.0.1``, ``10.0.0.0/8``, ``::1``); raises ValueError
    naming a value that is neither."""
    networks = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(f"CMS_TRUSTED_PROXIES 中的 {value!r} 不是 IP 地址或网段") from None
    return networks


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_address(*, remote_addr: str, forwarded_for: str,
                   trusted: Sequence[Network]) -> str:
    """The client's address: ``remote_addr`` unless it is a trusted proxy, in which case the
    rightmost address of ``forwarded_for`` that is not a trusted proxy (the last hop a
    trusted proxy vouches for, when an entry cannot be read)."""
    def is_trusted(address) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not is_trusted(_address(remote_addr)):
        return remote_addr
    client = remote_addr
    for entry in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        address = _address(entry)
        if address is None:
            break
        client = str(address)
        if not is_trusted(address):
            break
    return client


class TrustedProxyMiddleware:
    """First of all middleware: ``REMOTE_ADDR`` becomes the client's address, for every
    component that reads it (axes, the API token throttle, the security log). The proxy's
    own address stays in ``request.META["cms.proxy_addr"]``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        trusted = _trusted(tuple(getattr(settings, "CMS_TRUSTED_PROXIES", ())))
        remote = request.META.get("REMOTE_ADDR", "")
        if trusted:
            client = client_address(remote_addr=remote,
                                    forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
                                    trusted=trusted)
            if client != remote:
                request.META["cms.proxy_addr"] = remote
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)
