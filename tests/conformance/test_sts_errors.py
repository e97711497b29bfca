"""The token endpoints' errors: HTTP status, OAuth `error`, AADSTS code and Entra's body
shape, as MSAL, azure-identity and the Rust SDK read them.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import jwt
import pytest

from jwt_helpers import (
    JWT_BEARER,
    cert_pem,
    client_assertion,
    is_guid,
    new_rsa_key,
    self_signed_cert,
    sign_rs256,
    x5t,
)

ARM_SCOPE = "https://management.azure.com/.default"
ARM = "https://management.azure.com/"

DESCRIPTION_RE = re.compile(
    r"^AADSTS(?P<code>\d+): (?P<text>[^\r\n]+)\r\n"
    r"Trace ID: (?P<trace>[0-9a-f-]{36})\r\n"
    r"Correlation ID: (?P<correlation>[0-9a-f-]{36})\r\n"
    r"Timestamp: (?P<timestamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z)$"
)
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$")


def assert_entra_error(response: Any, status: int, error: str, code: int) -> dict[str, Any]:
    """Check one Entra error response completely; return the body."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["error"] == error, body
    assert body["error_codes"] == [code], body
    match = DESCRIPTION_RE.match(body["error_description"])
    assert match, f"error_description not in Entra's format: {body['error_description']!r}"
    assert int(match["code"]) == code
    assert is_guid(body["trace_id"]) and is_guid(body["correlation_id"]), body
    assert match["trace"] == body["trace_id"]
    assert match["correlation"] == body["correlation_id"]
    assert TIMESTAMP_RE.match(body["timestamp"]), body["timestamp"]
    assert match["timestamp"] == body["timestamp"]
    stamp = datetime.strptime(body["timestamp"], "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs(stamp.timestamp() - time.time()) < 300, "timestamp is the server's current UTC time"
    assert body["error_uri"].endswith(f"/error?code={code}"), body["error_uri"]
    return body


def cc_form(azlite: Any, version: int, **overrides: str | None) -> dict[str, str]:
    """A valid client-credentials form for `version`, with fields replaced or (None) removed."""
    form: dict[str, str | None] = {
        "grant_type": "client_credentials",
        "client_id": azlite.client_id,
        "client_secret": azlite.client_secret,
    }
    if version == 1:
        form["resource"] = ARM
    else:
        form["scope"] = ARM_SCOPE
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


VERSIONS = pytest.mark.parametrize("version", [1, 2], ids=["v1", "v2"])


def test_the_valid_form_works(azlite):
    """The baseline every error case below changes one thing of."""
    for version in (1, 2):
        assert azlite.token(version=version, form=cc_form(azlite, version)).status_code == 200


@VERSIONS
def test_wrong_secret(azlite, version):
    response = azlite.token(version=version, form=cc_form(azlite, version, client_secret="wrong-secret"))
    body = assert_entra_error(response, 401, "invalid_client", 7000215)
    assert "wrong-secret" not in response.text, "the secret sent must not be echoed"
    assert azlite.client_id in body["error_description"]


@VERSIONS
def test_unknown_client(azlite, version):
    stranger = str(uuid.uuid4())
    response = azlite.token(version=version, form=cc_form(azlite, version, client_id=stranger))
    body = assert_entra_error(response, 400, "unauthorized_client", 700016)
    assert stranger in body["error_description"]


@VERSIONS
@pytest.mark.parametrize("tenant", [str(uuid.UUID(int=0x1234)), "nosuchtenant.onmicrosoft.com"], ids=["guid", "domain"])
def test_unknown_tenant(azlite, version, tenant):
    response = azlite.token(tenant=tenant, version=version, form=cc_form(azlite, version))
    body = assert_entra_error(response, 400, "invalid_request", 90002)
    assert tenant in body["error_description"]


@VERSIONS
def test_malformed_tenant(azlite, version):
    response = azlite.token(tenant="not_a_tenant!", version=version, form=cc_form(azlite, version))
    assert_entra_error(response, 400, "invalid_request", 900023)


@VERSIONS
@pytest.mark.parametrize("tenant", ["common", "organizations"])
def test_client_credentials_need_a_tenant(azlite, version, tenant):
    response = azlite.token(tenant=tenant, version=version, form=cc_form(azlite, version))
    assert_entra_error(response, 400, "invalid_request", 50059)


@VERSIONS
def test_tenant_by_domain_name_works(azlite, version):
    response = azlite.token(tenant="azlite.onmicrosoft.com", version=version, form=cc_form(azlite, version))
    assert response.status_code == 200, response.text


@VERSIONS
def test_missing_grant_type(azlite, version):
    response = azlite.token(version=version, form=cc_form(azlite, version, grant_type=None))
    body = assert_entra_error(response, 400, "invalid_request", 900144)
    assert "grant_type" in body["error_description"]


@VERSIONS
def test_unsupported_grant_type(azlite, version):
    response = azlite.token(version=version, form=cc_form(azlite, version, grant_type="urn:azlite:no-such-grant"))
    assert_entra_error(response, 400, "unsupported_grant_type", 70003)


@VERSIONS
def test_missing_client_id(azlite, version):
    response = azlite.token(version=version, form=cc_form(azlite, version, client_id=None))
    body = assert_entra_error(response, 400, "invalid_request", 900144)
    assert "client_id" in body["error_description"]


@VERSIONS
def test_no_secret_and_no_assertion(azlite, version):
    response = azlite.token(version=version, form=cc_form(azlite, version, client_secret=None))
    assert_entra_error(response, 401, "invalid_client", 7000218)


def test_v1_without_resource(azlite):
    response = azlite.token(version=1, form=cc_form(azlite, 1, resource=None))
    assert_entra_error(response, 400, "invalid_resource", 50001)


def test_v2_without_scope(azlite):
    response = azlite.token(version=2, form=cc_form(azlite, 2, scope=None))
    body = assert_entra_error(response, 400, "invalid_request", 900144)
    assert "scope" in body["error_description"]


def test_v2_scope_without_default_suffix(azlite):
    response = azlite.token(version=2, form=cc_form(azlite, 2, scope="https://graph.microsoft.com/User.Read"))
    assert_entra_error(response, 400, "invalid_scope", 1002012)


def test_v2_two_resource_scopes(azlite):
    response = azlite.token(
        version=2, form=cc_form(azlite, 2, scope="https://management.azure.com/.default https://vault.azure.net/.default")
    )
    assert_entra_error(response, 400, "invalid_scope", 70011)


def test_v2_oidc_scopes_ride_along(azlite):
    """MSAL adds `openid profile offline_access` on some flows; they don't count as resources."""
    response = azlite.token(version=2, form=cc_form(azlite, 2, scope=ARM_SCOPE + " openid profile offline_access"))
    assert response.status_code == 200, response.text


@VERSIONS
def test_unknown_resource(azlite, version):
    resource = "https://unknown.azlite.invalid"
    field = {"resource": resource} if version == 1 else {"scope": resource + "/.default"}
    response = azlite.token(version=version, form=cc_form(azlite, version, **field))
    body = assert_entra_error(response, 400, "invalid_resource", 500011)
    assert resource in body["error_description"]


@VERSIONS
def test_get_on_the_token_endpoint(azlite, version):
    path = f"/{azlite.tenant}/oauth2/token" if version == 1 else f"/{azlite.tenant}/oauth2/v2.0/token"
    response = azlite.session.get(azlite.url(path))
    assert_entra_error(response, 400, "invalid_request", 900561)


def test_client_request_id_is_echoed_as_correlation_id(azlite):
    correlation = str(uuid.uuid4())
    response = azlite.token(
        version=2,
        form=cc_form(azlite, 2, client_secret="wrong"),
        headers={"client-request-id": correlation},
    )
    body = assert_entra_error(response, 401, "invalid_client", 7000215)
    assert body["correlation_id"] == correlation
    assert f"Correlation ID: {correlation}" in body["error_description"]
    assert body["trace_id"] != correlation


def test_each_error_gets_its_own_trace_id(azlite):
    bodies = [azlite.token(version=2, form=cc_form(azlite, 2, client_secret="wrong")).json() for _ in range(2)]
    assert bodies[0]["trace_id"] != bodies[1]["trace_id"]
    assert bodies[0]["correlation_id"] != bodies[1]["correlation_id"]


# --------------------------------------------------------------------------------------
# Client assertions (certificate credentials) sent by hand
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cert_app(azlite):
    key = new_rsa_key()
    cert = self_signed_cert(key, "assertion-errors")
    app = azlite.create_app(displayName="assertion-errors", certificates=[cert_pem(cert)])
    return {"app_id": app["appId"], "key": key, "cert": cert}


def assertion_form(app_id: str, assertion: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": app_id,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        "scope": ARM_SCOPE,
    }


def token_endpoint(azlite: Any, version: int = 2) -> str:
    return azlite.url(f"/{azlite.tenant}/oauth2/v2.0/token" if version == 2 else f"/{azlite.tenant}/oauth2/token")


@pytest.mark.parametrize("audience_version", [1, 2], ids=["aud-v1-endpoint", "aud-v2-endpoint"])
def test_assertion_rs256_x5t_works(azlite, cert_app, audience_version):
    assertion = client_assertion(cert_app["key"], cert_app["cert"], cert_app["app_id"], token_endpoint(azlite, audience_version))
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert response.status_code == 200, response.text


def test_assertion_audience_may_name_login_microsoftonline_com(azlite, cert_app):
    """Entra accepts the token endpoint on its public host name as the audience."""
    audience = f"https://login.microsoftonline.com/{azlite.tenant}/oauth2/v2.0/token"
    assertion = client_assertion(cert_app["key"], cert_app["cert"], cert_app["app_id"], audience)
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("thumbprint", ["x5t", "x5t#S256"])
def test_assertion_thumbprint_with_padding(azlite, cert_app, thumbprint):
    import base64

    from cryptography.hazmat.primitives import hashes

    digest = hashes.SHA1() if thumbprint == "x5t" else hashes.SHA256()
    padded = base64.urlsafe_b64encode(cert_app["cert"].fingerprint(digest)).decode()
    assert padded.endswith("=")
    alg = "RS256" if thumbprint == "x5t" else "PS256"
    now = int(time.time())
    assertion = jwt.encode(
        {"aud": token_endpoint(azlite), "iss": cert_app["app_id"], "sub": cert_app["app_id"],
         "jti": str(uuid.uuid4()), "nbf": now, "exp": now + 600},
        cert_app["key"],
        algorithm=alg,
        headers={thumbprint: padded},
    )  # fmt: skip
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert response.status_code == 200, response.text


def test_assertion_with_unregistered_certificate(azlite, cert_app):
    key = new_rsa_key()
    cert = self_signed_cert(key, "stranger")
    assertion = client_assertion(key, cert, cert_app["app_id"], token_endpoint(azlite))
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert_entra_error(response, 401, "invalid_client", 700027)


def test_assertion_with_bad_signature(azlite, cert_app):
    """Names the registered certificate (x5t) but is signed by another key."""
    other = new_rsa_key()
    assertion = client_assertion(
        other,
        cert_app["cert"],
        cert_app["app_id"],
        token_endpoint(azlite),
        header={"alg": "RS256", "typ": "JWT", "x5t": x5t(cert_app["cert"])},
    )
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert_entra_error(response, 401, "invalid_client", 700027)


def test_assertion_tampered_after_signing(azlite, cert_app):
    assertion = client_assertion(cert_app["key"], cert_app["cert"], cert_app["app_id"], token_endpoint(azlite))
    header, payload, signature = assertion.split(".")
    flipped = signature[:-3] + ("AAA" if signature[-3:] != "AAA" else "BBB")
    response = azlite.token(form=assertion_form(cert_app["app_id"], f"{header}.{payload}.{flipped}"))
    assert_entra_error(response, 401, "invalid_client", 700027)


def test_expired_assertion(azlite, cert_app):
    long_ago = int(time.time()) - 7200
    assertion = client_assertion(
        cert_app["key"], cert_app["cert"], cert_app["app_id"], token_endpoint(azlite), now=long_ago, lifetime=600
    )
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert_entra_error(response, 401, "invalid_client", 700024)


def test_assertion_issuer_is_not_the_client(azlite, cert_app):
    assertion = client_assertion(
        cert_app["key"], cert_app["cert"], cert_app["app_id"], token_endpoint(azlite), iss=str(uuid.uuid4())
    )
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert_entra_error(response, 401, "invalid_client", 700021)


def test_assertion_subject_is_not_the_client(azlite, cert_app):
    assertion = client_assertion(
        cert_app["key"], cert_app["cert"], cert_app["app_id"], token_endpoint(azlite), sub=str(uuid.uuid4())
    )
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert_entra_error(response, 401, "invalid_client", 700021)


@pytest.mark.parametrize(
    "audience",
    [
        "https://management.azure.com/",
        "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "https://login.microsoftonline.com/00000000-0000-0000-0000-000000001234/oauth2/v2.0/token",
    ],
    ids=["resource", "common", "other-tenant"],
)
def test_assertion_for_another_audience(azlite, cert_app, audience):
    assertion = client_assertion(cert_app["key"], cert_app["cert"], cert_app["app_id"], audience)
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert_entra_error(response, 401, "invalid_client", 50013)


@pytest.mark.parametrize("assertion", ["not-a-jwt", "a.b.c", "e30.e30."], ids=["no-dots", "garbage", "empty-json"])
def test_malformed_assertion(azlite, cert_app, assertion):
    response = azlite.token(form=assertion_form(cert_app["app_id"], assertion))
    assert_entra_error(response, 401, "invalid_client", 50027)


def test_assertion_with_alg_none_is_refused(azlite, cert_app):
    """An unsigned assertion must never authenticate a client."""
    now = int(time.time())
    header = {"alg": "none", "typ": "JWT", "x5t": x5t(cert_app["cert"])}
    payload = {
        "aud": token_endpoint(azlite),
        "iss": cert_app["app_id"],
        "sub": cert_app["app_id"],
        "jti": str(uuid.uuid4()),
        "nbf": now,
        "exp": now + 600,
    }
    signed = sign_rs256(cert_app["key"], header, payload)
    unsigned = signed.rsplit(".", 1)[0] + "."
    response = azlite.token(form=assertion_form(cert_app["app_id"], unsigned))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
