"""The proxy's certificate authority: made per run, its key only in this process's memory.

Its certificate is a critical CA with path length 0 whose name constraints permit exactly the
hosts this run intercepts, so even a leaked key could not sign for any other site. Leaves are
minted per host on first use, all with one key, and cached for the run.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import ssl
import tempfile
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from authsome.proxy.router import is_ip, split_host

LIFETIME = datetime.timedelta(days=30)
NO_DNS = "authsome.invalid"  # permitted when only IP hosts are intercepted: no real DNS name
ALPN = ["http/1.1"]  # h11 speaks HTTP/1.1 only; a client offering h2 falls back


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _constraints(patterns) -> x509.NameConstraints:
    dns: list[x509.GeneralName] = []
    ips: list[x509.GeneralName] = []
    for pattern in patterns:
        host, _ = split_host(pattern)
        if is_ip(host):
            ips.append(x509.IPAddress(ipaddress.ip_network(host)))
        else:
            dns.append(x509.DNSName(host.removeprefix("*.")))
    excluded = None
    if not ips:
        nets = ("0.0.0.0/0", "::/0")
        excluded = [x509.IPAddress(ipaddress.ip_network(n)) for n in nets]
    return x509.NameConstraints(
        permitted_subtrees=(dns or [x509.DNSName(NO_DNS)]) + ips, excluded_subtrees=excluded
    )


def _san(host: str) -> x509.GeneralName:
    if is_ip(host):
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    return x509.DNSName(host)


@contextlib.contextmanager
def _in_memory(data: bytes):
    """A path that reads as `data`, for ssl's file-only loaders: a memfd where there is one."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("authsome-leaf")
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    fd, path = tempfile.mkstemp(prefix="authsome-leaf-")  # 0600, removed at once
    try:
        os.write(fd, data)
        os.close(fd)
        yield path
    finally:
        os.unlink(path)


class Authority:
    """A CA for `patterns` (the intercepted hosts) and the TLS server contexts it signs."""

    def __init__(self, patterns, clock=None):
        now = clock() if clock else datetime.datetime.now(datetime.UTC)
        self._now = now
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        public = self._key.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("authsome proxy CA (this run only)"))
            .issuer_name(_name("authsome proxy CA (this run only)"))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .add_extension(_constraints(patterns), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )
        self.certificate = builder.sign(self._key, hashes.SHA256())
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def leaf(self, host: str) -> x509.Certificate:
        """A certificate for `host`, signed by this CA."""
        public = self._leaf_key.public_key()
        ca_public = self._key.public_key()
        return (
            x509.CertificateBuilder()
            # No subject: GnuTLS (git, on Debian) checks a leaf's common name against the name
            # constraints as a host name, so the host is named in the critical SAN alone.
            .subject_name(x509.Name([]))
            .issuer_name(self.certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._now - datetime.timedelta(hours=1))
            .not_valid_after(self._now + LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.SubjectAlternativeName([_san(host)]), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )

    def context_for(self, host: str) -> ssl.SSLContext:
        """The server-side TLS context that presents `host`'s leaf; made once per host."""
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                context = self._contexts[host] = self._make_context(host)
            return context

    def _make_context(self, host: str) -> ssl.SSLContext:
        pem = serialization.Encoding.PEM
        chain = self.leaf(host).public_bytes(pem) + self.pem()
        key = self._leaf_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(ALPN)
        with _in_memory(chain) as cert_path, _in_memory(key) as key_path:
            context.load_cert_chain(cert_path, key_path)
        return context


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
