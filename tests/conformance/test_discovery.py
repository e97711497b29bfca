"""OpenID metadata (v1 and v2), the JWKS documents and instance discovery, as MSAL and
token validators (PyJWT's PyJWKClient) read them.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from jwt_helpers import b64url, b64url_decode, openid_configuration, ssl_context

INSTANCE_DISCOVERY = "/common/discovery/instance"


def test_v2_openid_configuration(azlite):
    tid = azlite.tenant
    config = openid_configuration(azlite, 2)
    assert config["issuer"] == f"https://login.microsoftonline.com/{tid}/v2.0"
    assert config["token_endpoint"] == f"{azlite.https}/{tid}/oauth2/v2.0/token"
    assert config["jwks_uri"] == f"{azlite.https}/{tid}/discovery/v2.0/keys"
    # MSAL requires these two; the tenant is re-derived from the token endpoint's path.
    assert config["authorization_endpoint"] == f"{azlite.https}/{tid}/oauth2/v2.0/authorize"
    assert config["device_authorization_endpoint"].startswith(azlite.https + "/")
    assert "RS256" in config["id_token_signing_alg_values_supported"]
    assert {"client_secret_post", "private_key_jwt"} <= set(config["token_endpoint_auth_methods_supported"])


def test_v1_openid_configuration(azlite):
    tid = azlite.tenant
    config = openid_configuration(azlite, 1)
    assert config["issuer"] == f"https://sts.windows.net/{tid}/"
    assert config["token_endpoint"] == f"{azlite.https}/{tid}/oauth2/token"
    assert config["jwks_uri"] == f"{azlite.https}/common/discovery/keys"
    assert config["authorization_endpoint"] == f"{azlite.https}/{tid}/oauth2/authorize"


def test_metadata_is_json_and_cacheable(azlite):
    response = azlite.session.get(azlite.url(f"/{azlite.tenant}/v2.0/.well-known/openid-configuration"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    # Entra serves metadata with `Cache-Control: max-age=86400, private`.
    assert "max-age=" in response.headers.get("cache-control", ""), response.headers


@pytest.mark.parametrize("version", [1, 2])
def test_metadata_by_domain_name_names_the_tenant_guid_in_the_issuer(azlite, version):
    config = openid_configuration(azlite, version, tenant="azlite.onmicrosoft.com")
    assert azlite.tenant in config["issuer"]
    assert config["token_endpoint"].startswith(azlite.https + "/")
    suffix = "/oauth2/token" if version == 1 else "/oauth2/v2.0/token"
    assert config["token_endpoint"].endswith(suffix)


@pytest.mark.parametrize(
    ("version", "issuer"),
    [(1, "https://sts.windows.net/{tenantid}/"), (2, "https://login.microsoftonline.com/{tenantid}/v2.0")],
)
def test_common_metadata_has_a_templated_issuer(azlite, version, issuer):
    config = openid_configuration(azlite, version, tenant="common")
    assert config["issuer"] == issuer


@pytest.mark.parametrize(
    ("tenant", "code"),
    [(str(uuid.UUID(int=0xABCDEF)), 90002), ("nosuchtenant.onmicrosoft.com", 90002), ("not_a_tenant!", 900023)],
)
def test_metadata_of_an_unknown_tenant_is_an_error(azlite, tenant, code):
    # MSAL reports "Unable to get authority configuration" on any 4xx here.
    response = azlite.session.get(azlite.url(f"/{tenant}/v2.0/.well-known/openid-configuration"))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")


def check_jwk(key: dict) -> None:
    for name in ("kty", "use", "kid", "x5t", "n", "e", "x5c"):
        assert name in key, f"JWKS key lacks {name}: {key}"
    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["e"] == "AQAB"
    assert isinstance(key["x5c"], list) and key["x5c"]
    der = base64.b64decode(key["x5c"][0], validate=True)  # standard base64, not base64url
    assert key["kid"] == key["x5t"] == b64url(hashlib.sha1(der).digest())
    cert = x509.load_der_x509_certificate(der)
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size >= 2048
    numbers = public.public_numbers()
    assert int.from_bytes(b64url_decode(key["n"]), "big") == numbers.n
    assert int.from_bytes(b64url_decode(key["e"]), "big") == numbers.e
    assert "=" not in key["n"] and "+" not in key["n"] and "/" not in key["n"], "n must be base64url without padding"
    # No private material ever.
    assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()


def test_v1_jwks(azlite):
    keys = azlite.jwks(version=1)["keys"]
    assert keys, "no signing keys published"
    for key in keys:
        check_jwk(key)
    assert len({k["kid"] for k in keys}) == len(keys)


def test_v2_jwks_keys_name_their_issuer(azlite):
    keys = azlite.jwks(version=2)["keys"]
    assert keys
    for key in keys:
        check_jwk(key)
        assert key["issuer"] in (
            f"https://login.microsoftonline.com/{azlite.tenant}/v2.0",
            "https://login.microsoftonline.com/{tenantid}/v2.0",
        )
    assert {k["kid"] for k in keys} == {k["kid"] for k in azlite.jwks(version=1)["keys"]}


@pytest.mark.parametrize("path", ["/common/discovery/keys", "/{tid}/discovery/keys", "/{tid}/discovery/v2.0/keys", "/common/discovery/v2.0/keys"])
def test_all_key_document_paths_serve_the_same_keys(azlite, path):
    response = azlite.session.get(azlite.url(path.format(tid=azlite.tenant)))
    assert response.status_code == 200, response.text
    kids = {k["kid"] for k in response.json()["keys"]}
    assert kids == {k["kid"] for k in azlite.jwks(version=1)["keys"]}


def test_pyjwkclient_reads_the_jwks(azlite):
    config = openid_configuration(azlite, 2)
    client = jwt.PyJWKClient(config["jwks_uri"], ssl_context=ssl_context(azlite.ca))
    token = azlite.owner_token()
    signing_key = client.get_signing_key_from_jwt(token)
    assert signing_key.key_id == jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience="https://management.azure.com", issuer=f"https://sts.windows.net/{azlite.tenant}/")
    assert claims["tid"] == azlite.tenant


@pytest.mark.parametrize("api_version", ["1.0", "1.1"])
@pytest.mark.parametrize(
    "endpoint",
    ["https://login.microsoftonline.com/common/oauth2/v2.0/authorize", "https://login.microsoftonline.com/{tid}/oauth2/authorize"],
    ids=["common-v2", "tenant-v1"],
)
def test_instance_discovery_of_a_known_host(azlite, api_version, endpoint):
    response = azlite.session.get(
        azlite.url(INSTANCE_DISCOVERY),
        params={"authorization_endpoint": endpoint.format(tid=azlite.tenant), "api-version": api_version},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tenant_discovery_endpoint"].endswith("/.well-known/openid-configuration")
    assert "api-version" in body
    [entry] = [m for m in body["metadata"] if "login.microsoftonline.com" in m["aliases"]]
    assert entry["preferred_network"] == "login.microsoftonline.com"
    assert {"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"} <= set(entry["aliases"])
    assert entry["preferred_cache"] in entry["aliases"]


def test_instance_discovery_of_an_unknown_host(azlite):
    response = azlite.session.get(
        azlite.url(INSTANCE_DISCOVERY),
        params={"authorization_endpoint": "https://login.example.invalid/common/oauth2/v2.0/authorize", "api-version": "1.1"},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_instance"
    assert body["error_codes"] == [50049]
    assert body["error_description"].startswith("AADSTS50049: ")


def test_instance_discovery_without_an_endpoint(azlite):
    response = azlite.session.get(azlite.url(INSTANCE_DISCOVERY), params={"api-version": "1.1"})
    assert response.status_code == 400, response.text
    assert response.json()["error"] in {"invalid_instance", "invalid_request"}


def test_tls_certificate_is_issued_by_the_ca_in_connection_json(azlite):
    """A client that trusts only connection.json's CA reaches the listener (and the default
    trust store does not: nothing about azlite's CA is global)."""
    import requests

    assert azlite.session.get(azlite.url(f"/{azlite.tenant}/v2.0/.well-known/openid-configuration")).status_code == 200
    plain = requests.Session()
    plain.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        plain.get(azlite.url(f"/{azlite.tenant}/v2.0/.well-known/openid-configuration"), verify=True)
