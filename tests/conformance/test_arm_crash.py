"""Durability of ARM: `kill -9` of `azlite up` during a burst of resource creations from
several clients, then a restart. Every creation that got a success answer is there; nothing
half-made is; the store opens."""

from __future__ import annotations

import threading
import time
import uuid

from jwt_helpers import new_session

CLIENTS = 4
BURST_SECONDS = 1.5


def test_every_acknowledged_creation_survives_kill_9(azlite_factory):
    server = azlite_factory.start()
    token = server.owner_token()
    sub = f"/subscriptions/{server.subscription_id}"
    acknowledged: list[str] = []
    attempted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        session = new_session(server.ca)
        headers = {"Authorization": f"Bearer {token}"}
        while not stop.is_set():
            name = f"burst-{number}-{uuid.uuid4().hex[:10]}"
            with lock:
                attempted.append(name)
            try:
                response = session.put(
                    server.url(f"{sub}/resourcegroups/{name}"),
                    params={"api-version": "2021-04-01"},
                    json={"location": "eastus", "tags": {"client": str(number)}},
                    headers=headers,
                    timeout=5,
                )
            except Exception:  # the server died under us: this one is not acknowledged
                return
            if response.status_code == 201:
                with lock:
                    acknowledged.append(name)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(BURST_SECONDS)
    server.proc.kill()  # SIGKILL, mid-burst, by the pid this test started
    server.proc.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(acknowledged) >= 20, f"the burst was too small to mean anything ({len(acknowledged)})"

    print(f"burst: {len(attempted)} attempted, {len(acknowledged)} acknowledged before the kill")
    restarted = azlite_factory.start(server.data_dir)
    response = restarted.arm("GET", f"{sub}/resourcegroups")
    assert response.status_code == 200, response.text
    present = {g["name"]: g for g in response.json()["value"] if g["name"].startswith("burst-")}
    missing = [name for name in acknowledged if name not in present]
    assert not missing, f"{len(missing)} acknowledged creations were lost: {missing[:5]}"
    # Whatever is there was attempted, and is whole: a creation in flight at the kill may
    # have committed without its answer, but nothing is half-made.
    assert set(present) <= set(attempted)
    for name, group in present.items():
        assert group["location"] == "eastus" and group["tags"]["client"] == name.split("-")[1], group
        assert restarted.arm("GET", f"{sub}/resourcegroups/{name}").status_code == 200
    assert len(present) - len(acknowledged) <= CLIENTS, "more unanswered creations than clients in flight"
