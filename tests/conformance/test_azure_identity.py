"""azure-identity's service-principal credentials against azlite's authority.

The credentials are given the authority host and `disable_instance_discovery=True` (else MSAL
asks login.microsoftonline.com about the host), and `connection_verify` for azlite's CA.
"""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential

from jwt_helpers import cert_pem, new_rsa_key, private_key_pem, self_signed_cert, verify_like_a_resource_server

ARM = "https://management.azure.com"
ARM_SCOPE = ARM + "/.default"


def options(azlite) -> dict:
    return {"authority": azlite.https, "disable_instance_discovery": True, "connection_verify": azlite.ca}


def test_client_secret_credential(azlite):
    credential = ClientSecretCredential(azlite.tenant, azlite.client_id, azlite.client_secret, **options(azlite))
    with credential:
        token = credential.get_token(ARM_SCOPE)
    assert token.expires_on > time.time() + 3000
    claims = verify_like_a_resource_server(azlite, token.token, ARM, version=1)
    assert claims["appid"] == azlite.client_id
    assert claims["appidacr"] == "1"
    # azure-identity computes expires_on as its own clock + expires_in.
    assert abs(claims["exp"] - token.expires_on) <= 5


def test_client_secret_credential_get_token_info(azlite):
    credential = ClientSecretCredential(azlite.tenant, azlite.client_id, azlite.client_secret, **options(azlite))
    with credential:
        info = credential.get_token_info("https://vault.azure.net/.default")
    assert info.token_type.lower() == "bearer"
    assert info.refresh_on is None or info.refresh_on < info.expires_on
    claims = verify_like_a_resource_server(azlite, info.token, "https://vault.azure.net", version=1)
    assert claims["tid"] == azlite.tenant


def test_client_secret_credential_wrong_secret(azlite):
    credential = ClientSecretCredential(azlite.tenant, azlite.client_id, "wrong", **options(azlite))
    with credential, pytest.raises(ClientAuthenticationError) as raised:
        credential.get_token(ARM_SCOPE)
    assert "AADSTS7000215" in str(raised.value)


def test_client_secret_credential_unknown_tenant(azlite):
    credential = ClientSecretCredential(
        "00000000-0000-0000-0000-00000000abcd", azlite.client_id, azlite.client_secret, **options(azlite)
    )
    with credential, pytest.raises(ClientAuthenticationError):
        credential.get_token(ARM_SCOPE)


def test_certificate_credential(azlite, tmp_path):
    key = new_rsa_key()
    cert = self_signed_cert(key, "azure-identity-cert")
    app = azlite.create_app(displayName="azure-identity-cert", certificates=[cert_pem(cert)])
    pem = tmp_path / "cert.pem"
    pem.write_text(private_key_pem(key) + cert_pem(cert))
    credential = CertificateCredential(azlite.tenant, app["appId"], certificate_path=str(pem), **options(azlite))
    with credential:
        token = credential.get_token(ARM_SCOPE)
    claims = verify_like_a_resource_server(azlite, token.token, ARM, version=1)
    assert claims["appid"] == app["appId"]
    assert claims["appidacr"] == "2"
