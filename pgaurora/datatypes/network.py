"""inet and cidr: IPv4 / IPv6 host addresses with an optional netmask, and networks.

A value is an Inet: an address (ipaddress) with a prefix length and whether it is a cidr (whose
bits right of the mask are zero). Text forms as PostgreSQL's inet_out / cidr_out ("10.1.2.3",
"10.1.2.3/16", a cidr always with its length), the binary form of inet_send (family, bits,
is_cidr, length, address bytes), and PostgreSQL's order (network_cmp: the common prefix, then
the mask length, then the whole address).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pgaurora.errors import InvalidTextRepresentation

_PGSQL_AF_INET = 2
_PGSQL_AF_INET6 = 3


class Inet:
    __slots__ = ("address", "prefix", "is_cidr")

    def __init__(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int, is_cidr: bool) -> None:
        self.address = address
        self.prefix = prefix
        self.is_cidr = is_cidr

    @property
    def max_prefix(self) -> int:
        return self.address.max_prefixlen

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network((self.address, self.prefix), strict=False)

    def key(self) -> tuple[int, int, int, int]:
        """network_cmp's order as a key: family, network bits, mask length, whole address."""
        return (self.address.version, int(self.network.network_address), self.prefix, int(self.address))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Inet) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __lt__(self, other: Inet) -> bool:
        return self.key() < other.key()

    def __le__(self, other: Inet) -> bool:
        return self.key() <= other.key()

    def __gt__(self, other: Inet) -> bool:
        return self.key() > other.key()

    def __ge__(self, other: Inet) -> bool:
        return self.key() >= other.key()

    def __repr__(self) -> str:
        return f"Inet({format_inet(self)!r}, cidr={self.is_cidr})"


def parse_inet(text: str) -> Inet:
    return _parse(text, False)


def parse_cidr(text: str) -> Inet:
    return _parse(text, True)


def _parse(text: str, cidr: bool) -> Inet:
    kind = "cidr" if cidr else "inet"
    raw = text.strip()
    address_text, _, bits_text = raw.partition("/")
    try:
        if cidr and ":" not in address_text and address_text.count(".") < 3 and address_text:
            address_text, default_bits = _classful(address_text)
            bits_text = bits_text or str(default_bits)
        address = ipaddress.ip_address(address_text)
        prefix = int(bits_text) if bits_text else address.max_prefixlen
        if not 0 <= prefix <= address.max_prefixlen or (bits_text and not bits_text.isdigit()):
            raise ValueError
    except ValueError:
        raise InvalidTextRepresentation(f'invalid input syntax for type {kind}: "{text}"') from None
    value = Inet(address, prefix, cidr)
    if cidr and int(address) != int(value.network.network_address):
        raise InvalidTextRepresentation(f'invalid cidr value: "{text}"',
                                        detail="Value has bits set to right of mask.")
    return value


def _classful(text: str) -> tuple[str, int]:
    """A cidr written with fewer than four octets ("10", "172.16"): the rest zero, the mask the
    octets written (PostgreSQL's classful default)."""
    octets = text.split(".")
    if not all(o.isdigit() for o in octets):
        raise ValueError
    bits = 8 * len(octets)
    first = int(octets[0])
    if len(octets) == 1:  # classful network sizes for a lone first octet
        bits = 32 if first >= 240 else 24 if first >= 192 else 16 if first >= 128 else 8
    return ".".join(octets + ["0"] * (4 - len(octets))), bits


def address_text(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """An address as PostgreSQL's inet_net_ntop writes it: IPv6 compressed, an IPv4-mapped
    (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) one with its IPv4 part dotted."""
    if address.version == 4:
        return str(address)
    value = int(address)
    words = [(value >> (16 * (7 - i))) & 0xFFFF for i in range(8)]
    if not any(words[:5]) and (words[5] == 0xFFFF or (words[5] == 0 and words[6] != 0)):
        tail = str(ipaddress.IPv4Address(value & 0xFFFFFFFF))
        return ("::ffff:" if words[5] == 0xFFFF else "::") + tail
    return address.compressed


def format_inet(value: Inet) -> str:
    """inet_out (cidr_out for a cidr: the length always shown)."""
    if value.is_cidr or value.prefix != value.max_prefix:
        return f"{address_text(value.address)}/{value.prefix}"
    return address_text(value.address)


def show(value: Inet) -> str:
    """text(inet): the address with its mask length always."""
    return f"{address_text(value.address)}/{value.prefix}"


def inet_send(value: Inet) -> bytes:
    packed = value.address.packed
    family = _PGSQL_AF_INET if value.address.version == 4 else _PGSQL_AF_INET6
    return bytes([family, value.prefix, 1 if value.is_cidr else 0, len(packed)]) + packed


def inet_recv(data: bytes | memoryview, cidr: bool = False) -> Inet:
    family, bits, _is_cidr, length = data[0], data[1], data[2], data[3]
    raw = bytes(data[4:4 + length])
    if family not in (_PGSQL_AF_INET, _PGSQL_AF_INET6) or len(raw) != (4 if family == _PGSQL_AF_INET else 16):
        raise InvalidTextRepresentation(f'invalid address family in external "{"cidr" if cidr else "inet"}" value')
    address = ipaddress.ip_address(raw)
    if bits > address.max_prefixlen:
        raise InvalidTextRepresentation(f'invalid bits in external "{"cidr" if cidr else "inet"}" value')
    return Inet(address, bits, cidr)


def to_cidr(value: Inet) -> Inet:
    """cidr(inet): the network (host bits cleared)."""
    return Inet(value.network.network_address, value.prefix, True)


def to_inet(value: Inet) -> Inet:
    return Inet(value.address, value.prefix, False)


def pack(value: Inet) -> tuple[Any, ...]:
    """The stored form (access.rowcodec)."""
    return (value.address.packed, value.prefix, value.is_cidr)


def unpack(packed: bytes, prefix: int, is_cidr: bool) -> Inet:
    return Inet(ipaddress.ip_address(packed), prefix, is_cidr)
