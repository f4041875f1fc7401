"""The address of the client behind a call: the peer, or the one the gateway forwards for the client it serves.

The gateway sends the client's address in `x-elearn-client-address` with its own identity token in
`x-elearn-gateway-token` (the client's `authorization` travels on untouched, so the call still acts as the
client). A service believes the address only when that token verifies as the gateway's; from anyone else the
header is ignored and the peer is the address, so nobody picks the address their failed sign-ins count against.
"""
from __future__ import annotations

import contextvars
from typing import Any

from shared.auth.tokens import InvalidToken, Verifier

ADDRESS_HEADER = "x-elearn-client-address"
PROOF_HEADER = "x-elearn-gateway-token"
GATEWAY = "gateway"
MAX_LENGTH = 100

_forwarded: contextvars.ContextVar[str] = contextvars.ContextVar("client_address", default="")


def peer_host(peer: str) -> str:
    """The peer's address without its port (a new connection must not start a new count)."""
    return peer.rsplit(":", 1)[0] if peer.count(":") > 1 else peer


def forwarded_by_gateway(verifier: Verifier, metadata: Any) -> str:
    """The address the gateway forwards in `metadata`, or "" when the call does not prove it is the gateway's."""
    found = {k: v for k, v in metadata or () if k in (ADDRESS_HEADER, PROOF_HEADER) and isinstance(v, str)}
    address, proof = found.get(ADDRESS_HEADER, "").strip(), found.get(PROOF_HEADER, "")
    if not address or not proof:
        return ""
    try:
        caller = verifier.verify(proof)
    except InvalidToken:
        return ""
    return address[:MAX_LENGTH] if caller.kind == "service" and caller.service_name == GATEWAY else ""


def set_forwarded(address: str) -> contextvars.Token[str]:
    return _forwarded.set(address)


def reset_forwarded(token: contextvars.Token[str]) -> None:
    _forwarded.reset(token)


def of(peer: str) -> str:
    """The client's address in the current call: the gateway's forwarded one if proven, else `peer`'s host."""
    return _forwarded.get() or peer_host(peer)


def gateway_headers(client_peer: str, proof: str) -> tuple[tuple[str, str], ...]:
    """What the gateway adds to each forwarded call (after dropping any the client sent)."""
    return ((ADDRESS_HEADER, peer_host(client_peer)), (PROOF_HEADER, proof))
