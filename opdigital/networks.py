"""What per-address limits count: an IPv4 address, or the IPv6 network that holds an address.

An IPv6 home connection or phone gets a whole network (usually a /64) and may pick any address
in it, so counting IPv6 clients per address would give one person billions of allowances. Every
per-address limit (Flask-Limiter's and our own attempt limits) counts the network instead, of
`IPV6_PREFIX_LENGTH` bits (64 by default). An IPv4-mapped IPv6 address counts as its IPv4
address.
"""

from __future__ import annotations

import functools
import ipaddress

from flask import current_app, request


@functools.lru_cache(maxsize=4096)
def address_group(address: str, ipv6_prefix: int = 64) -> str:
    """The identity an address is counted under: itself (IPv4), or its IPv6 network."""
    if ":" not in address:
        return address  # IPv4, or something a proxy sent that is no address: counted as given
    try:
        parsed = ipaddress.IPv6Address(address.split("%", 1)[0])  # a zone index is no network
    except ValueError:
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    prefix = min(max(ipv6_prefix, 1), 128)
    return str(ipaddress.IPv6Network((parsed, prefix), strict=False))


def client_group() -> str:
    """The current request's client, as per-address limits count it (Flask-Limiter's key)."""
    return address_group(request.remote_addr or "", current_app.config["IPV6_PREFIX_LENGTH"])
