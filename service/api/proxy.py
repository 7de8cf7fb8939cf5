"""The real client behind a reverse proxy, for the lockout and the access log.

`X-Forwarded-For` is honoured only when the connection comes from a trusted proxy (ISNAD_TRUSTED_PROXIES:
addresses or networks, comma-separated): anyone else could write any address there and dodge the lockout.
The header is read from the right, skipping trusted proxies; the first other address is the client. With no
trusted proxies, the connection's address is the client, as before.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, value: str) -> TrustedProxies:
        """"10.0.0.1, 192.168.0.0/24" -> the networks; raises ValueError naming a bad entry."""
        networks = []
        for part in (p.strip() for p in value.split(",")):
            if part:
                try:
                    networks.append(ipaddress.ip_network(part, strict=False))
                except ValueError as exc:
                    raise ValueError(f"trusted_proxies: {part!r} is not an IP address or network") from exc
        return cls(tuple(networks))

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def client_of(self, scope: Scope) -> str:
        peer = (scope.get("client") or ("?", 0))[0]
        if not self.networks or not self.trusts(peer):
            return str(peer)
        forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
        hops = [h.strip() for line in forwarded for h in line.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else str(peer)
