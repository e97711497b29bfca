"""Client credentials through MSAL Python (secret, certificate with RS256 and PS256), tokens
verified the way a resource server verifies them: discovery → JWKS → PyJWT.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from jwt_helpers import (
    cert_pem,
    is_guid,
    is_int,
    jwt_parts,
    new_rsa_key,
    openid_configuration,
    private_key_pem,
    self_signed_cert,
    sha1_thumbprint_hex,
    ssl_context,
    verify_like_a_resource_server,
    x5t,
    x5t_s256,
)

ARM = "https://management.azure.com"
ARM_SCOPE = ARM + "/.default"

V1_CLAIMS = {
    "aud", "iss", "iat", "nbf", "exp", "aio", "appid", "appidacr", "idp", "idtyp",
    "oid", "rh", "sub", "tid", "uti", "ver", "xms_tcdt",
}  # fmt: skip


def acquire(app: Any, scopes: list[str]) -> dict[str, Any]:
    result = app.acquire_token_for_client(scopes)
    assert "access_token" in result, f"MSAL failed: {result}"
    assert result["token_type"].lower() == "bearer"
    assert result.get("token_source") == "identity_provider"
    return result


def server_now(azlite: Any) -> int:
    response = azlite.admin("GET", "clock")
    assert response.status_code == 200, response.text
    return response.json()["now"]


def posted_assertions(app: Any) -> list[str]:
    """The client_assertion values MSAL posted through our http client."""
    found = []
    for method, _url, data in app.recorded.sent:
        if method.upper() == "POST" and isinstance(data, dict) and data.get("client_assertion"):
            assert data.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            assertion = data["client_assertion"]
            found.append(assertion.decode() if isinstance(assertion, bytes) else assertion)
    return found


def check_v1_claims(azlite: Any, token: str, *, audience: str, appid: str, appidacr: str, oid: str | None) -> dict[str, Any]:
    """Everything a resource server (or a user reading jwt.ms) checks in a v1 app token."""
    header, _, _ = jwt_parts(token)
    assert header["typ"] == "JWT"
    assert header["alg"] == "RS256"
    assert header["kid"] and header["x5t"] == header["kid"], header

    claims = verify_like_a_resource_server(azlite, token, audience, version=1)
    # The same key is published in the v2 keys document too (only the issuer differs); a
    # validator that reads the v2 metadata's jwks_uri verifies the v1 token as well.
    v2_jwks = jwt.PyJWKClient(openid_configuration(azlite, 2)["jwks_uri"], ssl_context=ssl_context(azlite.ca))
    jwt.decode(
        token,
        v2_jwks.get_signing_key_from_jwt(token).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=f"https://sts.windows.net/{azlite.tenant}/",
    )

    missing = V1_CLAIMS - claims.keys()
    assert not missing, f"missing claims {missing} in {claims}"
    assert not {"azp", "azpacr", "scp"} & claims.keys(), claims
    tid = azlite.tenant
    assert claims["aud"] == audience
    assert claims["iss"] == f"https://sts.windows.net/{tid}/"
    assert claims["idp"] == claims["iss"]
    assert claims["tid"] == tid
    assert claims["ver"] == "1.0"
    assert claims["idtyp"] == "app"
    assert claims["appid"] == appid
    assert claims["appidacr"] == appidacr
    assert is_guid(claims["oid"]) and claims["sub"] == claims["oid"]
    if oid is not None:
        assert claims["oid"] == oid
    for name in ("iat", "nbf", "exp"):
        assert is_int(claims[name]), f"{name} must be a JSON number: {claims[name]!r}"
    now = server_now(azlite)
    assert abs(claims["iat"] - now) <= 60
    assert claims["nbf"] <= claims["iat"] + 1
    assert 60 * 59 <= claims["exp"] - claims["iat"] <= 60 * 60 * 24
    for name in ("aio", "rh", "uti"):
        assert isinstance(claims[name], str) and claims[name], f"{name}: {claims[name]!r}"
    assert is_int(claims["xms_tcdt"]) and claims["xms_tcdt"] <= claims["iat"]
    return claims


# --------------------------------------------------------------------------------------
# Secret
# --------------------------------------------------------------------------------------


def test_msal_secret_gets_an_arm_token_that_verifies_through_discovery(azlite, msal_app, owner_whoami):
    app = msal_app(azlite.client_id, azlite.client_secret)
    result = acquire(app, [ARM_SCOPE])
    assert is_int(result["expires_in"]) and 3000 <= result["expires_in"] <= 3600

    claims = check_v1_claims(
        azlite, result["access_token"], audience=ARM, appid=azlite.client_id, appidacr="1", oid=owner_whoami["oid"]
    )
    # The server's own verifier sees the same principal and key.
    whoami = azlite.admin("GET", "whoami", token=result["access_token"])
    assert whoami.status_code == 200, whoami.text
    body = whoami.json()
    assert body["oid"] == claims["oid"]
    assert body["appid"] == azlite.client_id
    assert body["tid"] == azlite.tenant
    assert body["kid"] == jwt_parts(result["access_token"])[0]["kid"]

    # MSAL went to the tenant's v2 metadata and token endpoint on our host, nowhere else.
    urls = [url for _, url, _ in app.recorded.sent]
    assert urls, "MSAL sent nothing through our http client"
    assert all(url.startswith(azlite.https + "/") for url in urls), urls
    assert any(url.endswith("/v2.0/.well-known/openid-configuration") for url in urls), urls
    assert any(url.endswith("/oauth2/v2.0/token") for url in urls), urls


def test_msal_second_call_is_served_from_its_cache(azlite, msal_app):
    app = msal_app(azlite.client_id, azlite.client_secret)
    first = acquire(app, [ARM_SCOPE])
    second = app.acquire_token_for_client([ARM_SCOPE])
    assert second["token_source"] == "cache"
    assert second["access_token"] == first["access_token"]


def test_msal_wrong_secret_is_an_invalid_client_error(azlite, msal_app):
    app = msal_app(azlite.client_id, "not-the-secret")
    result = app.acquire_token_for_client([ARM_SCOPE])
    assert result.get("error") == "invalid_client", result
    assert 7000215 in result["error_codes"]


def test_msal_authority_by_domain_name(azlite, msal_app):
    app = msal_app(azlite.client_id, azlite.client_secret, authority=f"{azlite.https}/azlite.onmicrosoft.com")
    result = acquire(app, [ARM_SCOPE])
    claims = verify_like_a_resource_server(azlite, result["access_token"], ARM, version=1)
    assert claims["tid"] == azlite.tenant


@pytest.mark.parametrize(
    ("scope", "audience"),
    [
        ("https://management.azure.com/.default", "https://management.azure.com"),
        ("https://management.azure.com//.default", "https://management.azure.com/"),
        ("https://management.core.windows.net//.default", "https://management.core.windows.net/"),
        ("https://vault.azure.net/.default", "https://vault.azure.net"),
        ("https://storage.azure.com/.default", "https://storage.azure.com"),
        ("https://azliteacct.blob.core.windows.net/.default", "https://azliteacct.blob.core.windows.net"),
        ("https://datalake.azure.net//.default", "https://datalake.azure.net/"),
        ("https://graph.microsoft.com/.default", "https://graph.microsoft.com"),
    ],
)
def test_v2_scope_maps_to_the_audience(azlite, msal_app, scope, audience):
    app = msal_app(azlite.client_id, azlite.client_secret)
    result = acquire(app, [scope])
    claims = verify_like_a_resource_server(azlite, result["access_token"], audience, version=1)
    assert claims["aud"] == audience


@pytest.mark.parametrize(
    "resource",
    ["https://management.azure.com/", "https://management.azure.com", "https://management.core.windows.net/", "https://vault.azure.net"],
)
def test_v1_endpoint_answers_strings_and_keeps_the_resource_verbatim(azlite, resource):
    response = azlite.token(
        version=1,
        form={
            "grant_type": "client_credentials",
            "client_id": azlite.client_id,
            "client_secret": azlite.client_secret,
            "resource": resource,
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"token_type", "expires_in", "ext_expires_in", "expires_on", "not_before", "resource", "access_token"}
    assert body["token_type"] == "Bearer"
    assert body["resource"] == resource
    for name in ("expires_in", "ext_expires_in", "expires_on", "not_before"):
        assert isinstance(body[name], str) and body[name].isdigit(), f"v1 {name} must be a string of digits: {body[name]!r}"
    claims = check_v1_claims(azlite, body["access_token"], audience=resource, appid=azlite.client_id, appidacr="1", oid=None)
    assert int(body["expires_on"]) == claims["exp"]
    assert int(body["not_before"]) == claims["nbf"]


def test_v2_endpoint_answers_numbers(azlite):
    response = azlite.token(
        form={
            "grant_type": "client_credentials",
            "client_id": azlite.client_id,
            "client_secret": azlite.client_secret,
            "scope": ARM_SCOPE,
        }
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["token_type"] == "Bearer"
    assert is_int(body["expires_in"]) and is_int(body["ext_expires_in"])
    claims = jwt_parts(body["access_token"])[1]
    assert abs((claims["exp"] - claims["iat"]) - body["expires_in"]) <= 2


def test_client_secret_basic_is_accepted(azlite):
    """RFC 6749 §2.3.1: the client may authenticate with HTTP Basic instead of the form."""
    response = azlite.session.post(
        azlite.url(f"/{azlite.tenant}/oauth2/v2.0/token"),
        data={"grant_type": "client_credentials", "scope": ARM_SCOPE},
        auth=(azlite.client_id, azlite.client_secret),
    )
    assert response.status_code == 200, response.text
    claims = verify_like_a_resource_server(azlite, response.json()["access_token"], ARM, version=1)
    assert claims["appid"] == azlite.client_id


# --------------------------------------------------------------------------------------
# Certificate
# --------------------------------------------------------------------------------------

# MSAL Python's _encode_thumbprint() is base64.urlsafe_b64encode(...) *with* '=' padding, so
# it sends e.g. x5t "SQgnaF1YxCD9LaigNVbOkuLLqO4=" and x5t#S256 "...HLo=". Entra accepts that,
# and so must azlite.
def unpadded(value: str) -> str:
    return value.rstrip("=")


@pytest.fixture(scope="module")
def cert_app(azlite):
    """An app registered with a self-signed certificate (no secret)."""
    key = new_rsa_key()
    cert = self_signed_cert(key, "cert-app")
    app = azlite.create_app(displayName="cert-app", certificates=[cert_pem(cert)])
    assert is_guid(app["appId"]) and is_guid(app["servicePrincipalObjectId"])
    assert app["tenant"] == azlite.tenant
    assert not app.get("password"), "no password was asked for"
    return {"app": app, "key": key, "cert": cert}


def msal_certificate_credential(cert_app: dict[str, Any], variant: str, tmp_path: Any) -> dict[str, Any]:
    """The three ways MSAL 1.39 takes a certificate (see msal/application.py, _build_client):

    - `thumbprint` (SHA-1 hex) + `private_key`: RS256 with `x5t` (the legacy way);
    - `public_certificate` (PEM) + `private_key`, no thumbprint: MSAL computes the SHA-256
      thumbprint and signs PS256 with `x5t#S256`, and sends the chain as `x5c`;
    - `private_key_pfx_path`: PS256 with `x5t#S256`, no `x5c` (unless public_certificate=True).
    """
    key_pem = private_key_pem(cert_app["key"])
    if variant == "sha1-thumbprint":
        return {"private_key": key_pem, "thumbprint": sha1_thumbprint_hex(cert_app["cert"])}
    if variant == "public-certificate":
        return {"private_key": key_pem, "public_certificate": cert_pem(cert_app["cert"])}
    assert variant == "pfx"
    pfx = tmp_path / "cert-app.pfx"
    pfx.write_bytes(
        pkcs12.serialize_key_and_certificates(b"cert-app", cert_app["key"], cert_app["cert"], None, serialization.NoEncryption())
    )
    return {"private_key_pfx_path": str(pfx)}


CERT_VARIANTS = ["sha1-thumbprint", "public-certificate", "pfx"]


@pytest.mark.parametrize("variant", CERT_VARIANTS)
def test_msal_client_assertion_header(azlite, msal_app, cert_app, variant, tmp_path):
    """What MSAL actually posts, whatever the server answers: RS256 + x5t for a SHA-1
    thumbprint, PS256 + x5t#S256 otherwise."""
    app_id = cert_app["app"]["appId"]
    app = msal_app(app_id, msal_certificate_credential(cert_app, variant, tmp_path))
    app.acquire_token_for_client([ARM_SCOPE])

    [assertion] = posted_assertions(app)
    header, payload, _ = jwt_parts(assertion)
    public_key = cert_app["key"].public_key()
    if variant == "sha1-thumbprint":
        assert header["alg"] == "RS256", header
        assert unpadded(header["x5t"]) == x5t(cert_app["cert"])
        assert "x5t#S256" not in header
    else:
        assert header["alg"] == "PS256", header
        assert unpadded(header["x5t#S256"]) == x5t_s256(cert_app["cert"])
        assert "x5t" not in header
        assert bool(header.get("x5c")) == (variant == "public-certificate"), header
    # The signature really is of that algorithm, by the registered key.
    claims = jwt.decode(assertion, public_key, algorithms=[header["alg"]], audience=f"{azlite.authority}/oauth2/v2.0/token")
    assert claims["iss"] == claims["sub"] == app_id
    assert payload["jti"] and payload["exp"] > payload["iat"]


