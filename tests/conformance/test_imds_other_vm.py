"""`azlite imds --vm NAME --listen ADDR` serves another VM's endpoints: its token is that VM's
identity, with that VM's rights."""

from __future__ import annotations

import re
import signal
import subprocess
import uuid

import requests

from conftest import azlite_bin

ARM = "https://management.azure.com/"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def test_another_vm_gets_its_own_imds(azlite):
    group = f"imds-vm2-{uuid.uuid4().hex[:8]}"
    scope = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}"
    assert azlite.arm("PUT", scope, json={"location": "eastus"}).status_code == 201
    vm = azlite.arm(
        "PUT",
        f"{scope}/providers/Microsoft.Compute/virtualMachines/vm2",
        json={"location": "eastus", "identity": {"type": "SystemAssigned"}, "properties": {}},
    )
    assert vm.status_code == 201, vm.text
    principal = vm.json()["identity"]["principalId"]
    role = {"properties": {"roleDefinitionId": f"/subscriptions/{azlite.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{READER}", "principalId": principal}}
    assert azlite.arm("PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}", json=role).status_code == 201

    proc = subprocess.Popen(
        [str(azlite_bin()), "--data-dir", str(azlite.data_dir), "imds", "--vm", "vm2", "-g", group, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            match = re.search(r"AZURE_POD_IDENTITY_AUTHORITY_HOST=(http://127\.0\.0\.1:\d+)", line)
            if match:
                imds = match.group(1)
                break
        else:
            raise AssertionError(f"no address printed: {lines} {proc.stderr.read()}")
        answer = requests.get(
            f"{imds}/metadata/identity/oauth2/token",
            params={"api-version": "2018-02-01", "resource": ARM},
            headers={"Metadata": "true"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        assert azlite.arm("GET", scope, token=token).status_code == 200
        other = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{azlite.info['demo']['resourceGroup']}"
        assert azlite.arm("GET", other, token=token).status_code == 403, "vm2's identity has no right on the demo group"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)

    unknown = subprocess.run(
        [str(azlite_bin()), "--data-dir", str(azlite.data_dir), "imds", "--vm", "no-such-vm"],
        capture_output=True, text=True, timeout=30,
    )
    assert unknown.returncode != 0 and "no virtual machine named 'no-such-vm'" in unknown.stderr
