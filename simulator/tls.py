"""A self-signed certificate made at start, as gateways serve HTTPS with one."""

from datetime import UTC, datetime, timedelta
import ipaddress
from pathlib import Path
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed_context(common_name: str, hosts: list[str]) -> ssl.SSLContext:
    """Return a server TLS context with a fresh self-signed certificate.

    ``hosts`` (addresses or names) go into the subject alternative names, so a
    client that chooses to verify against this certificate can.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    alternatives: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alternatives.append(x509.DNSName(host))
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
    )
    if alternatives:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(alternatives), critical=False
        )
    certificate = builder.sign(key, hashes.SHA256())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # ssl only loads certificates from files; they live just long enough for that.
    with tempfile.TemporaryDirectory() as folder:
        cert_file = Path(folder) / "cert.pem"
        key_file = Path(folder) / "key.pem"
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context.load_cert_chain(cert_file, key_file)
    return context
