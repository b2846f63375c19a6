"""Test certificates made with python3-cryptography: a test CA, leaves it
signs (valid, expired, about to expire, for the wrong name) and self-signed
ones. Files are PEM; keys 0600."""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class TestCA:
    """A CA in dir: ca.pem (the file to trust) and leaves named NAME.crt/.key."""

    __test__ = False    # not a pytest test class

    def __init__(self, dir, cn="hikyaku test CA"):
        self.dir = str(dir)
        os.makedirs(self.dir, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (x509.CertificateBuilder()
                     .subject_name(_name(cn)).issuer_name(_name(cn))
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(NOW - DAY).not_valid_after(NOW + 3650 * DAY)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                     .sign(self.key, hashes.SHA256()))
        self.path = os.path.join(self.dir, "ca.pem")
        _write(self.path, self.cert.public_bytes(serialization.Encoding.PEM))

    def leaf(self, name, dns=("localhost",), ips=(), not_before=None, not_after=None,
             self_signed=False):
        """(cert path, key path) for a server certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i))
                                                  for i in ips]
        subject = _name(dns[0] if dns else name)
        b = (x509.CertificateBuilder()
             .subject_name(subject)
             .issuer_name(subject if self_signed else self.cert.subject)
             .public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(not_before or NOW - DAY)
             .not_valid_after(not_after or NOW + 90 * DAY))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), False)
        cert = b.sign(key if self_signed else self.key, hashes.SHA256())
        crt, kp = os.path.join(self.dir, name + ".crt"), os.path.join(self.dir, name + ".key")
        _write(crt, cert.public_bytes(serialization.Encoding.PEM))
        _write(kp, _key_pem(key), 0o600)
        return crt, kp
