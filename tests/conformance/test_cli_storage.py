"""`azlite storage container …` and `azlite storage blob …` (issue 11, CLI): the CLI is an
HTTPS client of the Blob service at `<account>.blob.core.windows.net`, authenticated with
`--auth-mode key` (the account key from ARM listKeys, Shared Key) or `--auth-mode login` (the
owner's token for https://storage.azure.com, which needs a data role, as in Azure)."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from test_cli import cli

API = "2023-05-01"


@pytest.fixture
def account(azlite, resource_groups) -> dict[str, Any]:
    group = resource_groups("stcli")
    name = f"st{uuid.uuid4().hex[:12]}"
    path = f"/subscriptions/{azlite.subscription_id}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}"
    response = azlite.arm("PUT", path, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus", "properties": {}},
                          api_version=API)
    assert response.status_code in (200, 201, 202), response.text
    return {"name": name, "id": path}


def md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def out(result) -> Any:
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_containers_and_blobs_with_the_account_key(azlite, account, tmp_path: Path):
    name = account["name"]
    created = out(cli(azlite, "storage", "container", "create", "--account-name", name, "-n", "docs"))
    assert created == {"created": True}
    again = out(cli(azlite, "storage", "container", "create", "--account-name", name, "-n", "docs"))
    assert again == {"created": False}
    listed = out(cli(azlite, "storage", "container", "list", "--account-name", name))
    assert [c["name"] for c in listed] == ["docs"]
    assert listed[0]["properties"]["etag"]

    small = tmp_path / "small.txt"
    small.write_bytes(b"hello from the cli\n")
    large = tmp_path / "large.bin"
    large.write_bytes(os.urandom(9 * 1024 * 1024 + 123))  # three blocks, the last one short
    up = out(cli(azlite, "storage", "blob", "upload", "--account-name", name, "-c", "docs", "-f", str(small)))
    assert up["etag"] and up["lastModified"]
    cli(azlite, "storage", "blob", "upload", "--account-name", name, "-c", "docs", "-n", "dir/large one.bin", "-f", str(large))

    blobs = {b["name"]: b for b in out(cli(azlite, "storage", "blob", "list", "--account-name", name, "-c", "docs"))}
    assert set(blobs) == {"small.txt", "dir/large one.bin"}
    assert blobs["dir/large one.bin"]["properties"]["contentLength"] == large.stat().st_size
    assert blobs["small.txt"]["properties"]["blobType"] == "BlockBlob"
    only = out(cli(azlite, "storage", "blob", "list", "--account-name", name, "-c", "docs", "--prefix", "dir/"))
    assert [b["name"] for b in only] == ["dir/large one.bin"]

    back = tmp_path / "back.bin"
    down = out(cli(azlite, "storage", "blob", "download", "--account-name", name, "-c", "docs", "-n", "dir/large one.bin",
                   "-f", str(back)))
    assert md5(back) == md5(large)
    assert down["properties"]["contentLength"] == large.stat().st_size

    # No overwrite without --overwrite (If-None-Match: *), as az does.
    refused = cli(azlite, "storage", "blob", "upload", "--account-name", name, "-c", "docs", "-f", str(small), check=False)
    assert refused.returncode != 0 and "BlobAlreadyExists" in refused.stderr, refused.stderr
    small.write_bytes(b"replaced\n")
    cli(azlite, "storage", "blob", "upload", "--account-name", name, "-c", "docs", "-f", str(small), "--overwrite")
    cli(azlite, "storage", "blob", "download", "--account-name", name, "-c", "docs", "-n", "small.txt", "-f", str(back))
    assert back.read_bytes() == b"replaced\n"

    cli(azlite, "storage", "blob", "delete", "--account-name", name, "-c", "docs", "-n", "small.txt")
    missing = cli(azlite, "storage", "blob", "download", "--account-name", name, "-c", "docs", "-n", "small.txt",
                  "-f", str(back), check=False)
    assert missing.returncode != 0 and "BlobNotFound" in missing.stderr, missing.stderr

    assert out(cli(azlite, "storage", "container", "delete", "--account-name", name, "-n", "docs")) == {"deleted": True}
    assert out(cli(azlite, "storage", "container", "list", "--account-name", name)) == []


def test_login_needs_a_data_role_and_then_works(azlite, account, owner_whoami, tmp_path: Path):
    name = account["name"]
    cli(azlite, "storage", "container", "create", "--account-name", name, "-n", "logs")
    denied = cli(azlite, "storage", "blob", "list", "--account-name", name, "-c", "logs", "--auth-mode", "login", check=False)
    assert denied.returncode != 0
    assert "AuthorizationPermissionMismatch" in denied.stderr, denied.stderr
    assert "Storage Blob Data Contributor" in denied.stderr, denied.stderr

    owner = owner_whoami.get("objectId") or owner_whoami.get("oid") or owner_whoami.get("id")
    assert owner, owner_whoami
    cli(azlite, "role", "assignment", "create", "--assignee-object-id", owner, "--role", "Storage Blob Data Contributor",
        "--scope", account["id"])
    data = tmp_path / "note.txt"
    data.write_bytes(b"by token\n")
    cli(azlite, "storage", "blob", "upload", "--account-name", name, "-c", "logs", "-f", str(data), "--auth-mode", "login")
    listed = out(cli(azlite, "storage", "blob", "list", "--account-name", name, "-c", "logs", "--auth-mode", "login"))
    assert [b["name"] for b in listed] == ["note.txt"]
    back = tmp_path / "back.txt"
    cli(azlite, "storage", "blob", "download", "--account-name", name, "-c", "logs", "-n", "note.txt", "-f", str(back),
        "--auth-mode", "login")
    assert back.read_bytes() == b"by token\n"


def test_unknown_account_is_a_clear_error(azlite):
    result = cli(azlite, "storage", "container", "list", "--account-name", "nosuchaccount000", check=False)
    assert result.returncode != 0
    assert "nosuchaccount000" in result.stderr and "not found" in result.stderr, result.stderr
