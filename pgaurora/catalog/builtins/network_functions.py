"""inet / cidr operators and functions (PostgreSQL's network.c): containment (<< <<= >> >>= &&),
host, masklen, set_masklen, netmask, hostmask, network, broadcast, family, abbrev, text,
inet_same_family, inet_merge, and address arithmetic (+ - ~ & |)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from pgaurora.catalog.builtins.registry import function, operator
from pgaurora.datatypes import network
from pgaurora.datatypes import typeinfo as t
from pgaurora.datatypes.network import Inet
from pgaurora.errors import InvalidParameterValue, NumericValueOutOfRange

INET, CIDR, B, I4, I8, T = t.INET_OID, t.CIDR_OID, t.BOOL_OID, t.INT4_OID, t.INT8_OID, t.TEXT_OID


def _within(inner: Inet, outer: Inet, strict: bool) -> bool:
    if inner.address.version != outer.address.version:
        return False
    if inner.prefix < outer.prefix or (strict and inner.prefix == outer.prefix):
        return False
    return inner.network.subnet_of(outer.network)  # type: ignore[arg-type]


def _overlaps(a: Inet, b: Inet) -> bool:
    return a.address.version == b.address.version and a.network.overlaps(b.network)  # type: ignore[arg-type]


def _mask(value: Inet, prefix: int, host: bool) -> Inet:
    net = ipaddress.ip_network((0, prefix) if value.address.version == 4 else ("::", prefix))
    mask = net.hostmask if host else net.netmask
    return Inet(mask, value.max_prefix, False)


def set_masklen(value: Inet, length: int) -> Inet:
    if length == -1:
        length = value.max_prefix
    if not 0 <= length <= value.max_prefix:
        raise InvalidParameterValue(f"invalid mask length: {length}")
    result = Inet(value.address, length, value.is_cidr)
    return network.to_cidr(result) if value.is_cidr else result


def broadcast(value: Inet) -> Inet:
    return Inet(value.network.broadcast_address, value.prefix, False)


def abbrev(value: Inet) -> str:
    """abbrev(inet): the address, its length only when not a host's; abbrev(cidr): the network
    with trailing zero octets dropped (IPv4)."""
    if not value.is_cidr:
        return network.format_inet(value)
    if value.address.version == 4:
        octets = str(value.address).split(".")
        keep = max(1, -(-value.prefix // 8))
        return ".".join(octets[:keep]) + f"/{value.prefix}"
    return network.format_inet(value)


def inet_merge(a: Inet, b: Inet) -> Inet:
    if a.address.version != b.address.version:
        raise InvalidParameterValue("cannot merge addresses from different families")
    prefix = min(a.prefix, b.prefix)
    while prefix > 0 and not ipaddress.ip_network((a.address, prefix), strict=False).overlaps(
            ipaddress.ip_network((b.address, prefix), strict=False)):
        prefix -= 1
    return network.to_cidr(Inet(a.address, prefix, True))


def _add(value: Inet, n: int) -> Inet:
    try:
        address = value.address + n
    except (ipaddress.AddressValueError, ValueError):
        raise NumericValueOutOfRange("result is out of range") from None
    return Inet(address, value.prefix, value.is_cidr)


def _minus(a: Inet, b: Inet) -> int:
    if a.address.version != b.address.version:
        raise InvalidParameterValue("cannot subtract inet values of different sizes")
    return int(a.address) - int(b.address)


def _bitwise(op: str) -> Callable[[Inet, Inet], Inet]:
    def apply(a: Inet, b: Inet) -> Inet:
        if a.address.version != b.address.version:
            raise InvalidParameterValue(f"cannot {'AND' if op == '&' else 'OR'} inet values of different sizes")
        value = int(a.address) & int(b.address) if op == "&" else int(a.address) | int(b.address)
        return Inet(ipaddress.ip_address(value) if a.address.version == 4 else ipaddress.IPv6Address(value),
                    a.prefix, False)
    return apply


def _not(a: Inet) -> Inet:
    full = (1 << a.max_prefix) - 1
    value = full ^ int(a.address)
    return Inet(ipaddress.IPv4Address(value) if a.address.version == 4 else ipaddress.IPv6Address(value),
                a.prefix, False)


def _register() -> None:
    for left in (INET,):
        operator("<<", left, INET, B, lambda a, b: _within(a, b, True))
        operator("<<=", left, INET, B, lambda a, b: _within(a, b, False))
        operator(">>", left, INET, B, lambda a, b: _within(b, a, True))
        operator(">>=", left, INET, B, lambda a, b: _within(b, a, False))
        operator("&&", left, INET, B, _overlaps)
    operator("+", INET, I8, INET, _add)
    operator("+", I8, INET, INET, lambda n, a: _add(a, n))
    operator("-", INET, I8, INET, lambda a, n: _add(a, -n))
    operator("-", INET, INET, I8, _minus)
    operator("&", INET, INET, INET, _bitwise("&"))
    operator("|", INET, INET, INET, _bitwise("|"))
    operator("~", None, INET, INET, _not)
    function("host", (INET,), T, lambda v: network.address_text(v.address))
    function("masklen", (INET,), I4, lambda v: v.prefix)
    function("set_masklen", (INET, I4), INET, set_masklen)
    function("set_masklen", (CIDR, I4), CIDR, set_masklen)
    function("netmask", (INET,), INET, lambda v: _mask(v, v.prefix, False))
    function("hostmask", (INET,), INET, lambda v: _mask(v, v.prefix, True))
    function("network", (INET,), CIDR, network.to_cidr)
    function("broadcast", (INET,), INET, broadcast)
    function("family", (INET,), I4, lambda v: v.address.version)
    function("abbrev", (INET,), T, lambda v: abbrev(network.to_inet(v)))
    function("abbrev", (CIDR,), T, abbrev)
    function("text", (INET,), T, network.show)
    function("inet_same_family", (INET, INET), B, lambda a, b: a.address.version == b.address.version)
    function("inet_merge", (INET, INET), CIDR, inet_merge)


_register()
