#!/usr/bin/env python3
"""Regenerates the known-answer fixtures for azlite-token's unit tests.

Everything here is produced with Python's `cryptography` (OpenSSL), independently of the
Rust code under test. Run from this directory: `python3 generate.py`. The outputs are checked
in; regenerating changes keys, so the tests' expected values change with them.
"""
import base64
import datetime
import hashlib
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def self_signed(key, common_name, not_before, not_after):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x1234567890)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )


def write(path, data: bytes):
    with open(path, "wb") as f:
        f.write(data)


def jws(header: dict, claims: dict, sign) -> str:
    compact = lambda obj: json.dumps(obj, separators=(",", ":")).encode()
    signing_input = b64url(compact(header)) + "." + b64url(compact(claims))
    return signing_input + "." + b64url(sign(signing_input.encode()))


utc = datetime.timezone.utc
not_before = datetime.datetime(2025, 1, 1, tzinfo=utc)
not_after = datetime.datetime(2035, 1, 1, tzinfo=utc)

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
cert = self_signed(key, "azlite fixture", not_before, not_after)
der = cert.public_bytes(serialization.Encoding.DER)
write("rsa2048.cert.pem", cert.public_bytes(serialization.Encoding.PEM))
write("rsa2048.key.pem", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
write("rsa2048.pkcs1.key.pem", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))

small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
write("rsa1024.cert.pem", self_signed(small, "too small", not_before, not_after).public_bytes(serialization.Encoding.PEM))
ec_key = ec.generate_private_key(ec.SECP256R1())
write("ec-p256.cert.pem", self_signed(ec_key, "not rsa", not_before, not_after).public_bytes(serialization.Encoding.PEM))

numbers = key.public_key().public_numbers()
n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
x5t = b64url(hashlib.sha1(der).digest())

tid = "72f988bf-0000-0000-0000-000000000000"
claims = {
    "aud": "https://management.azure.com/",
    "iss": f"https://sts.windows.net/{tid}/",
    "iat": 1767225300, "nbf": 1767225300, "exp": 1767312000,
    "aio": "E2ZgYJj9", "appid": "be5947ed-3560-4afe-9504-59967a63f810", "appidacr": "2",
    "idp": f"https://sts.windows.net/{tid}/", "idtyp": "app",
    "oid": "11111111-2222-3333-4444-555555555555", "rh": "0.AVEAv4j5cvGGr0GRqy180BHbR",
    "sub": "11111111-2222-3333-4444-555555555555", "tid": tid,
    "uti": "cRZ8-NDqNECeq2PmIKW8Ag", "ver": "1.0",
    "xms_mirid": "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1",
    "xms_tcdt": 1289241547,
}
rs256 = lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())
pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
ps256 = lambda data: key.sign(data, pss, hashes.SHA256())
client_id = "be5947ed-3560-4afe-9504-59967a63f810"
assertion_claims = {
    "aud": f"https://login.microsoftonline.com/{tid}/oauth2/v2.0/token",
    "iss": client_id, "sub": client_id, "jti": "4f6b3c39-0000-4000-8000-000000000001",
    "nbf": 1767225300, "exp": 1767225900, "iat": 1767225300,
}

expected = {
    "x5t": x5t,
    "x5t_s256": b64url(hashlib.sha256(der).digest()),
    "sha1_hex": hashlib.sha1(der).hexdigest(),
    "n": b64url(n),
    "e": b64url(e),
    "x5c": base64.b64encode(der).decode(),
    "not_before": int(not_before.timestamp()),
    "not_after": int(not_after.timestamp()),
    "claims": claims,
    "v1_token": jws({"typ": "JWT", "alg": "RS256", "x5t": x5t, "kid": x5t}, claims, rs256),
    "v2_token": jws({"typ": "JWT", "alg": "RS256", "kid": x5t}, claims, rs256),
    "assertion_ps256_x5t_s256": jws({"alg": "PS256", "typ": "JWT", "x5t#S256": b64url(hashlib.sha256(der).digest())}, assertion_claims, ps256),
    "assertion_rs256_x5t": jws({"alg": "RS256", "typ": "JWT", "x5t": x5t}, assertion_claims, rs256),
    "assertion_rs256_kid_hex": jws({"alg": "RS256", "typ": "JWT", "kid": hashlib.sha1(der).hexdigest().upper()}, assertion_claims, rs256),
    "assertion_claims": assertion_claims,
}
write("expected.json", (json.dumps(expected, indent=2) + "\n").encode())
