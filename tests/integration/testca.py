"""A test certificate authority and server certificates for the outbound
TLS tests (python3-cryptography; nothing touches the system's trust store).

    ca = TestCA(dir)                    # ca.pem: what `tls-ca-file` names
    cert, key = ca.leaf("mx.sts.example")                  # CA-signed, SAN = name
    cert, key = ca.leaf("mx.x.example", names=["other.example"])   # wrong name
    cert, key = ca.leaf("mx.x.example", expired=True)
    cert, key = ca.leaf("mx.x.example", self_signed=True)
    ctx = ca.server_context(cert, key)  # an ssl.SSLContext for a test server
    spki_sha256(cert)                   # hex digest for TLSA x 1 1 records

Leaf certificate files hold the chain (leaf, then the CA) as servers send it,
so DANE-TA(2) records can match the CA.
"""
import datetime
import hashlib
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(path, 0o600)


def spki_sha256(certfile):
    """SHA-256 of the first certificate's SubjectPublicKeyInfo (TLSA x 1 1)."""
    with open(certfile, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


class TestCA:
    __test__ = False    # not a pytest test class

    def __init__(self, dir, cn="hikyaku test CA"):
        self.dir = str(dir)
        os.makedirs(self.dir, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.utcnow()
        self.cert = (x509.CertificateBuilder()
                     .subject_name(_name(cn)).issuer_name(_name(cn))
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                  False, False), True)
                     .sign(self.key, hashes.SHA256()))
        self.pem = os.path.join(self.dir, "ca.pem")
        self.ca_pem_bytes = self.cert.public_bytes(serialization.Encoding.PEM)
        with open(self.pem, "wb") as f:
            f.write(self.ca_pem_bytes)
        self.count = 0

    def leaf(self, host, names=None, expired=False, self_signed=False):
        """(certfile, keyfile) for host; names are its DNS SANs (default [host])."""
        self.count += 1
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.utcnow()
        if expired:
            start, end = now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)
        else:
            start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
        sans = [x509.DNSName(n) for n in (names if names is not None else [host])]
        issuer, signer = (_name(host), key) if self_signed else (self.cert.subject, self.key)
        b = (x509.CertificateBuilder()
             .subject_name(_name(names[0] if names else host)).issuer_name(issuer)
             .public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(start).not_valid_after(end)
             .add_extension(x509.SubjectAlternativeName(sans), False)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
             .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                            False))
        cert = b.sign(signer, hashes.SHA256())
        base = os.path.join(self.dir, "leaf%d-%s" % (self.count, host))
        certfile, keyfile = base + ".crt", base + ".key"
        with open(certfile, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
            if not self_signed:
                f.write(self.ca_pem_bytes)
        _write_key(keyfile, key)
        return certfile, keyfile

    @staticmethod
    def server_context(certfile, keyfile):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        return ctx

    def context_for(self, host, **kw):
        return self.server_context(*self.leaf(host, **kw))