@pytest.mark.parametrize("variant", CERT_VARIANTS)
def test_msal_certificate_gets_a_token(azlite, msal_app, cert_app, variant, tmp_path):
    app_id = cert_app["app"]["appId"]
    app = msal_app(app_id, msal_certificate_credential(cert_app, variant, tmp_path))
    result = acquire(app, [ARM_SCOPE])
    check_v1_claims(
        azlite,
        result["access_token"],
        audience=ARM,
        appid=app_id,
        appidacr="2",
        oid=cert_app["app"]["servicePrincipalObjectId"],
    )


def test_msal_certificate_not_registered_fails(azlite, msal_app, cert_app):
    other_key = new_rsa_key()
    other_cert = self_signed_cert(other_key, "not-registered")
    app = msal_app(
        cert_app["app"]["appId"],
        {"private_key": private_key_pem(other_key), "public_certificate": cert_pem(other_cert)},
    )
    result = app.acquire_token_for_client([ARM_SCOPE])
    assert result.get("error") == "invalid_client", result
    assert result["error_codes"] == [700027]


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_certificate_assertion_without_padding_gets_a_v1_token_with_appidacr_2(azlite, cert_app, alg):
    """The same assertion MSAL makes, thumbprint unpadded (RFC 7515 base64url): the server
    side of certificate credentials works apart from the padding bug above."""
    app_id = cert_app["app"]["appId"]
    now = int(time.time())
    thumbprint = {"x5t": x5t(cert_app["cert"])} if alg == "RS256" else {"x5t#S256": x5t_s256(cert_app["cert"])}
    assertion = jwt.encode(
        {
            "aud": f"{azlite.authority}/oauth2/v2.0/token",
            "iss": app_id,
            "sub": app_id,
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        },
        cert_app["key"],
        algorithm=alg,
        headers=thumbprint,
    )
    assert jwt.get_unverified_header(assertion)["alg"] == alg
    response = azlite.token(
        form={
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": ARM_SCOPE,
        }
    )
    assert response.status_code == 200, response.text
    check_v1_claims(
        azlite,
        response.json()["access_token"],
        audience=ARM,
        appid=app_id,
        appidacr="2",
        oid=cert_app["app"]["servicePrincipalObjectId"],
    )


