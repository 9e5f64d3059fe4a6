"""What went wrong when a peer could not be reached, in the guide's words (§6.1): a refused
connection, a name that does not resolve (DNS), or a certificate that does not verify (SSL)."""

from __future__ import annotations

import socket
import ssl
from typing import Literal

__all__ = ["ConnectProblem", "connect_problem"]

ConnectProblem = Literal["ssl", "dns", "refused", "other"]

_DNS_TEXTS = ("name or service not known", "nodename nor servname", "getaddrinfo failed",
              "temporary failure in name resolution", "no address associated")  # fmt: skip


def connect_problem(exc: BaseException) -> ConnectProblem:
    """Classify a connection failure by the errors it was raised from."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).lower()
        if isinstance(current, ssl.SSLError) or "certificate verify failed" in text:
            return "ssl"
        if isinstance(current, socket.gaierror) or any(t in text for t in _DNS_TEXTS):
            return "dns"
        if isinstance(current, ConnectionRefusedError) or "connection refused" in text:
            return "refused"
        current = current.__cause__ or current.__context__
    return "other"
