"""Signing-key rotation and persistence across restarts, on an instance of its own (the
shared server's keys stay as they are for the other tests).

Pruning of retired keys needs the clock moved past their tokens' lifetime; that is left to
the Rust tests, here both keys must simply be published after a rotation.
"""

from __future__ import annotations

import stat

import pytest

from jwt_helpers import jwt_parts, verify_like_a_resource_server

ARM = "https://management.azure.com"


def kids(instance, version: int = 1) -> set[str]:
    return {k["kid"] for k in instance.jwks(version=version)["keys"]}


def whoami(instance, token: str):
    return instance.session.get(instance.url("/azlite/admin/whoami"), headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def own_instance(azlite_factory):
    return azlite_factory.start()


def test_connection_json_is_private_and_complete(own_instance):
    path = own_instance.data_dir / "connection.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, oct(path.stat().st_mode)
    info = own_instance.info
    for name in ("https", "caCertificate", "tenantId", "subscriptionId", "clientId", "clientSecret", "authority"):
        assert info.get(name), f"connection.json lacks {name}: {sorted(info)}"
    assert info["https"].startswith("https://127.0.0.1:")
    assert info["authority"] == f"{info['https']}/{info['tenantId']}"


def test_rotation_publishes_both_keys_and_old_tokens_keep_working(own_instance):
    before = own_instance.owner_token()
    old_kid = jwt_parts(before)[0]["kid"]
    assert kids(own_instance) == {old_kid}

    rotated = own_instance.admin("POST", "keys/rotate")
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["retiredKid"] == old_kid
    assert body["activeKid"] != old_kid
    assert body["removedKids"] == []
    new_kid = body["activeKid"]

    for version in (1, 2):
        assert kids(own_instance, version) == {old_kid, new_kid}

    # A token issued before the rotation still verifies, at the server and for a client.
    response = whoami(own_instance, before)
    assert response.status_code == 200, response.text
    assert response.json()["kid"] == old_kid
    verify_like_a_resource_server(own_instance, before, ARM, version=1)

    # New tokens carry the new kid.
    after = own_instance.owner_token()
    header = jwt_parts(after)[0]
    assert header["kid"] == header["x5t"] == new_kid
    response = whoami(own_instance, after)
    assert response.status_code == 200, response.text
    assert response.json()["kid"] == new_kid
    verify_like_a_resource_server(own_instance, after, ARM, version=1)


def test_restart_keeps_tenant_owner_secret_keys_and_ca(own_instance, azlite_factory):
    info = dict(own_instance.info)
    token_before = own_instance.owner_token()
    kids_before = kids(own_instance)
    ca_before = open(own_instance.ca, "rb").read()

    assert own_instance.stop() == 0, f"SIGTERM must stop azlite cleanly:\n{own_instance.stderr_tail()}"

    again = azlite_factory.start(own_instance.data_dir)
    for name in ("tenantId", "subscriptionId", "clientId", "clientSecret", "caCertificate"):
        assert again.info[name] == info[name], name
    assert open(again.ca, "rb").read() == ca_before, "the CA clients trust must survive a restart"
    assert kids(again) == kids_before

    # The old token (signed before the restart) still verifies; the persisted secret still works.
    response = whoami(again, token_before)
    assert response.status_code == 200, response.text
    token_after = again.client_credentials(info["clientId"], info["clientSecret"])
    claims = verify_like_a_resource_server(again, token_after, ARM, version=1)
    assert claims["tid"] == info["tenantId"]
    assert claims["appid"] == info["clientId"]
    assert claims["oid"] == jwt_parts(token_before)[1]["oid"]
    assert jwt_parts(token_after)[0]["kid"] in kids_before
    assert again.stop() == 0