# --------------------------------------------------------------------------------------
# An API that accepts v2 tokens
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def v2_api(azlite):
    uri = f"api://azlite-conformance-{uuid.uuid4()}"
    app = azlite.create_app(displayName="v2-api", identifierUris=[uri], accessTokenVersion=2)
    return {"app": app, "uri": uri}


def check_v2_claims(azlite, token: str, *, api_app_id: str, azp: str, azpacr: str) -> dict[str, Any]:
    header, _, _ = jwt_parts(token)
    assert header["alg"] == "RS256"
    assert header["kid"]
    assert "x5t" not in header, f"v2 tokens carry no x5t: {header}"

    claims = verify_like_a_resource_server(azlite, token, api_app_id, version=2)
    tid = azlite.tenant
    config = openid_configuration(azlite, 2)
    assert claims["iss"] == config["issuer"] == f"https://login.microsoftonline.com/{tid}/v2.0"
    assert claims["aud"] == api_app_id
    assert claims["ver"] == "2.0"
    assert claims["tid"] == tid
    assert claims["azp"] == azp
    assert claims["azpacr"] == azpacr
    assert is_guid(claims["oid"]) and claims["sub"] == claims["oid"]
    assert not {"appid", "appidacr"} & claims.keys(), claims
    for name in ("iat", "nbf", "exp"):
        assert is_int(claims[name])
    # The v2 keys document names the issuer each key signs for (multi-tenant validators check it).
    keys = {k["kid"]: k for k in azlite.jwks(version=2)["keys"]}
    key_issuer = keys[header["kid"]]["issuer"].replace("{tenantid}", tid)
    assert key_issuer == claims["iss"]
    return claims


