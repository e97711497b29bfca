"""Known-answer vectors for azlite-storage-auth, made by Microsoft's own Python SDKs.

Run it once under each SDK; each run writes the vectors of the SDK it finds:

    python3 -m venv /tmp/v12 && /tmp/v12/bin/pip install azure-storage-blob==12.31.1
    /tmp/v12/bin/python make_vectors.py            # -> vectors-12.31.json (sv=2026-10-06)
    python3 -m venv /tmp/v2 && /tmp/v2/bin/pip install azure-storage-blob==2.1.0
    /tmp/v2/bin/python make_vectors.py             # -> vectors-2.1.json   (sv=2019-02-02)
    python3 -m venv /tmp/v036 && /tmp/v036/bin/pip install azure-storage==0.36.0
    /tmp/v036/bin/python make_vectors.py           # -> vectors-0.36.json  (sv=2017-04-17)

Each SAS vector holds the token exactly as the SDK returned it and the resource it was made
for; the Rust tests rebuild the string-to-sign from the token's own fields, check it against
the SDK's (where the SDK exposes it) and check the signature. Keys and times are fixed, so
the files are reproducible. User delegation keys use the value azlite derives (see
src/udk.rs) from UDK_SECRET, so the tests can also verify them end to end.
"""

import base64
import hashlib
import hmac
import json
import os
import sys

ACCOUNT = "azliteacct"
# Azurite's well-known development key (public), and a second key for "key2".
KEY1 = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
KEY2 = base64.b64encode(bytes(range(64))).decode()
UDK_SECRET = b"azlite storage-auth test vectors udk secret"
START = "2026-01-01T00:00:00Z"
EXPIRY = "2026-01-02T00:00:00Z"
KEY_START = "2025-12-31T00:00:00Z"
KEY_EXPIRY = "2026-01-03T00:00:00Z"
OID = "11111111-2222-3333-4444-555555555555"
TID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
HERE = os.path.dirname(os.path.abspath(__file__))


def udk_value(skv, dutid=None):
    """azlite's derivation of a user delegation key (src/udk.rs)."""
    text = "\n".join(["azlite-udk-v1", ACCOUNT, OID, TID, KEY_START, KEY_EXPIRY, "b", skv])
    if dutid is not None:
        text += "\n" + dutid
    return base64.b64encode(hmac.new(UDK_SECRET, text.encode(), hashlib.sha256).digest()).decode()


def write(name, sdk, sas, shared_key=()):
    doc = {
        "sdk": sdk,
        "account": ACCOUNT,
        "key1": KEY1,
        "key2": KEY2,
        "udk_secret": UDK_SECRET.decode(),
        "sas": sas,
        "shared_key": list(shared_key),
    }
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{name}: {len(sas)} SAS, {len(shared_key)} Shared Key vectors")


