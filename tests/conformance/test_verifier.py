"""The bearer-token verifier every azlite resource service uses, exercised through
`GET /azlite/admin/whoami` (ARM audience, owner only). Each test presents one kind of bad
token and checks the ARM-style answer a client would see.

Not covered here: a token with a wrong issuer. It cannot be forged without the signing key
(changing `iss` breaks the signature, which `test_tampered_payload` covers); the Rust unit
tests of the verifier cover the issuer check with their own keys.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from jwt_helpers import (
    b64url,
    b64url_json,
    jwt_parts,
    new_rsa_key,
    public_key_from_jwk,
    public_key_pem_from_x5c,
    sign_rs256,
)

VAULT_SCOPE = "https://vault.azure.net/.default"


def whoami(azlite: Any, token: str | None = None, authorization: str | None = None) -> Any:
    headers = {"Authorization": authorization if authorization is not None else f"Bearer {token}"}
    return azlite.session.get(azlite.url("/azlite/admin/whoami"), headers=headers)


def assert_arm_error(response: Any, status: int, code: str, *message_parts: str) -> dict[str, Any]:
    assert response.status_code == status, f"expected {status} {code}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    for part in message_parts:
        assert part.lower() in message.lower(), f"{part!r} not in {message!r}"
    if status == 401:
        assert response.headers.get("www-authenticate", "").startswith("Bearer "), response.headers
    return body


def resign_free(token: str, header: dict[str, Any] | None = None, payload: dict[str, Any] | None = None) -> str:
    """Replace the header and/or payload of a token, keeping its original signature."""
    old_header, old_payload, signature = jwt_parts(token)
    return f"{b64url_json(header or old_header)}.{b64url_json(payload or old_payload)}.{signature}"


def server_key(azlite: Any, kid: str) -> dict[str, Any]:
    [key] = [k for k in azlite.jwks(version=1)["keys"] if k["kid"] == kid]
    return key


@pytest.fixture
def clock_reset(azlite):
    """Put the shared server's clock back, whatever the test did."""
    yield
    azlite.set_clock_offset(0)


# --------------------------------------------------------------------------------------


def test_valid_owner_token(azlite):
    token = azlite.owner_token()
    response = whoami(azlite, token)
    assert response.status_code == 200, response.text
    body = response.json()
    _, claims, _ = jwt_parts(token)
    assert body["oid"] == claims["oid"]
    assert body["appid"] == azlite.client_id
    assert body["tid"] == azlite.tenant
    assert body["aud"] == "https://management.azure.com"
    assert body["iss"] == f"https://sts.windows.net/{azlite.tenant}/"
    assert body["exp"] == claims["exp"]


@pytest.mark.parametrize("scope", ["https://management.azure.com//.default", "https://management.core.windows.net//.default"])
def test_other_arm_audiences_are_accepted(azlite, scope):
    response = whoami(azlite, azlite.owner_token(scope))
    assert response.status_code == 200, response.text


def test_missing_authorization_header(azlite):
    response = azlite.session.get(azlite.url("/azlite/admin/whoami"))
    assert_arm_error(response, 401, "AuthenticationFailed")


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "token-without-scheme"])
def test_malformed_authorization_header(azlite, authorization):
    response = whoami(azlite, authorization=authorization)
    assert_arm_error(response, 401, "AuthenticationFailedInvalidHeader")


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "e30.e30.e30"])
def test_garbage_bearer_token(azlite, token):
    response = whoami(azlite, token)
    assert_arm_error(response, 401, "InvalidAuthenticationToken")


@pytest.mark.parametrize("claim", ["oid", "appid", "exp"])
def test_tampered_payload(azlite, claim):
    token = azlite.owner_token()
    _, payload, _ = jwt_parts(token)
    payload[claim] = payload[claim] + 3600 if claim == "exp" else str(uuid.uuid4())
    response = whoami(azlite, resign_free(token, payload=payload))
    assert_arm_error(response, 401, "InvalidAuthenticationToken", "signature")


def test_expired_token(azlite, clock_reset):
    token = azlite.owner_token()
    assert whoami(azlite, token).status_code == 200
    moved = azlite.admin("POST", "clock", {"advanceSeconds": 2 * 3600})
    assert moved.status_code == 200, moved.text
    assert moved.json()["offsetSeconds"] >= 2 * 3600
    response = whoami(azlite, token)
    assert_arm_error(response, 401, "ExpiredAuthenticationToken")
    # A token issued at the new time works.
    assert whoami(azlite, azlite.owner_token()).status_code == 200


def test_not_yet_valid_token(azlite, clock_reset):
    azlite.set_clock_offset(2 * 3600)
    future = azlite.owner_token()
    azlite.set_clock_offset(0)
    response = whoami(azlite, future)
    body = assert_arm_error(response, 401, "InvalidAuthenticationToken")
    message = body["error"]["message"].lower()
    assert "not yet valid" in message or "not valid before" in message, message


