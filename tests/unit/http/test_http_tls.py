"""Every connector's HTTP client shares one TLS context, and it verifies servers as httpx's own would.

A real HTTPS server on localhost, with a certificate from a throwaway CA made here: the clients trust
it when ``SSL_CERT_FILE`` names that CA (as httpx's default context does), and refuse it otherwise.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors._http import ConnectorHttpClient, ConnectorUnavailableError, HttpClientConfig, RetryPolicy
from connectors._http._tls import shared_ssl_context

Key = ec.EllipticCurvePrivateKey


def _certificate(subject: str, issuer: x509.Name | None, key: Key, signer: Key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server answering ``{"ok": true}``; yields its URL and the file of the CA that signed it."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("profilesync test CA", None, ca_key, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _certificate("127.0.0.1", ca.subject, server_key, ca_key)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = tmp_path / "server.pem"
    chain.write_bytes(
        server_cert.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca_file
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def fresh_context() -> Iterator[None]:
    shared_ssl_context.cache_clear()
    yield
    shared_ssl_context.cache_clear()


def _client(base_url: str) -> ConnectorHttpClient:
    no_retry = RetryPolicy(max_attempts=1, sleep=lambda _: None)
    return ConnectorHttpClient(HttpClientConfig(connector="acme", base_url=base_url, retry=no_retry))


def test_clients_share_one_context_and_verify_the_server_against_ssl_cert_file(
    https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a server whose CA is the one SSL_CERT_FILE names
    url, ca_file = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    built: list[object] = []
    create = ssl.create_default_context

    def counted(*args: object, **kwargs: object) -> ssl.SSLContext:
        built.append(args or kwargs)
        return create(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", counted)
    # WHEN two connectors' clients call it
    first, second = _client(url), _client(url)
    try:
        # THEN both verify it and get the answer
        assert first.get_json("/") == {"ok": True}
        assert second.get_json("/") == {"ok": True}
        # AND the CA bundle was parsed once: one context serves both (httpx builds one per client)
        assert len(built) == 1
        [trusted] = shared_ssl_context().get_ca_certs()
        assert trusted["subject"] == ((("commonName", "profilesync test CA"),),)
        assert shared_ssl_context().verify_mode == ssl.CERT_REQUIRED
        assert shared_ssl_context().check_hostname is True
    finally:
        first.close()
        second.close()


def test_a_server_the_trusted_cas_did_not_sign_is_refused(
    https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the default trust (certifi's bundle), which does not hold the test CA
    url, _ = https_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    client = _client(url)
    try:
        # WHEN the client calls the server THEN the certificate is refused: nothing is read
        with pytest.raises(ConnectorUnavailableError) as refused:
            client.get_json("/")
        causes: list[BaseException] = []
        error: BaseException | None = refused.value
        while error is not None:
            causes.append(error)
            error = error.__cause__ or error.__context__
        assert any(isinstance(cause, ssl.SSLCertVerificationError) for cause in causes), causes
    finally:
        client.close()