def test_msal_v2_token_for_an_app_with_access_token_version_2(azlite, msal_app, v2_api, owner_whoami):
    app = msal_app(azlite.client_id, azlite.client_secret)
    result = acquire(app, [v2_api["uri"] + "/.default"])
    claims = check_v2_claims(azlite, result["access_token"], api_app_id=v2_api["app"]["appId"], azp=azlite.client_id, azpacr="1")
    assert claims["oid"] == owner_whoami["oid"]


def test_v2_api_by_app_id_on_the_v1_endpoint_still_gets_a_v2_token(azlite, v2_api):
    """The resource's accessTokenVersion, not the endpoint, picks the token version."""
    response = azlite.token(
        version=1,
        form={
            "grant_type": "client_credentials",
            "client_id": azlite.client_id,
            "client_secret": azlite.client_secret,
            "resource": v2_api["app"]["appId"],
        },
    )
    assert response.status_code == 200, response.text
    check_v2_claims(azlite, response.json()["access_token"], api_app_id=v2_api["app"]["appId"], azp=azlite.client_id, azpacr="1")


def test_v1_api_registered_by_identifier_uri(azlite, msal_app):
    uri = f"api://azlite-conformance-v1-{uuid.uuid4()}"
    azlite.create_app(displayName="v1-api", identifierUris=[uri], accessTokenVersion=1)
    app = msal_app(azlite.client_id, azlite.client_secret)
    result = acquire(app, [uri + "/.default"])
    check_v1_claims(azlite, result["access_token"], audience=uri, appid=azlite.client_id, appidacr="1", oid=None)


def test_registered_app_with_password_can_get_tokens(azlite, msal_app):
    created = azlite.create_app(displayName="secret-app", password=True)
    assert created["password"]
    app = msal_app(created["appId"], created["password"])
    result = acquire(app, [ARM_SCOPE])
    check_v1_claims(
        azlite, result["access_token"], audience=ARM, appid=created["appId"], appidacr="1", oid=created["servicePrincipalObjectId"]
    )
