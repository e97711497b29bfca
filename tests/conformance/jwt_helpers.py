"""Helpers the tests share: base64url, unverified JWT parts, keys and certificates, and
verification of azlite's tokens the way a resource server does it (discovery → JWKS → PyJWT).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import ssl
import time
import uuid
from typing import Any

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def jwt_parts(token: str | bytes) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(header, payload, signature segment) without verifying anything."""
    if isinstance(token, bytes):
        token = token.decode()
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def is_guid(value: Any) -> bool:
    return isinstance(value, str) and GUID_RE.match(value) is not None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def self_signed_cert(key: rsa.RSAPrivateKey, common_name: str = "azlite-conformance") -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def sha1_thumbprint_hex(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def x5t(cert: x509.Certificate) -> str:
    return b64url(cert.fingerprint(hashes.SHA1()))


def x5t_s256(cert: x509.Certificate) -> str:
    return b64url(cert.fingerprint(hashes.SHA256()))


def sign_rs256(key: rsa.RSAPrivateKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """Sign a JWT by hand (so tests control every header byte)."""
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}".encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{b64url(signature)}"


def client_assertion(
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    client_id: str,
    audience: str,
    *,
    iss: str | None = None,
    sub: str | None = None,
    lifetime: int = 600,
    now: int | None = None,
    header: dict[str, Any] | None = None,
) -> str:
    """An RS256 + x5t client assertion as Entra documents it (certificate credentials)."""
    now = int(time.time()) if now is None else now
    payload = {
        "aud": audience,
        "iss": iss or client_id,
        "sub": sub or client_id,
        "jti": str(uuid.uuid4()),
        "nbf": now,
        "iat": now,
        "exp": now + lifetime,
    }
    return sign_rs256(key, header or {"alg": "RS256", "typ": "JWT", "x5t": x5t(cert)}, payload)


def new_session(ca: str) -> requests.Session:
    """A requests session that trusts azlite's CA and ignores proxy/CA environment variables."""
    session = requests.Session()
    session.trust_env = False
    session.verify = ca
    return session


def ssl_context(ca: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca)


def openid_configuration(azlite: Any, version: int, tenant: str | None = None) -> dict[str, Any]:
    tenant = tenant or azlite.tenant
    path = f"/{tenant}/.well-known/openid-configuration" if version == 1 else f"/{tenant}/v2.0/.well-known/openid-configuration"
    response = azlite.session.get(azlite.url(path))
    assert response.status_code == 200, response.text
    return response.json()


def verify_like_a_resource_server(azlite: Any, token: str, audience: str, version: int) -> dict[str, Any]:
    """Validate `token` as a resource server would: metadata of `version` → issuer and
    jwks_uri → PyJWKClient picks the key by `kid` → PyJWT checks RS256, signature, aud, iss,
    exp, nbf and iat. Returns the claims.
    """
    config = openid_configuration(azlite, version)
    client = jwt.PyJWKClient(config["jwks_uri"], cache_keys=False, cache_jwk_set=False, ssl_context=ssl_context(azlite.ca))
    signing_key = client.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        signing_key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=config["issuer"],
        options={"require": ["exp", "iat", "nbf", "aud", "iss"], "verify_iat": True},
        leeway=0,
    )


def public_key_from_jwk(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    n = int.from_bytes(b64url_decode(jwk["n"]), "big")
    e = int.from_bytes(b64url_decode(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


def public_key_pem_from_x5c(jwk: dict[str, Any]) -> bytes:
    cert = x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0]))
    return cert.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