def test_clock_api(azlite, clock_reset):
    before = azlite.admin("GET", "clock")
    assert before.status_code == 200, before.text
    body = before.json()
    assert body["offsetSeconds"] == 0
    assert abs(body["now"] - time.time()) < 60
    advanced = azlite.admin("POST", "clock", {"advanceSeconds": 120}).json()
    assert advanced["offsetSeconds"] == 120
    assert advanced["now"] - body["now"] >= 120
    again = azlite.admin("POST", "clock", {"advanceSeconds": 30}).json()
    assert again["offsetSeconds"] == 150
    assert azlite.set_clock_offset(0)["offsetSeconds"] == 0
    negative = azlite.admin("POST", "clock", {"offsetSeconds": -1})
    assert negative.status_code == 400, negative.text
    assert azlite.admin("GET", "clock").json()["offsetSeconds"] == 0


def test_wrong_audience(azlite):
    token = azlite.owner_token(VAULT_SCOPE)
    response = whoami(azlite, token)
    assert_arm_error(response, 401, "InvalidAuthenticationTokenAudience")


def test_alg_none(azlite):
    token = azlite.owner_token()
    _, payload, _ = jwt_parts(token)
    unsigned = f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(payload)}."
    response = whoami(azlite, unsigned)
    assert_arm_error(response, 401, "InvalidAuthenticationToken")


def test_alg_none_keeping_the_kid(azlite):
    token = azlite.owner_token()
    header, payload, _ = jwt_parts(token)
    unsigned = f"{b64url_json({**header, 'alg': 'none'})}.{b64url_json(payload)}."
    response = whoami(azlite, unsigned)
    assert_arm_error(response, 401, "InvalidAuthenticationToken")


def hs256(secret: bytes, header: dict[str, Any], payload: dict[str, Any]) -> str:
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def test_hs256_with_the_public_key_as_secret(azlite):
    """The classic key-confusion attack: HMAC the token with the server's public key, which
    anybody can read from the JWKS. PyJWT refuses to do this, so `hmac` does it by hand."""
    token = azlite.owner_token()
    header, payload, _ = jwt_parts(token)
    key = server_key(azlite, header["kid"])
    public = public_key_from_jwk(key)
    secrets = {
        "spki-pem": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "pkcs1-pem": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        "spki-der": public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        "x5c-pem": public_key_pem_from_x5c(key),
    }
    for name, secret in secrets.items():
        for variant in {secret, secret.rstrip(b"\n")}:
            forged = hs256(variant, {**header, "alg": "HS256"}, payload)
            response = whoami(azlite, forged)
            assert response.status_code == 401, f"{name}: {response.status_code} {response.text}"
            assert response.json()["error"]["code"] == "InvalidAuthenticationToken", name


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "ES256"])
def test_other_algorithms_are_refused(azlite, alg):
    """Entra signs with RS256 only; a verifier that follows the header's `alg` is exploitable."""
    token = azlite.owner_token()
    header, payload, signature = jwt_parts(token)
    response = whoami(azlite, f"{b64url_json({**header, 'alg': alg})}.{b64url_json(payload)}.{signature}")
    assert_arm_error(response, 401, "InvalidAuthenticationToken")


def test_unknown_kid(azlite):
    """A well-formed token signed by a key azlite never published."""
    token = azlite.owner_token()
    header, payload, _ = jwt_parts(token)
    key = new_rsa_key()
    kid = b64url(uuid.uuid4().bytes)
    forged = sign_rs256(key, {"typ": "JWT", "alg": "RS256", "x5t": kid, "kid": kid}, payload)
    response = whoami(azlite, forged)
    assert_arm_error(response, 401, "InvalidAuthenticationToken", "key")


def test_own_key_claiming_the_servers_kid(azlite):
    token = azlite.owner_token()
    header, payload, _ = jwt_parts(token)
    forged = sign_rs256(new_rsa_key(), header, payload)
    response = whoami(azlite, forged)
    assert_arm_error(response, 401, "InvalidAuthenticationToken", "signature")


def test_token_without_kid(azlite):
    token = azlite.owner_token()
    _, payload, signature = jwt_parts(token)
    response = whoami(azlite, f"{b64url_json({'typ': 'JWT', 'alg': 'RS256'})}.{b64url_json(payload)}.{signature}")
    assert_arm_error(response, 401, "InvalidAuthenticationToken")


def test_valid_token_of_another_principal_is_forbidden(azlite):
    other = azlite.create_app(displayName="not-the-owner", password=True)
    token = azlite.client_credentials(other["appId"], other["password"])
    response = whoami(azlite, token)
    body = assert_arm_error(response, 403, "AuthorizationFailed")
    assert other["appId"] in body["error"]["message"] or other["servicePrincipalObjectId"] in body["error"]["message"]


def test_other_principal_cannot_move_the_clock_or_rotate_keys(azlite, clock_reset):
    other = azlite.create_app(displayName="not-the-owner-2", password=True)
    token = azlite.client_credentials(other["appId"], other["password"])
    for method, path, json in [
        ("POST", "clock", {"advanceSeconds": 3600}),
        ("POST", "keys/rotate", None),
        ("POST", "applications", {"displayName": "sneaky"}),
    ]:
        response = azlite.session.request(
            method, azlite.url(f"/azlite/admin/{path}"), json=json, headers={"Authorization": f"Bearer {token}"}
        )
        assert_arm_error(response, 403, "AuthorizationFailed")
    assert azlite.admin("GET", "clock").json()["offsetSeconds"] == 0
