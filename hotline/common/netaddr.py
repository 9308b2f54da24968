"""The client's address by the proxy rule.

`X-Forwarded-For` is written by whoever sent the request, so it is believed only as far as it was appended by
proxies we run: starting from the socket's peer (`REMOTE_ADDR`) and walking the header from right to left, every
hop that is a configured trusted proxy (`HOTLINE_TRUSTED_PROXIES`, CIDRs; none by default) is skipped and the first
address that is not one is the client. Anything that is not an IP address is never returned.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def trusted_networks() -> tuple[IPNetwork, ...]:
    return _networks(tuple(getattr(settings, "HOTLINE_TRUSTED_PROXIES", ())))


def parse_ip(value: str | None) -> IPAddress | None:
    """An IP address from a header or socket value (a port or IPv6 brackets allowed), or None."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51000
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_address(meta: Mapping[str, Any]) -> str | None:
    """The client address of a request's META by the proxy rule, normalised; None when unknown."""
    peer = parse_ip(meta.get("REMOTE_ADDR"))
    if peer is None:
        return None
    networks = trusted_networks()
    if not networks or not is_trusted(peer, networks):
        return str(peer)
    client = peer
    for hop in reversed(str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")):
        address = parse_ip(hop)
        if address is None:
            # A trusted proxy never writes garbage: the entry came from beyond it. The last trusted hop is the
            # closest thing to the client we can vouch for.
            break
        client = address
        if not is_trusted(address, networks):
            break
    return str(client)


def request_client_ip(request: Any) -> str | None:
    """The client address of a request (set once by RequestContextMiddleware; computed if it did not run)."""
    cached = getattr(request, "client_ip", None)
    if cached is not None:
        return str(cached)
    meta = getattr(request, "META", None)
    return client_address(meta) if meta is not None else None