def sdk_12():
    from azure.storage.blob import (
        generate_account_sas,
        generate_blob_sas,
        generate_container_sas,
        UserDelegationKey,
    )
    from azure.storage.blob._shared.constants import X_MS_VERSION

    sas = []

    def add(name, kind, token, sts, container=None, blob=None, **extra):
        v = {"name": name, "kind": kind, "token": token, "string_to_sign": sts,
             "container": container, "blob": blob}
        v.update(extra)
        sas.append(v)

    def hook():
        box = []
        return box, box.append

    for key_name, key in [("key1", KEY1), ("key2", KEY2)]:
        box, h = hook()
        t = generate_blob_sas(ACCOUNT, "photos", "dir/a b.txt", account_key=key, permission="racwd",
                              expiry=EXPIRY, start=START, sts_hook=h)
        add(f"blob sas {key_name}", "service", t, box[0], "photos", "dir/a b.txt", key=key_name)
    box, h = hook()
    t = generate_blob_sas(ACCOUNT, "photos", "x.bin", account_key=KEY1, permission="r", expiry=EXPIRY,
                          ip="127.0.0.1-127.0.0.9", protocol="https", cache_control="no-cache",
                          content_disposition="attachment", content_encoding="gzip",
                          content_language="en", content_type="text/plain", encryption_scope="scope1",
                          sts_hook=h)
    add("blob sas with every optional field", "service", t, box[0], "photos", "x.bin", key="key1")
    box, h = hook()
    t = generate_blob_sas(ACCOUNT, "photos", "x.bin", snapshot="2026-01-01T10:00:00.0000000Z",
                          account_key=KEY1, permission="r", expiry=EXPIRY, sts_hook=h)
    add("snapshot sas", "service", t, box[0], "photos", "x.bin", key="key1",
        snapshot="2026-01-01T10:00:00.0000000Z")
    box, h = hook()
    t = generate_container_sas(ACCOUNT, "photos", account_key=KEY1, permission="rwdl", expiry=EXPIRY,
                               start=START, protocol="https,http", sts_hook=h)
    add("container sas", "service", t, box[0], "photos", None, key="key1")
    box, h = hook()
    t = generate_account_sas(ACCOUNT, KEY2, resource_types="sco", permission="rwdlac", expiry=EXPIRY,
                             start=START, ip="10.0.0.1", sts_hook=h)
    add("account sas", "account", t, box[0], key="key2")
    box, h = hook()
    t = generate_account_sas(ACCOUNT, KEY1, resource_types="o", permission="r", expiry=EXPIRY,
                             encryption_scope="scope1", protocol="https", sts_hook=h)
    add("account sas with encryption scope", "account", t, box[0], key="key1")

    def udk(dutid=None):
        k = UserDelegationKey()
        k.signed_oid, k.signed_tid = OID, TID
        k.signed_start, k.signed_expiry = KEY_START, KEY_EXPIRY
        k.signed_service, k.signed_version = "b", X_MS_VERSION
        k.signed_delegated_user_tid = dutid
        k.value = udk_value(X_MS_VERSION, dutid)
        return k

    box, h = hook()
    t = generate_blob_sas(ACCOUNT, "photos", "dir/a b.txt", user_delegation_key=udk(), permission="rw",
                          expiry=EXPIRY, start=START, sts_hook=h)
    add("user delegation blob sas", "user_delegation", t, box[0], "photos", "dir/a b.txt")
    box, h = hook()
    t = generate_container_sas(ACCOUNT, "photos", user_delegation_key=udk(), permission="rl",
                               expiry=EXPIRY, protocol="https", ip="127.0.0.1",
                               preauthorized_agent_object_id="99999999-0000-0000-0000-000000000001",
                               correlation_id="corr-1", encryption_scope="scope1", sts_hook=h)
    add("user delegation container sas, agent and correlation", "user_delegation", t, box[0],
        "photos", None)
    box, h = hook()
    t = generate_blob_sas(ACCOUNT, "photos", "x.bin", user_delegation_key=udk(TID), permission="r",
                          expiry=EXPIRY, user_delegation_oid="77777777-0000-0000-0000-000000000007",
                          request_headers={"x-ms-foo": "bar", "x-ms-baz": "qux"},
                          request_query_params={"comp": "metadata"}, sts_hook=h)
    add("user delegation sas, delegated user and signed request values", "user_delegation", t,
        box[0], "photos", "x.bin", request_headers=[["x-ms-foo", "bar"], ["x-ms-baz", "qux"]],
        request_query=[["comp", "metadata"]])

    write("vectors-12.31.json", f"azure-storage-blob 12.31 (x-ms-version {X_MS_VERSION})", sas,
          shared_key_12())


def shared_key_12():
    from azure.core.pipeline import PipelineContext, PipelineRequest
    from azure.core.pipeline.transport import HttpRequest
    from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

    def sign(name, method, url, headers, key_name="key1", path_style_account=None):
        req = HttpRequest(method, url, headers=dict(headers))
        policy = SharedKeyCredentialPolicy(ACCOUNT, KEY1 if key_name == "key1" else KEY2)
        policy.on_request(PipelineRequest(req, PipelineContext(None)))
        return {"name": name, "method": method, "url": url, "headers": headers, "key": key_name,
                "authorization": req.headers["Authorization"]}

    date = "Thu, 01 Jan 2026 00:00:00 GMT"
    base = [["x-ms-date", date], ["x-ms-version", "2026-10-06"],
            ["x-ms-client-request-id", "0a0b0c0d-0000-0000-0000-000000000000"]]
    host = f"https://{ACCOUNT}.blob.core.windows.net"
    return [
        sign("list containers", "GET", f"{host}/?comp=list&maxresults=2&prefix=a%20b", base),
        sign("put blob", "PUT", f"{host}/photos/dir/a%20b.txt",
             base + [["x-ms-blob-type", "BlockBlob"], ["Content-Length", "11"],
                     ["Content-Type", "text/plain"], ["x-ms-meta-ab", "1"], ["x-ms-meta-a-b", "2"],
                     ["x-ms-meta-a_b", "3"], ["If-None-Match", "*"]]),
        sign("empty put, key2", "PUT", f"{host}/photos?restype=container",
             base + [["Content-Length", "0"]], key_name="key2"),
        sign("put block", "PUT", f"{host}/photos/x.bin?comp=block&blockid=QUFBQQ%3D%3D",
             base + [["Content-Length", "4"], ["Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="]]),
        sign("path style", "GET",
             f"http://127.0.0.1:10000/{ACCOUNT}/photos?restype=container&comp=list&include=metadata",
             base),
    ]


