"""The guide's error table (§6.1): a refused connection, a name that does not resolve and a
certificate that does not verify each get their own message, for both peers."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync_engine.clients.apex import ApexClient
from sync_engine.clients.tracker import TrackerClient
from sync_engine.errors import PeerError


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def untrusted_https(tmp_path: Path) -> Iterator[str]:
    """A TLS server on loopback whose certificate nobody trusts (self-signed)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed(tmp_path))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            try:  # the client gives up during the handshake
                context.wrap_socket(connection, server_side=True).close()
            except (ssl.SSLError, OSError):
                connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://127.0.0.1:{port}"
    listener.close()


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _tracker_error(base_url: str) -> str:
    async def call() -> str:
        async with httpx.AsyncClient() as http:
            with pytest.raises(PeerError) as failed:
                await TrackerClient(http, base_url, "key").overview()
            return str(failed.value)

    return asyncio.run(call())


def _apex_error(base_url: str) -> str:
    async def call() -> str:
        async with httpx.AsyncClient() as http:
            client = ApexClient(http, base_url, "token", attempts=1)
            with pytest.raises(PeerError) as failed:
                await client.welcome()
            return str(failed.value)

    return asyncio.run(call())


def test_each_connection_failure_says_what_it_is(untrusted_https: str) -> None:
    """Refused, DNS and SSL failures are told apart, with the fix, for the tracker and Apex."""
    refused, unknown = _closed_port(), "http://no-such-host.invalid"
    assert "(connection refused): is it running?" in _tracker_error(refused)
    assert "Cannot find PreRollTracker's server 'no-such-host.invalid' (DNS lookup failed)" in (
        _tracker_error(unknown)
    )
    ssl_message = _tracker_error(untrusted_https)
    assert ssl_message.startswith("SSL error talking to PreRollTracker at https://127.0.0.1:")
    assert "certificate" in ssl_message
    assert "refused the connection" in _apex_error(refused)
    assert "(DNS lookup failed)" in _apex_error(unknown)
    assert _apex_error(untrusted_https).startswith("SSL error talking to Apex Trading")
