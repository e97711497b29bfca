"""The demo VM across restarts of `azlite up` on the same data dir: made on the first start
only, its identity kept, and IMDS serving it again (on new ports) with a token ARM accepts."""

from __future__ import annotations

import requests

from conftest import demo_group_path, demo_vm, demo_vm_path
from jwt_helpers import jwt_parts

ARM = "https://management.azure.com/"


def imds_token(instance) -> str:
    answer = requests.get(
        f"{instance.info['imds']}/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": ARM},
        headers={"Metadata": "true"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_imds_restart_keeps_the_demo_vm_and_its_identity(azlite_factory):
    first = azlite_factory.start()
    demo = demo_vm(first)
    vm_before = first.arm("GET", demo_vm_path(first), api_version="2018-06-01").json()
    old_token = imds_token(first)
    assert jwt_parts(old_token)[1]["oid"] == demo["principalId"]
    data_dir = first.data_dir
    assert first.stop() == 0

    second = azlite_factory.start(data_dir)
    assert demo_vm(second) == demo
    vm_after = second.arm("GET", demo_vm_path(second), api_version="2018-06-01").json()
    assert vm_after["identity"] == vm_before["identity"]
    assert vm_after["properties"]["vmId"] == vm_before["properties"]["vmId"]
    # Still one demo VM, still one Reader assignment for its identity on the group.
    assignments = second.arm(
        "GET", f"{demo_group_path(second)}/providers/Microsoft.Authorization/roleAssignments", api_version="2022-04-01",
        params={"$filter": f"principalId eq '{demo['principalId']}'"},
    )
    assert assignments.status_code == 200, assignments.text
    assert len(assignments.json()["value"]) == 1, assignments.json()

    token = imds_token(second)
    assert jwt_parts(token)[1]["oid"] == demo["principalId"]
    for t in (token, old_token):  # the token from before the restart is still good too
        read = second.arm("GET", demo_group_path(second), token=t, api_version="2016-09-01")
        assert read.status_code == 200, read.text