def sdk_2():
    from azure.storage.blob.models import UserDelegationKey
    from azure.storage.blob.sharedaccesssignature import BlobSharedAccessSignature
    from azure.storage.common.sharedaccesssignature import SharedAccessSignature
    from azure.storage.blob._constants import X_MS_VERSION

    sas = []
    s = BlobSharedAccessSignature(ACCOUNT, account_key=KEY1)
    sas.append({"name": "blob sas", "kind": "service", "key": "key1", "container": "photos",
                "blob": "dir/a b.txt",
                "token": s.generate_blob("photos", "dir/a b.txt", permission="racwd", expiry=EXPIRY,
                                         start=START, ip="127.0.0.1", protocol="https",
                                         content_type="text/plain")})
    sas.append({"name": "container sas", "kind": "service", "key": "key1", "container": "photos",
                "blob": None,
                "token": s.generate_container("photos", permission="rl", expiry=EXPIRY)})
    a = SharedAccessSignature(ACCOUNT, KEY2)
    sas.append({"name": "account sas", "kind": "account", "key": "key2", "container": None,
                "blob": None,
                "token": a.generate_account("b", "sco", "rwdl", EXPIRY, start=START,
                                            protocol="https,http")})
    k = UserDelegationKey()
    k.signed_oid, k.signed_tid = OID, TID
    k.signed_start, k.signed_expiry = KEY_START, KEY_EXPIRY
    k.signed_service, k.signed_version = "b", X_MS_VERSION
    k.value = udk_value(X_MS_VERSION)
    u = BlobSharedAccessSignature(ACCOUNT, user_delegation_key=k)
    sas.append({"name": "user delegation blob sas", "kind": "user_delegation", "container": "photos",
                "blob": "x.bin",
                "token": u.generate_blob("photos", "x.bin", permission="r", expiry=EXPIRY,
                                         start=START)})
    write("vectors-2.1.json", f"azure-storage-blob 2.1 (sv {X_MS_VERSION})", sas)


def sdk_036():
    from azure.storage.sharedaccesssignature import SharedAccessSignature
    from azure.storage._constants import X_MS_VERSION

    s1 = SharedAccessSignature(ACCOUNT, KEY1)
    s2 = SharedAccessSignature(ACCOUNT, KEY2)
    sas = [
        {"name": "container sas as ARM's listServiceSas makes", "kind": "service", "key": "key1",
         "container": "photos", "blob": None,
         "token": s1.generate_container("photos", permission="rcw", expiry=EXPIRY, start=START,
                                        protocol="https")},
        {"name": "blob sas", "kind": "service", "key": "key2", "container": "photos",
         "blob": "dir/a b.txt",
         "token": s2.generate_blob("photos", "dir/a b.txt", permission="r", expiry=EXPIRY,
                                   ip="127.0.0.1-127.0.0.2", cache_control="no-cache")},
        {"name": "account sas", "kind": "account", "key": "key1", "container": None, "blob": None,
         "token": s1.generate_account("b", "sco", "rl", EXPIRY, start=START)},
    ]
    write("vectors-0.36.json", f"azure-storage 0.36 (sv {X_MS_VERSION})", sas)


if __name__ == "__main__":
    try:
        import azure.storage.blob._shared_access_signature  # noqa: F401
        sdk_12()
        sys.exit(0)
    except ImportError:
        pass
    try:
        import azure.storage.common  # noqa: F401
        sdk_2()
        sys.exit(0)
    except ImportError:
        pass
    sdk_036()
