"""Azure Arc on the demo VM (`azlite up --arc-key-dir DIR`): a 401 whose challenge names a
one-time key file, then `Authorization: Basic <file content>`, as HIMDS does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import requests

from conftest import azlite_bin

ARM = "https://management.azure.com/"


def test_arc_challenge_then_token(tmp_path):
    data, keys = tmp_path / "data", tmp_path / "tokens"
    proc = subprocess.Popen(
        [str(azlite_bin()), "--data-dir", str(data), "up", "--listen", "127.0.0.1:0", "--imds-listen", "127.0.0.1:0",
         "--extension-listen", "127.0.0.1:0", "--arc-key-dir", str(keys), "--arc-listen", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        connection = data / "connection.json"
        for _ in range(400):
            if connection.exists():
                break
            time.sleep(0.025)
        info = json.loads(connection.read_text())
        arc = info["arc"]
        url = f"{arc}/metadata/identity/oauth2/token"
        params = {"api-version": "2020-06-01", "resource": ARM}
        challenge = requests.get(url, params=params, headers={"Metadata": "true"}, timeout=10)
        assert challenge.status_code == 401, challenge.text
        scheme, _, realm = challenge.headers["WWW-Authenticate"].partition(" ")
        assert scheme == "Basic" and realm.startswith("realm=")
        key_file = realm.split("=", 1)[1]
        assert os.path.dirname(key_file) == str(keys) and key_file.endswith(".key")
        secret = open(key_file).read()
        answer = requests.get(url, params=params, headers={"Metadata": "true", "Authorization": f"Basic {secret}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        group = f"{info['https']}/subscriptions/{info['subscriptionId']}/resourceGroups/{info['demo']['resourceGroup']}"
        read = requests.get(group, params={"api-version": "2016-09-01"}, headers={"Authorization": f"Bearer {token}"},
                            verify=info["caCertificate"], timeout=10)
        assert read.status_code == 200, read.text
        # The key works once.
        again = requests.get(url, params=params, headers={"Metadata": "true", "Authorization": f"Basic {secret}"}, timeout=10)
        assert again.status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
