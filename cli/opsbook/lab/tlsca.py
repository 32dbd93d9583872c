"""The lab's certificate authority and the certificates it issues (``cryptography``, no openssl CLI).

The CA is made once per lab directory (its key 0600); leaf certificates are issued afresh at every
start so that "expires in 10 days" is true from the moment the lab serves it. Tests issue their own
certificates with the same functions.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .base import write_atomic

DAY = datetime.timedelta(days=1)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "opsbook lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _alt_names(names: list[str]) -> list[x509.GeneralName]:
    result = []
    for name in names:
        try:
            result.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            result.append(x509.DNSName(name))
    return result


def make_ca(common_name: str = "opsbook lab CA", days: int = 3650, path_length: int | None = 0, issuer=None):
    """A CA certificate (``(key, cert)``): self-signed, or an intermediate signed by ``issuer`` (``(key, cert)``)."""
    key = new_key()
    start = now() - DAY
    signer_key, signer_name = (issuer[0], issuer[1].subject) if issuer else (key, _name(common_name))
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(signer_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + days * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(signer_key, hashes.SHA256()))
    return key, cert


def issue(names: list[str], not_before: datetime.datetime, not_after: datetime.datetime, ca=None,
          common_name: str | None = None, san: bool = True):
    """A server certificate for ``names`` signed by ``ca`` (``(key, cert)``), or self-signed when ``ca`` is None.

    ``san=False`` leaves the subjectAltName out (the names then live only in the subject's CN).
    """
    key = new_key()
    subject = _name(common_name or names[0])
    issuer_key, issuer_name = (ca[0], ca[1].subject) if ca else (key, subject)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(_alt_names(names)), critical=False)
    if ca:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca[0].public_key()), critical=False)
    return key, builder.sign(issuer_key, hashes.SHA256())


def write_pair(directory: Path, stem: str, key, cert, extra: tuple = ()) -> tuple[Path, Path]:
    """``<stem>.key`` (0600) and ``<stem>.pem`` (the certificate, then ``extra`` certificates), atomically."""
    key_path, cert_path = directory / f"{stem}.key", directory / f"{stem}.pem"
    write_atomic(key_path, key_pem(key), mode=0o600)
    write_atomic(cert_path, "".join(cert_pem(c) for c in (cert, *extra)))
    return key_path, cert_path


def load_or_make_ca(directory: Path):
    """The CA of ``directory`` (``ca.key`` 0600, ``ca.pem``), made on first use."""
    key_path, cert_path = directory / "ca.key", directory / "ca.pem"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    key, cert = make_ca()
    write_pair(directory, "ca", key, cert)
    return key, cert
