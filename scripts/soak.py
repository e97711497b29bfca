#!/usr/bin/env python3
"""Mixed load on a running azlite at about 80 % of its capacity, then a check that every
acknowledged write is there, before and after a `kill -9` and restart (issue 10, "Soak").

Started by scripts/soak, which builds azlite, starts it and passes its data directory and
PID. Standard library only. Loopback only: every connection goes to 127.0.0.1, with Azure's
host names in SNI and `Host` as a client on a VM would send them.

The mix, as the owner service principal and the demo VM:
  tokens        STS client credentials (an RS256 signature each) and the demo VM's IMDS
  ARM           reads (group, account, resource list) and writes (group tags, user-assigned
                identities created and deleted, role assignments created and deleted)
  Key Vault     secret set and get
  Blob          4 KiB block blob put (overwriting a bounded set of names) and get

Capacity is measured first: the same mix, closed loop, for --calibrate seconds. The run then
paces every worker so that the total is --load (0.8) of it. Each worker is a process with its
own keep-alive connections and keeps to its own names, so the last acknowledged value of
every name is known exactly.
"""

import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid

ARM_API = "api-version=2022-09-01"
ROLE_API = "api-version=2022-04-01"
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
SECRET_NAMES = 40  # per worker
BLOB_NAMES = 400  # per worker
GROUP_NAMES = 10  # per worker
IDENTITY_NAMES = 5  # per worker

# (operation, weight)
MIX = [
    ("sts_token", 8),
    ("imds_token", 14),
    ("arm_read", 18),
    ("arm_group_write", 6),
    ("arm_identity", 3),
    ("role_change", 4),
    ("secret_set", 9),
    ("secret_get", 12),
    ("blob_put", 10),
    ("blob_get", 16),
]


class Conn(http.client.HTTPSConnection):
    """A keep-alive TLS connection to 127.0.0.1 that presents `sni` as the server name."""

    def __init__(self, port, sni, context):
        super().__init__("127.0.0.1", port, context=context, timeout=60)
        self.sni = sni

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.sni)


