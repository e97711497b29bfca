"""Durability of Blob Storage (issue 11, Acceptance): `kill -9` of `azlite up` during concurrent
uploads from several clients (blobs of a few KiB to a few MiB, as one Put Blob or as Put Block
and Put Block List, with Bearer; Put Blobs of at most 64 KiB are kept inline in the store and
committed in groups, larger ones as extents), then a restart. Every blob whose upload got its 201 reads back
intact (MD5); every blob that is visible is whole (its content is exactly what was sent for that
name); the temporary files of uploads cut short are gone."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from jwt_helpers import new_session
from test_cli import cli

CLIENTS = 6
BURST_SECONDS = 3.0
VERSION = "2021-08-06"
DATA_CONTRIBUTOR = "Storage Blob Data Contributor"


def test_every_acknowledged_blob_survives_kill_9(azlite_factory):
    server = azlite_factory.start()
    sub = f"/subscriptions/{server.subscription_id}"
    assert server.arm("PUT", f"{sub}/resourcegroups/crash", {"location": "eastus"}).status_code in (200, 201)
    account = f"st{uuid.uuid4().hex[:12]}"
    account_id = f"{sub}/resourceGroups/crash/providers/Microsoft.Storage/storageAccounts/{account}"
    response = server.arm("PUT", account_id, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus",
                                              "properties": {}}, api_version="2023-05-01")
    assert response.status_code in (200, 201, 202), response.text
    owner = server.admin("GET", "whoami").json()["oid"]
    cli(server, "role", "assignment", "create", "--assignee-object-id", owner, "--role", DATA_CONTRIBUTOR, "--scope", account_id)
    token = server.owner_token("https://storage.azure.com/.default")
    headers = {"Authorization": f"Bearer {token}", "x-ms-version": VERSION}

    session = new_session(server.ca)
    base = server.url(f"/{account}/crash")
    # The role assignment may take a moment to be seen; wait until the container is made.
    deadline = time.monotonic() + 10
    while True:
        made = session.put(base, params={"restype": "container"}, headers=headers, timeout=10)
        if made.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert made.status_code == 201, made.text

    acknowledged: dict[str, str] = {}  # name -> md5 of the content acknowledged
    attempted: dict[str, str] = {}  # name -> md5 of the content sent (acknowledged or not)
    lock = threading.Lock()
    stop = threading.Event()

    def upload(client: Any, name: str, content: bytes) -> bool:
        url = f"{base}/{name}"
        if len(content) <= 1024 * 1024:
            r = client.put(url, data=content, headers={**headers, "x-ms-blob-type": "BlockBlob"}, timeout=30)
            return r.status_code == 201
        ids = []
        for i, start in enumerate(range(0, len(content), 1024 * 1024)):
            block_id = base64.b64encode(f"{i:06}".encode()).decode()
            r = client.put(url, params={"comp": "block", "blockid": block_id}, data=content[start:start + 1024 * 1024],
                           headers=headers, timeout=30)
            if r.status_code != 201:
                return False
            ids.append(block_id)
        body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>" + "".join(
            f"<Latest>{i}</Latest>" for i in ids) + "</BlockList>"
        r = client.put(url, params={"comp": "blocklist"}, data=body.encode(), headers=headers, timeout=30)
        return r.status_code == 201

    def client(number: int) -> None:
        rng = random.Random(number)
        own = new_session(server.ca)
        while not stop.is_set():
            size = rng.choice([3 * 1024, 40 * 1024, 64 * 1024, 64 * 1024 + 1, 700 * 1024, 2 * 1024 * 1024 + 17,
                               4 * 1024 * 1024 - 5])
            content = os.urandom(size)
            name = f"c{number}/{uuid.uuid4().hex[:10]}.bin"
            digest = hashlib.md5(content).hexdigest()
            with lock:
                attempted[name] = digest
            try:
                ok = upload(own, name, content)
            except Exception:  # the server died under us: not acknowledged
                return
            if ok:
                with lock:
                    acknowledged[name] = digest

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(BURST_SECONDS)
    server.proc.kill()  # SIGKILL mid-burst, by the pid this test started
    server.proc.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= 10, f"the burst was too small to mean anything ({len(acknowledged)})"
    print(f"burst: {len(attempted)} attempted, {len(acknowledged)} acknowledged before the kill")

    restarted = azlite_factory.start(server.data_dir)
    token = restarted.owner_token("https://storage.azure.com/.default")
    headers["Authorization"] = f"Bearer {token}"
    session = new_session(restarted.ca)
    base = restarted.url(f"/{account}/crash")

    listed: list[str] = []
    marker = ""
    while True:
        params = {"restype": "container", "comp": "list"}
        if marker:
            params["marker"] = marker
        r = session.get(base, params=params, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        text = r.text
        listed += [part.split("</Name>")[0] for part in text.split("<Blob><Name>")[1:]]
        marker = text.split("<NextMarker>")[1].split("</NextMarker>")[0] if "<NextMarker>" in text else ""
        if not marker:
            break

    missing = [name for name in acknowledged if name not in listed]
    assert not missing, f"{len(missing)} acknowledged blobs were lost: {missing[:5]}"
    assert set(listed) <= set(attempted), "a blob nobody uploaded is listed"
    assert len(listed) - len(acknowledged) <= CLIENTS, "more unanswered uploads visible than clients in flight"
    for name in listed:
        r = session.get(f"{base}/{name}", headers=headers, timeout=60)
        assert r.status_code == 200, (name, r.status_code, r.text[:200])
        # Whole or absent: a visible blob has exactly the content sent for its name.
        assert hashlib.md5(r.content).hexdigest() == attempted[name], f"{name} is not intact"

    temp = Path(server.data_dir) / "content" / "tmp"
    leftovers = list(temp.iterdir()) if temp.exists() else []
    assert not leftovers, f"temporary files of cut-short uploads remain: {leftovers[:5]}"
