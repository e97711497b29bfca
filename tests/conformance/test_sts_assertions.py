"""Client certificates and assertions as Entra holds them (issue 10, findings 7 and 8): a
certificate outside its key credential's dates does not authenticate (AADSTS700027, "The key
used is expired."), an assertion is single-use (AADSTS50013 on a replay), an assertion valid
for longer than azlite accepts is refused, and MSAL, which makes a new assertion each time,
keeps working."""

from __future__ import annotations

import datetime as dt
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from jwt_helpers import cert_pem, client_assertion, new_rsa_key, private_key_pem

ARM_SCOPE = "https://management.azure.com/.default"


def cert_valid(key, start: dt.datetime, end: dt.datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dated")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(key, hashes.SHA256())
    )


def register(azlite, cert) -> str:
    return azlite.create_app(displayName=f"dated-{uuid.uuid4().hex[:6]}", certificates=[cert_pem(cert)])["appId"]


def present(azlite, app_id: str, assertion: str):
    return azlite.token(
        form={
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": ARM_SCOPE,
        }
    )


def refused(response, code: int) -> str:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "invalid_client", body
    assert body["error_codes"] == [code], body
    assert body["error_description"].startswith(f"AADSTS{code}: "), body
    return body["error_description"]


def test_a_certificate_outside_its_dates_does_not_authenticate(azlite):
    now = dt.datetime.now(dt.timezone.utc)
    audience = f"{azlite.authority}/oauth2/v2.0/token"
    for start, end, reason in (
        (now - dt.timedelta(days=10), now - dt.timedelta(days=1), "The key used is expired."),
        (now + dt.timedelta(days=1), now + dt.timedelta(days=10), "The key used is not yet valid."),
    ):
        key = new_rsa_key()
        cert = cert_valid(key, start, end)
        app_id = register(azlite, cert)
        description = refused(present(azlite, app_id, client_assertion(key, cert, app_id, audience)), 700027)
        assert reason in description, description
    # The same kind of app with a certificate valid today gets its token.
    key = new_rsa_key()
    cert = cert_valid(key, now - dt.timedelta(days=1), now + dt.timedelta(days=1))
    app_id = register(azlite, cert)
    answer = present(azlite, app_id, client_assertion(key, cert, app_id, audience))
    assert answer.status_code == 200, answer.text


def test_an_assertion_is_single_use_and_short_lived(azlite, msal_app):
    now = dt.datetime.now(dt.timezone.utc)
    key = new_rsa_key()
    cert = cert_valid(key, now - dt.timedelta(days=1), now + dt.timedelta(days=30))
    app_id = register(azlite, cert)
    audience = f"{azlite.authority}/oauth2/v2.0/token"

    assertion = client_assertion(key, cert, app_id, audience)
    first = present(azlite, app_id, assertion)
    assert first.status_code == 200, first.text
    description = refused(present(azlite, app_id, assertion), 50013)
    assert "already been used" in description, description
    # A new assertion (new jti) is fine.
    assert present(azlite, app_id, client_assertion(key, cert, app_id, audience)).status_code == 200

    # Longer than an hour: refused before it is remembered.
    long_lived = client_assertion(key, cert, app_id, audience, lifetime=2 * 3600)
    refused(present(azlite, app_id, long_lived), 50013)
    assert present(azlite, app_id, client_assertion(key, cert, app_id, audience, lifetime=3000)).status_code == 200

    # MSAL makes a new assertion for every request it sends: two clients (two empty caches)
    # in a row both get their token.
    for _ in range(2):
        app = msal_app(app_id, {"private_key": private_key_pem(key), "public_certificate": cert_pem(cert)})
        result = app.acquire_token_for_client([ARM_SCOPE])
        assert "access_token" in result, result