class Cloud:
    """What a worker needs to reach azlite: ports, CA, the owner's credentials, names."""

    def __init__(self, connection, names):
        self.c = connection
        self.port = int(connection["https"].rsplit(":", 1)[1])
        self.imds_port = int(connection["imds"].rsplit(":", 1)[1])
        self.ctx = ssl.create_default_context(cafile=connection["caCertificate"])
        self.names = names
        self.conns = {}
        self.tokens = {}

    def request(self, host, method, path, body=None, headers=None):
        """One request on a kept-alive connection to `host`; returns (status, bytes)."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if host == "imds":
                conn = self.conns.get(host) or http.client.HTTPConnection(
                    "127.0.0.1", self.imds_port, timeout=60
                )
            else:
                conn = self.conns.get(host) or Conn(self.port, host, self.ctx)
                headers["Host"] = host if host != "127.0.0.1" else f"127.0.0.1:{self.port}"
            self.conns[host] = conn
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self.conns.pop(host, None)
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def sts_token(self, scope):
        form = (
            f"grant_type=client_credentials&client_id={self.c['clientId']}"
            f"&client_secret={_quote(self.c['clientSecret'])}&scope={_quote(scope)}"
        )
        status, body = self.request(
            "127.0.0.1",
            "POST",
            f"/{self.c['tenantId']}/oauth2/v2.0/token",
            form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200:
            raise RuntimeError(f"token for {scope}: {status} {body[:300]!r}")
        return json.loads(body)["access_token"]

    def bearer(self, audience):
        token = self.tokens.get(audience)
        if token is None:
            token = self.tokens[audience] = self.sts_token(audience + "/.default")
        return {"Authorization": f"Bearer {token}"}

    def arm(self, method, path, body=None):
        return self.request(
            "127.0.0.1", method, path, body, self.bearer("https://management.azure.com")
        )

    def vault(self, method, path, body=None):
        host = f"{self.names['vault']}.vault.azure.net"
        return self.request(host, method, path, body, self.bearer("https://vault.azure.net"))

    def blob(self, method, path, body=None, extra=None):
        host = f"{self.names['account']}.blob.core.windows.net"
        headers = {"x-ms-version": "2021-08-06", **self.bearer("https://storage.azure.com")}
        headers.update(extra or {})
        return self.request(host, method, path, body, headers)


def _quote(text):
    from urllib.parse import quote

    return quote(text, safe="")


def _oid(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["oid"]


def expect(ok_statuses, result, what):
    status, body = result
    if status not in ok_statuses:
        raise RuntimeError(f"{what}: {status} {body[:300]!r}")
    return body


def setup(connection):
    """Creates the group, vault, storage account, container and role assignment the run uses."""
    suffix = uuid.uuid4().hex[:8]
    names = {"group": "soak", "vault": f"soak{suffix}", "account": f"soak{suffix}"}
    cloud = Cloud(connection, names)
    sub = connection["subscriptionId"]
    oid = _oid(cloud.sts_token("https://management.azure.com/.default"))
    names["owner"] = oid
    rg = f"/subscriptions/{sub}/resourceGroups/soak"
    expect({200, 201}, cloud.arm("PUT", f"{rg}?{ARM_API}", {"location": "eastus"}), "group")
    vault = {
        "location": "eastus",
        "properties": {
            "tenantId": connection["tenantId"],
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [
                {
                    "tenantId": connection["tenantId"],
                    "objectId": oid,
                    "permissions": {"secrets": ["get", "list", "set", "delete"]},
                }
            ],
        },
    }
    expect(
        {200, 201},
        cloud.arm(
            "PUT",
            f"{rg}/providers/Microsoft.KeyVault/vaults/{names['vault']}?api-version=2023-07-01",
            vault,
        ),
        "vault",
    )
    account = f"{rg}/providers/Microsoft.Storage/storageAccounts/{names['account']}"
    expect(
        {200, 201, 202},
        cloud.arm(
            "PUT",
            f"{account}?api-version=2023-01-01",
            {"location": "eastus", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"},
        ),
        "storage account",
    )
    assignment = {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{BLOB_CONTRIBUTOR}",
            "principalId": oid,
            "principalType": "ServicePrincipal",
        }
    }
    expect(
        {200, 201},
        cloud.arm(
            "PUT",
            f"{account}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
            f"?{ROLE_API}",
            assignment,
        ),
        "blob data role",
    )
    expect({201}, cloud.blob("PUT", "/soak?restype=container"), "container")
    # Role assignments change on the workers' own groups, each with a role not assigned
    # there at the time: Azure refuses a second assignment of a role to a principal at a scope.
    body = expect(
        {200},
        cloud.arm("GET", f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions?{ROLE_API}"),
        "role definitions",
    )
    privileged = {"Owner", "User Access Administrator", "Role Based Access Control Administrator"}
    names["roles"] = [
        d["name"] for d in json.loads(body)["value"] if d["properties"]["roleName"] not in privileged
    ][:24]
    return names


class Worker:
    """One worker's operations and its record of acknowledged writes."""

    def __init__(self, index, phase, connection, names):
        self.i = index
        self.cloud = Cloud(connection, names)
        self.sub = connection["subscriptionId"]
        self.vm_principal = connection["demo"]["principalId"]
        self.rng = random.Random(index)
        self.n = 0
        # Acknowledged state: what must be found afterwards.
        self.secrets = {}  # name -> value
        self.blobs = {}  # name -> sha256 hex
        self.groups = {}  # name -> tag value
        self.identities = {}  # name -> present?
        self.roles = {}  # assignment id (full path) -> present?
        self.live_roles = {}  # assignment id -> role
        self.role_scope = f"/subscriptions/{self.sub}/resourceGroups/soak-r{index}-{phase}"
        expect({200, 201}, self.cloud.arm("PUT", f"{self.role_scope}?{ARM_API}", {"location": "eastus"}),
               "role group")

    # --- the operations -----------------------------------------------------------------
    def sts_token(self):
        scope = self.rng.choice(
            ["https://management.azure.com/.default", "https://vault.azure.net/.default",
             "https://storage.azure.com/.default"]
        )
        self.cloud.sts_token(scope)

    def imds_token(self):
        resource = self.rng.choice(
            ["https://management.azure.com/", "https://vault.azure.net", "https://storage.azure.com/"]
        )
        expect(
            {200},
            self.cloud.request(
                "imds",
                "GET",
                f"/metadata/identity/oauth2/token?api-version=2018-02-01&resource={_quote(resource)}",
                headers={"Metadata": "true"},
            ),
            "imds token",
        )

    def arm_read(self):
        rg = f"/subscriptions/{self.sub}/resourceGroups/soak"
        path = self.rng.choice(
            [
                f"{rg}?{ARM_API}",
                f"{rg}/providers/Microsoft.Storage/storageAccounts/{self.cloud.names['account']}"
                "?api-version=2023-01-01",
                f"{rg}/resources?{ARM_API}",
            ]
        )
        expect({200}, self.cloud.arm("GET", path), "arm read")

    def arm_group_write(self):
        name = f"soak-w{self.i}-{self.rng.randrange(GROUP_NAMES)}"
        value = str(self.n)
        body = {"location": "eastus", "tags": {"n": value}}
        expect(
            {200, 201},
            self.cloud.arm("PUT", f"/subscriptions/{self.sub}/resourceGroups/{name}?{ARM_API}", body),
            "group write",
        )
        self.groups[name] = value

    def arm_identity(self):
        name = f"id-w{self.i}-{self.rng.randrange(IDENTITY_NAMES)}"
        path = (
            f"/subscriptions/{self.sub}/resourceGroups/soak/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}?api-version=2023-01-31"
        )
        if self.identities.get(name):
            expect({200, 204}, self.cloud.arm("DELETE", path), "identity delete")
            self.identities[name] = False
        else:
            expect({200, 201}, self.cloud.arm("PUT", path, {"location": "eastus"}), "identity put")
            self.identities[name] = True

    def role_change(self):
        free = [r for r in self.cloud.names["roles"] if r not in self.live_roles.values()]
        if self.live_roles and (not free or self.rng.random() < 0.5):
            rid = self.rng.choice(sorted(self.live_roles))
            expect({200, 204}, self.cloud.arm("DELETE", f"{rid}?{ROLE_API}"), "role delete")
            del self.live_roles[rid]
            self.roles[rid] = False
            return
        role = self.rng.choice(free)
        rid = (
            f"{self.role_scope}/providers/Microsoft.Authorization/roleAssignments/"
            f"{uuid.uuid4()}"  # names are unique across the tenant
        )
        body = {
            "properties": {
                "roleDefinitionId": f"/subscriptions/{self.sub}/providers/"
                f"Microsoft.Authorization/roleDefinitions/{role}",
                "principalId": self.vm_principal,
                "principalType": "ServicePrincipal",
            }
        }
        expect({200, 201}, self.cloud.arm("PUT", f"{rid}?{ROLE_API}", body), "role create")
        self.roles[rid] = True
        self.live_roles[rid] = role

    def secret_set(self):
        name = f"s-w{self.i}-{self.rng.randrange(SECRET_NAMES)}"
        value = f"{self.n}-{self.rng.getrandbits(64):x}"
        expect({200}, self.cloud.vault("PUT", f"/secrets/{name}?api-version=7.4", {"value": value}),
               "secret set")
        self.secrets[name] = value

    def secret_get(self):
        if not self.secrets:
            return self.secret_set()
        name = self.rng.choice(list(self.secrets))
        body = expect({200}, self.cloud.vault("GET", f"/secrets/{name}?api-version=7.4"), "secret get")
        if json.loads(body)["value"] != self.secrets[name]:
            raise RuntimeError(f"secret {name}: a stale value")

    def blob_put(self):
        name = f"w{self.i}/b{self.rng.randrange(BLOB_NAMES)}"
        data = os.urandom(4096)
        expect({201}, self.cloud.blob("PUT", f"/soak/{name}", data, {"x-ms-blob-type": "BlockBlob"}),
               "blob put")
        self.blobs[name] = hashlib.sha256(data).hexdigest()

    def blob_get(self):
        if not self.blobs:
            return self.blob_put()
        name = self.rng.choice(list(self.blobs))
        body = expect({200}, self.cloud.blob("GET", f"/soak/{name}"), "blob get")
        if hashlib.sha256(body).hexdigest() != self.blobs[name]:
            raise RuntimeError(f"blob {name}: other content than the last acknowledged put")

    def prefill(self):
        """Writes every name of this worker once, so that the data set is whole before the
        timed run: memory measured afterwards grows only if something leaks."""
        for k in range(BLOB_NAMES):
            self.rng.seed(f"{self.i}-blob-{k}")
            name = f"w{self.i}/b{k}"
            data = os.urandom(4096)
            expect({201}, self.cloud.blob("PUT", f"/soak/{name}", data, {"x-ms-blob-type": "BlockBlob"}),
                   "prefill blob")
            self.blobs[name] = hashlib.sha256(data).hexdigest()
        for k in range(SECRET_NAMES):
            name, value = f"s-w{self.i}-{k}", f"prefill-{k}"
            expect({200}, self.cloud.vault("PUT", f"/secrets/{name}?api-version=7.4", {"value": value}),
                   "prefill secret")
            self.secrets[name] = value
        self.rng.seed(self.i)

    # --- the loop ---------------------------------------------------------------------------
    def run(self, seconds, rate, out):
        """Runs the mix for `seconds`, at `rate` ops/s (None: as fast as possible)."""
        ops = [name for name, weight in MIX for _ in range(weight)]
        if rate:
            self.prefill()
        counts, errors, samples = {}, {}, []
        start = time.monotonic()
        next_at = start
        while True:
            now = time.monotonic()
            if now - start >= seconds:
                break
            if rate:
                if next_at > now:
                    time.sleep(next_at - now)
                next_at = max(next_at + 1.0 / rate, time.monotonic() - 1.0)  # catch up ≤ 1 s
            op = self.rng.choice(ops)
            self.n += 1
            t0 = time.monotonic()
            try:
                getattr(self, op)()
                counts[op] = counts.get(op, 0) + 1
            except Exception as err:  # noqa: BLE001 - every failure is counted and shown
                errors.setdefault(op, []).append(str(err)[:400])
            samples.append(time.monotonic() - t0)
        state = {
            "secrets": self.secrets, "blobs": self.blobs, "groups": self.groups,
            "identities": self.identities, "roles": self.roles,
        }
        samples.sort()
        out.put({"worker": self.i, "counts": counts, "errors": errors, "state": state,
                 "p50": samples[len(samples) // 2] if samples else 0,
                 "p99": samples[int(len(samples) * 0.99)] if samples else 0})


def _worker(index, phase, connection, names, seconds, rate, out):
    Worker(index, phase, connection, names).run(seconds, rate, out)


def run_phase(phase, connection, names, workers, seconds, rate, rss_of=None):
    out = multiprocessing.Queue()
    per_worker = rate / workers if rate else None
    procs = [
        multiprocessing.Process(target=_worker, args=(i, phase, connection, names, seconds, per_worker, out))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    rss = []
    results = []
    start = time.monotonic()
    while len(results) < workers:
        try:
            results.append(out.get(timeout=1.0))
        except Exception:  # noqa: BLE001 - queue.Empty: sample memory and wait on
            pass
        if rss_of:
            rss.append((time.monotonic() - start, rss_of()))
        if time.monotonic() - start > seconds + 300:
            raise SystemExit("workers did not finish in time")
    for p in procs:
        p.join()
    return results, rss


def verify(connection, names, states):
    """Reads every acknowledged write back; returns the list of what is missing or wrong."""
    cloud = Cloud(connection, names)
    sub = connection["subscriptionId"]
    bad = []
    for state in states:
        for name, value in state["secrets"].items():
            status, body = cloud.vault("GET", f"/secrets/{name}?api-version=7.4")
            if status != 200 or json.loads(body)["value"] != value:
                bad.append(f"secret {name}: {status}")
        for name, digest in state["blobs"].items():
            status, body = cloud.blob("GET", f"/soak/{name}")
            if status != 200 or hashlib.sha256(body).hexdigest() != digest:
                bad.append(f"blob {name}: {status}")
        for name, value in state["groups"].items():
            status, body = cloud.arm("GET", f"/subscriptions/{sub}/resourceGroups/{name}?{ARM_API}")
            if status != 200 or json.loads(body).get("tags", {}).get("n") != value:
                bad.append(f"group {name}: {status}")
        for name, present in state["identities"].items():
            status, _ = cloud.arm(
                "GET",
                f"/subscriptions/{sub}/resourceGroups/soak/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}?api-version=2023-01-31",
            )
            if status != (200 if present else 404):
                bad.append(f"identity {name}: {status}, expected present={present}")
        for rid, present in state["roles"].items():
            status, _ = cloud.arm("GET", f"{rid}?{ROLE_API}")
            if status != (200 if present else 404):
                bad.append(f"role assignment {rid}: {status}, expected present={present}")
    return bad


def count_writes(states):
    return sum(len(s[k]) for s in states for k in ("secrets", "blobs", "groups", "identities", "roles"))


def restart(args):
    """Starts azlite again on the same data directory; returns the new connection.json."""
    path = os.path.join(args.data_dir, "connection.json")
    os.remove(path)
    log = open(os.path.join(os.path.dirname(args.pid_file), "up.restart.log"), "w")
    proc = subprocess.Popen(
        [args.bin, "--data-dir", args.data_dir, "up", "--listen", "127.0.0.1:0",
         "--imds-listen", "127.0.0.1:0", "--extension-listen", "127.0.0.1:0"],
        stdout=log, stderr=log,
    )
    with open(args.pid_file, "w") as f:
        f.write(str(proc.pid))
    for _ in range(1200):
        if os.path.exists(path):
            time.sleep(0.1)  # written whole? read it again if not
            try:
                return json.load(open(path))
            except ValueError:
                pass
        if proc.poll() is not None:
            raise SystemExit(f"azlite did not start again after kill -9 (exit {proc.returncode})")
        time.sleep(0.05)
    raise SystemExit("azlite did not start again after kill -9 in 60 s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--pid", type=int, required=True, help="azlite up's PID (for its memory)")
    ap.add_argument("--bin", required=True, help="the azlite binary, to start it again after kill -9")
    ap.add_argument("--pid-file", required=True, help="where the restarted azlite's PID goes")
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--calibrate", type=float, default=20)
    ap.add_argument("--load", type=float, default=0.8)
    ap.add_argument("--workers", type=int, default=6)
    args = ap.parse_args()
    connection = json.load(open(os.path.join(args.data_dir, "connection.json")))
    for url in (connection["https"], connection["imds"]):
        if "//127.0.0.1:" not in url:
            raise SystemExit(f"refusing to load anything but 127.0.0.1: {url}")

    def rss_kib(pid=args.pid):
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))

    names = setup(connection)
    print(f"setup: group soak, vault {names['vault']}, account {names['account']}", flush=True)

    results, _ = run_phase("calibrate", connection, names, args.workers, args.calibrate, None)
    done = sum(sum(r["counts"].values()) for r in results)
    capacity = done / args.calibrate
    calib_errors = sum(len(v) for r in results for v in r["errors"].values())
    target = capacity * args.load
    print(f"capacity (closed loop, {args.workers} workers, {args.calibrate:.0f} s): "
          f"{capacity:.0f} ops/s, {calib_errors} errors; soak at {args.load:.0%}: {target:.0f} ops/s "
          f"for {args.seconds:.0f} s", flush=True)

    results, rss = run_phase("soak", connection, names, args.workers, args.seconds, target, rss_kib)
    counts, errors = {}, {}
    for r in results:
        for op, n in r["counts"].items():
            counts[op] = counts.get(op, 0) + n
        for op, errs in r["errors"].items():
            errors.setdefault(op, []).extend(errs)
    done = sum(counts.values())
    n_errors = sum(len(v) for v in errors.values())
    print(f"\nsoak: {done} operations in {args.seconds:.0f} s ({done / args.seconds:.0f} ops/s), "
          f"{n_errors} errors (goal 0); latency p50 {max(r['p50'] for r in results) * 1000:.1f} ms, "
          f"p99 {max(r['p99'] for r in results) * 1000:.1f} ms (worst worker)")
    for op, _ in MIX:
        print(f"  {op:16} {counts.get(op, 0):8} ok  {len(errors.get(op, [])):4} errors")
    for op, errs in errors.items():
        for e in errs[:3]:
            print(f"  error {op}: {e}")

    # Memory: the first minute after a warm-up of 10 % of the run, against the last minute
    # (every worker wrote each of its names once before its run started).
    window = min(60.0, args.seconds / 5)
    warm = args.seconds * 0.1
    early = [k for t, k in rss if warm <= t < warm + window]
    late = [k for t, k in rss if args.seconds - window <= t <= args.seconds]
    growth = (sum(late) / len(late)) / (sum(early) / len(early)) - 1 if early and late else float("nan")
    print(f"memory: RSS {sum(early) / max(len(early), 1) / 1024:.1f} MiB after warm-up, "
          f"{sum(late) / max(len(late), 1) / 1024:.1f} MiB at the end, peak {max(k for _, k in rss) / 1024:.1f} MiB: "
          f"growth {growth:+.1%} (goal under 5 %)")

    states = [r["state"] for r in results]
    bad = verify(connection, names, states)
    print(f"acknowledged writes: {count_writes(states)} final states checked, {len(bad)} missing or wrong")
    os.kill(args.pid, signal.SIGKILL)
    while os.path.exists(f"/proc/{args.pid}") and open(f"/proc/{args.pid}/stat").read().split()[2] != "Z":
        time.sleep(0.05)
    connection = restart(args)
    new_pid = int(open(args.pid_file).read())
    bad_after = verify(connection, names, states)
    print(f"after kill -9 and restart (pid {new_pid}): {len(bad_after)} missing or wrong")
    for b in (bad + bad_after)[:10]:
        print(f"  {b}")
    failed = n_errors or bad or bad_after or not growth < 0.05
    print("\nsoak: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
