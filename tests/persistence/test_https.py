"""``https=True`` and ``paysim serve --https``: TLS with a CA made at start."""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import socket
import ssl
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from pytest_paysim import PaysimServer
from pytest_paysim.tls import VALID_DAYS, make_certificates


def plain_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no REQUESTS_CA_BUNDLE from the environment
    return session


def handshake(port: int, ca_file: str, server_hostname: str) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=ca_file)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        peer: dict[str, Any] = tls.getpeercert()  # type: ignore[assignment]
        return peer


def test_the_server_is_trusted_through_its_ca_file_only(tmp_path: Path) -> None:
    with PaysimServer(https=True, cert_dir=tmp_path / "certs") as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert server.ca_file == str(tmp_path / "certs" / "ca.pem")
        with plain_session() as session:
            health = session.get(server.url + "/health", verify=server.ca_file, timeout=5)
            assert health.status_code == 200
            assert health.json()["status"] == "ok"
            with pytest.raises(requests.exceptions.SSLError):
                session.get(server.url + "/health", timeout=5)
        created = server.client.post("/v1/payments", json={"amount": 100, "currency": "eur"})
        assert created.status_code == 201
        assert created.json()["payment_url"].startswith(server.url + "/pay/")


@pytest.mark.parametrize(
    ("name", "trusted"),
    [
        pytest.param("127.0.0.1", True, id="ip"),
        pytest.param("localhost", True, id="localhost"),
        pytest.param("example.com", False, id="another-name"),
    ],
)
def test_the_certificate_names_localhost_and_the_loopback_addresses(
    name: str, trusted: bool
) -> None:
    with PaysimServer(https=True) as server:
        assert server.ca_file is not None
        try:
            if trusted:
                assert handshake(server.port, server.ca_file, name)["subjectAltName"]
            else:
                with pytest.raises(ssl.SSLCertVerificationError, match="match"):
                    handshake(server.port, server.ca_file, name)
        finally:
            shutil.rmtree(Path(server.ca_file).parent)


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_the_ipv6_loopback_is_served_too(tmp_path: Path) -> None:
    with PaysimServer(host="::1", https=True, cert_dir=tmp_path) as server, plain_session() as s:
        assert server.url.startswith("https://[::1]:")
        assert s.get(server.url + "/health", verify=server.ca_file, timeout=5).status_code == 200


def test_make_certificates_writes_a_ca_and_a_server_certificate_it_signed(tmp_path: Path) -> None:
    files = make_certificates(tmp_path / "new" / "dir")
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    cert = x509.load_pem_x509_certificate(files.cert_file.read_bytes())

    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True
    assert ca.subject == ca.issuer
    cert.verify_directly_issued_by(ca)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]

    now = datetime.datetime.now(datetime.timezone.utc)
    for made in (ca, cert):
        assert made.not_valid_before_utc < now - datetime.timedelta(hours=23)
        assert made.not_valid_after_utc > now + datetime.timedelta(days=VALID_DAYS - 1)
        assert made.not_valid_after_utc < now + datetime.timedelta(days=VALID_DAYS + 1)
        public_key = made.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        assert public_key.curve.name == "secp256r1"

    assert files.key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(files.key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in files.ca_file.parent.iterdir()) == [
        "ca.pem",
        "server-key.pem",
        "server.pem",
    ], "the CA's private key must not be written"


def test_without_a_directory_the_files_go_to_a_new_temporary_one() -> None:
    first, second = make_certificates(None), make_certificates(None)
    try:
        assert first.ca_file.parent != second.ca_file.parent
        assert first.ca_file.read_bytes() != second.ca_file.read_bytes()
    finally:
        shutil.rmtree(first.ca_file.parent)
        shutil.rmtree(second.ca_file.parent)


def test_paysim_serve_https_prints_its_ca_file(tmp_path: Path, serve: Callable[..., Any]) -> None:
    process = serve("--https")
    ca_file = process.banner["ca file"]
    assert process.url.startswith("https://")
    try:
        with plain_session() as session:
            health = session.get(process.url + "/health", verify=ca_file, timeout=5)
        assert health.json()["status"] == "ok"
    finally:
        process.kill()
        shutil.rmtree(Path(ca_file).parent)
