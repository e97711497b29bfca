"""Fixtures for the conformance suite: start the real `azlite` binary and talk to it with
real clients (requests, MSAL, PyJWT, azure-identity).

Safety: every client talks to https://127.0.0.1:<port> only. `scripts/test` runs this suite
inside a network namespace that has nothing but a loopback interface; on top of that,
`_loopback_only` below refuses any socket connection or name lookup that is not loopback, so
a client that tries to reach login.microsoftonline.com or 169.254.169.254 fails loudly
instead of sending a packet.

The suite builds nothing: `scripts/test` runs `cargo build -p azlite` first. The binary is
`$AZLITE_BIN`, else `<repo>/target/debug/azlite`.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urlsplit

import pytest
import requests

from jwt_helpers import new_session

REPO = Path(__file__).resolve().parents[2]
ARM_SCOPE = "https://management.azure.com/.default"
# The api-version of raw ARM calls (any date-style version is accepted; the SDKs send their own).
ARM_API_VERSION = "2022-09-01"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


# ---------------------------------------------------------------------------------------
# Third line of defense: no socket leaves loopback, whatever a client library tries.
# ---------------------------------------------------------------------------------------

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


def _is_loopback_host(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(sock: socket.socket, address: Any) -> Any:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback_host(address[0]):
        raise ConnectionRefusedError(f"conformance suite: refusing non-loopback connection to {address!r}")
    return _real_connect(sock, address)


def _guarded_connect_ex(sock: socket.socket, address: Any) -> Any:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback_host(address[0]):
        raise ConnectionRefusedError(f"conformance suite: refusing non-loopback connection to {address!r}")
    return _real_connect_ex(sock, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_loopback_host(host):
        raise socket.gaierror(socket.EAI_NONAME, f"conformance suite: refusing to resolve {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(scope="session", autouse=True)
def _loopback_only() -> Iterator[None]:
    # urllib (PyJWKClient) and requests would route through a proxy named in the environment.
    for name in _PROXY_VARIABLES:
        os.environ.pop(name, None)
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect = _real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = _real_getaddrinfo  # type: ignore[assignment]


# ---------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------


def azlite_bin() -> Path:
    path = Path(os.environ.get("AZLITE_BIN", REPO / "target" / "debug" / "azlite"))
    if not path.is_file():
        pytest.exit(f"azlite binary not found at {path}: run `cargo build -p azlite` (scripts/test does)", 2)
    return path


@dataclass
class Azlite:
    """One running `azlite up` process and the clients to talk to it."""

    data_dir: Path
    log_dir: Path
    proc: subprocess.Popen[bytes]
    info: dict[str, Any] = field(repr=False)  # holds the owner's secret: keep it out of reports
    session: requests.Session = field(repr=False)

    # -- connection.json -------------------------------------------------------------
    @property
    def https(self) -> str:
        return self.info["https"]

    @property
    def ca(self) -> str:
        return self.info["caCertificate"]

    @property
    def tenant(self) -> str:
        return self.info["tenantId"]

    @property
    def client_id(self) -> str:
        return self.info["clientId"]

    @property
    def client_secret(self) -> str:
        return self.info["clientSecret"]

    @property
    def authority(self) -> str:
        return self.info["authority"]

    @property
    def subscription_id(self) -> str:
        return self.info["subscriptionId"]

    # -- helpers -----------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.https + (path if path.startswith("/") else "/" + path)

    def token(
        self,
        tenant: str | None = None,
        form: dict[str, str] | None = None,
        version: int = 2,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """POST a form to the v1 (`/{tenant}/oauth2/token`) or v2 token endpoint, as is."""
        tenant = self.tenant if tenant is None else tenant
        path = f"/{tenant}/oauth2/token" if version == 1 else f"/{tenant}/oauth2/v2.0/token"
        return self.session.post(self.url(path), data=form or {}, headers=headers or {})

    def client_credentials(
        self,
        client_id: str,
        secret: str,
        scope: str = ARM_SCOPE,
        tenant: str | None = None,
    ) -> str:
        """A v2 client-credentials token for any app; fails the test if the STS refuses."""
        response = self.token(
            tenant,
            {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": scope},
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def owner_token(self, scope: str = ARM_SCOPE) -> str:
        """A fresh token of the owner service principal (never cached: tests move the clock)."""
        return self.client_credentials(self.client_id, self.client_secret, scope)

    def admin(
        self,
        method: str,
        path: str,
        json: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Call `/azlite/admin/<path>` with the owner's ARM token (or the given one)."""
        all_headers = {"Authorization": f"Bearer {token or self.owner_token()}"}
        all_headers.update(headers or {})
        return self.session.request(method, self.url("/azlite/admin/" + path.lstrip("/")), json=json, headers=all_headers)

    def set_clock_offset(self, seconds: int) -> dict[str, Any]:
        response = self.admin("POST", "clock", {"offsetSeconds": seconds})
        assert response.status_code == 200, response.text
        return response.json()

    def create_app(self, **body: Any) -> dict[str, Any]:
        response = self.admin("POST", "applications", body)
        assert response.status_code == 201, response.text
        return response.json()

    # -- ARM ---------------------------------------------------------------------------
    def arm(
        self,
        method: str,
        path: str,
        json: Any = None,
        token: str | None = None,
        api_version: str | None = ARM_API_VERSION,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Call ARM by path on the listener's IP host, as is. The owner's token unless
        `token` is given (`token=""` sends no Authorization header); `api_version=None`
        leaves the parameter out."""
        all_headers = {} if token == "" else {"Authorization": f"Bearer {token or self.owner_token()}"}
        all_headers.update(headers or {})
        query = dict(params or {})
        if api_version is not None:
            query["api-version"] = api_version
        return self.session.request(method, self.url(path), json=json, params=query, headers=all_headers)

    def credential(self, client_id: str | None = None, secret: str | None = None) -> Any:
        """An azure-identity ClientSecretCredential against azlite's authority (the owner's
        unless another app is given); instance discovery off, azlite's CA trusted."""
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(
            self.tenant,
            client_id or self.client_id,
            secret or self.client_secret,
            authority=self.https,
            disable_instance_discovery=True,
            connection_verify=self.ca,
        )

    def mgmt_options(self) -> dict[str, Any]:
        """Keyword arguments every azure-mgmt-* client gets: ARM by path on the IP host,
        ARM's scope, azlite's CA."""
        return {"base_url": self.https, "credential_scopes": [ARM_SCOPE], "connection_verify": self.ca}

    def jwks(self, version: int = 1) -> dict[str, Any]:
        path = f"/{self.tenant}/.well-known/openid-configuration" if version == 1 else f"/{self.tenant}/v2.0/.well-known/openid-configuration"
        config = self.session.get(self.url(path))
        assert config.status_code == 200, config.text
        keys = self.session.get(config.json()["jwks_uri"])
        assert keys.status_code == 200, keys.text
        return keys.json()

    def stderr_tail(self, lines: int = 40) -> str:
        text = (self.log_dir / "stderr.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle -----------------------------------------------------------------------
    def stop(self) -> int | None:
        """SIGTERM this process (by its own pid only) and wait; return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.session.close()
        return self.proc.returncode


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def start_azlite(data_dir: Path, log_dir: Path, extra_args: Sequence[str] = ()) -> Azlite:
    """Start `azlite up` on 127.0.0.1:0 with `data_dir` and wait for connection.json.

    connection.json survives restarts of the same data dir, and deleting it is not neutral
    (azlite then adds a new owner secret), so readiness is a *new* file: its inode or mtime
    differs from the one there before the start.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    connection = data_dir / "connection.json"
    previous = _file_identity(connection)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZLITE_")}
    env.setdefault("RUST_LOG", "info")
    env["NO_COLOR"] = "1"
    stdout = open(log_dir / "stdout.log", "ab")
    stderr = open(log_dir / "stderr.log", "ab")
    proc = subprocess.Popen(
        [str(azlite_bin()), "--data-dir", str(data_dir), "up", "--listen", "127.0.0.1:0",
         "--imds-listen", "127.0.0.1:0", "--extension-listen", "127.0.0.1:0", *extra_args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        env=env,
    )
    stdout.close()
    stderr.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    info = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"azlite exited with {proc.returncode} before it was ready:\n"
                + (log_dir / "stderr.log").read_text(errors="replace")[-4000:]
            )
        current = _file_identity(connection)
        if current is not None and current != previous:
            try:
                info = json.loads(connection.read_text())
                break
            except (FileNotFoundError, json.JSONDecodeError):
                pass  # caught between writes; azlite renames it into place, but be safe
        time.sleep(0.05)
    if info is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=STOP_TIMEOUT_S)
        raise RuntimeError(f"azlite did not write {connection} within {START_TIMEOUT_S}s")
    host = urlsplit(info["https"]).hostname
    if not _is_loopback_host(host):
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=STOP_TIMEOUT_S)
        raise RuntimeError(f"azlite advertised a non-loopback address {info['https']!r}; refusing to talk to it")
    return Azlite(data_dir=data_dir, log_dir=log_dir, proc=proc, info=info, session=new_session(info["caCertificate"]))


class AzliteFactory:
    """Starts extra instances (e.g. to restart on the same data dir); stops them all at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Azlite] = []
        self._count = 0

    def new_data_dir(self) -> Path:
        self._count += 1
        return self.root / f"data-{self._count}"

    def start(self, data_dir: Path | None = None, extra_args: Sequence[str] = ()) -> Azlite:
        data_dir = data_dir or self.new_data_dir()
        self._count += 1
        instance = start_azlite(data_dir, self.root / f"logs-{self._count}", extra_args)
        self.started.append(instance)
        return instance

    def stop_all(self) -> None:
        for instance in self.started:
            instance.stop()


@pytest.fixture(scope="session")
def _azlite_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="azlite-conformance-"))
    yield root
    if os.environ.get("AZLITE_KEEP_TEST_DIRS") != "1":
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def azlite(_azlite_root: Path) -> Iterator[Azlite]:
    """The shared server of the session. Tests that move its clock put it back in a finally."""
    instance = start_azlite(_azlite_root / "shared-data", _azlite_root / "shared-logs")
    try:
        yield instance
    finally:
        code = instance.stop()
        if code != 0:
            print(f"azlite exited with {code} on SIGTERM; stderr tail:\n{instance.stderr_tail()}")


@pytest.fixture(scope="session")
def azlite_factory(_azlite_root: Path) -> Iterator[AzliteFactory]:
    factory = AzliteFactory(_azlite_root / "extra")
    try:
        yield factory
    finally:
        factory.stop_all()


@dataclass
class Principal:
    """A service principal made for one test, with its own credential and ARM clients."""

    azlite: Azlite = field(repr=False)
    display_name: str
    app_id: str
    object_id: str
    secret: str = field(repr=False)

    def credential(self) -> Any:
        return self.azlite.credential(self.app_id, self.secret)

    def token(self) -> str:
        return self.azlite.client_credentials(self.app_id, self.secret)

    def resource_client(self, credential: Any = None) -> Any:
        return resource_client(self.azlite, credential or self.credential())

    def authorization_client(self, credential: Any = None) -> Any:
        return authorization_client(self.azlite, credential or self.credential())


def resource_client(azlite: Azlite, credential: Any = None) -> Any:
    """azure-mgmt-resource's ResourceManagementClient (the owner's unless a credential is given)."""
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(credential or azlite.credential(), azlite.subscription_id, **azlite.mgmt_options())


def subscription_client(azlite: Azlite, credential: Any = None) -> Any:
    """azure-mgmt-resource-subscriptions' SubscriptionClient (split out of azure-mgmt-resource in 25.0.0)."""
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    return SubscriptionClient(credential or azlite.credential(), **azlite.mgmt_options())


def authorization_client(azlite: Azlite, credential: Any = None) -> Any:
    """azure-mgmt-authorization's AuthorizationManagementClient (api-version 2022-04-01 for assignments)."""
    from azure.mgmt.authorization import AuthorizationManagementClient

    return AuthorizationManagementClient(credential or azlite.credential(), azlite.subscription_id, **azlite.mgmt_options())


@pytest.fixture
def new_principal(azlite: Azlite) -> Callable[[str], Principal]:
    """Make a service principal with a secret (through the admin route)."""

    def make(name: str = "arm-principal") -> Principal:
        app = azlite.create_app(displayName=name, password=True)
        return Principal(azlite, name, app["appId"], app["servicePrincipalObjectId"], app["password"])

    return make


@pytest.fixture
def resource_groups(azlite: Azlite) -> Iterator[Callable[..., str]]:
    """Name (and, unless `create=False`, create with the owner's token) a resource group
    unique to the test; every group named here is deleted at the end, whatever the test did."""
    names: list[str] = []

    def make(prefix: str = "rg", create: bool = True, location: str = "eastus", name: str | None = None) -> str:
        name = name or f"{prefix}-{uuid.uuid4().hex[:8]}"
        names.append(name)
        if create:
            response = azlite.arm("PUT", f"/subscriptions/{azlite.subscription_id}/resourcegroups/{name}", {"location": location})
            assert response.status_code == 201, response.text
        return name

    yield make
    for name in names:
        response = azlite.arm("DELETE", f"/subscriptions/{azlite.subscription_id}/resourcegroups/{name}")
        assert response.status_code in (200, 404), response.text


@pytest.fixture
def owner_whoami(azlite: Azlite) -> dict[str, Any]:
    response = azlite.admin("GET", "whoami")
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------------------
# MSAL: always with instance discovery off and our own http client.
# ---------------------------------------------------------------------------------------


class RecordingSession(requests.Session):
    """A requests session that remembers every request body it sent (to inspect assertions)."""

    def __init__(self, ca: str) -> None:
        super().__init__()
        self.trust_env = False
        self.verify = ca
        self.sent: list[tuple[str, str, Any]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert _is_loopback_host(urlsplit(url).hostname), f"refusing to send to {url}"
        self.sent.append((method, url, kwargs.get("data")))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def msal_app(azlite: Azlite) -> Iterator[Callable[..., Any]]:
    """Build an msal.ConfidentialClientApplication against azlite, discovery off."""
    import msal

    sessions: list[RecordingSession] = []

    def build(client_id: str, client_credential: Any, authority: str | None = None) -> Any:
        http = RecordingSession(azlite.ca)
        sessions.append(http)
        app = msal.ConfidentialClientApplication(
            client_id,
            client_credential=client_credential,
            authority=authority or azlite.authority,
            instance_discovery=False,
            http_client=http,
        )
        app.recorded = http  # type: ignore[attr-defined]
        return app

    yield build
    for http in sessions:
        http.close()


# ---------------------------------------------------------------------------------------
# Managed identities (test_arm_identity.py)
# ---------------------------------------------------------------------------------------


def msi_client(azlite: Azlite, credential: Any = None) -> Any:
    """azure-mgmt-msi's ManagedServiceIdentityClient (api-version 2024-11-30 by default)."""
    from azure.mgmt.msi import ManagedServiceIdentityClient

    return ManagedServiceIdentityClient(credential or azlite.credential(), azlite.subscription_id, **azlite.mgmt_options())


# ---------------------------------------------------------------------------------------
# The demo VM's managed-identity endpoints (test_imds_tutorial.py, test_imds_clients.py)
# ---------------------------------------------------------------------------------------

# Every variable through which azure-identity or MSAL could pick a managed-identity source,
# an authority or a credential: cleared before a test sets the ones it means.
_MI_ENV_PREFIXES = ("AZURE_", "IDENTITY_", "MSI_", "MSAL_")
_MI_ENV_NAMES = ("IMDS_ENDPOINT", "AZUREPS_HOST_ENVIRONMENT")


@pytest.fixture
def mi_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """monkeypatch with every managed-identity variable (AZURE_*, IDENTITY_*, MSI_*, MSAL_*,
    IMDS_ENDPOINT, AZUREPS_HOST_ENVIRONMENT) removed; set yours on it. Only loopback http
    URLs of azlite may be set: nothing here may reach 169.254.169.254."""
    for name in list(os.environ):
        if name.startswith(_MI_ENV_PREFIXES) or name in _MI_ENV_NAMES:
            monkeypatch.delenv(name)
    return monkeypatch


def demo_vm(azlite: Azlite) -> dict[str, Any]:
    """connection.json's `demo` block, after checking the endpoints are there and loopback."""
    info = azlite.info
    missing = {"imds", "extension", "identityHeader", "demo"} - set(info)
    assert not missing, f"connection.json lacks {sorted(missing)}"
    for key in ("imds", "extension"):
        url = urlsplit(info[key])
        assert url.scheme == "http" and _is_loopback_host(url.hostname), f"{key} is not a loopback http URL: {info[key]!r}"
    return info["demo"]


def demo_group_path(azlite: Azlite) -> str:
    return f"/subscriptions/{azlite.subscription_id}/resourceGroups/{demo_vm(azlite)['resourceGroup']}"


def demo_vm_path(azlite: Azlite) -> str:
    return f"{demo_group_path(azlite)}/providers/Microsoft.Compute/virtualMachines/{demo_vm(azlite)['vm']}"


# ---------------------------------------------------------------------------------------
# `azlite run`: programs that see a VM (the sandbox; see crates/azlite-sandbox)
# ---------------------------------------------------------------------------------------

# What a program on a real VM does not have: azlite-specific settings, the managed-identity
# variables of other hosts (App Service, Cloud Shell, Arc), proxies. The sandbox removes
# some of them itself; the suite removes them all so that nothing points a client at azlite.
_SANDBOX_CLEARED_PREFIXES = ("AZURE_", "IDENTITY_", "MSI_", "MSAL_", "IMDS_", "AZLITE_", "SSL_CERT_", "REQUESTS_CA", "CURL_CA")
SANDBOX_TIMEOUT_S = 120


def vm_environment() -> dict[str, str]:
    """The suite's environment without any azlite- or Azure-specific variable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_SANDBOX_CLEARED_PREFIXES) and k not in _PROXY_VARIABLES
    }
    env["NO_COLOR"] = "1"
    return env


def azlite_run(
    azlite: Azlite,
    *command: str,
    vm: str | None = None,
    arc: bool = False,
    timeout: float = SANDBOX_TIMEOUT_S,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """`azlite --data-dir D run [--vm VM] [--arc] -- COMMAND...` with a VM's environment,
    output captured as text; the result as is (the caller checks it)."""
    argv = [str(azlite_bin()), "--data-dir", str(azlite.data_dir), "run"]
    argv += ["--vm", vm] if vm else []
    argv += ["--arc"] if arc else []
    argv += ["--", *command]
    kwargs.setdefault("env", vm_environment())
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)


def python_in_vm(azlite: Azlite, code: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Runs Python `code` with the suite's interpreter (and its packages) under `azlite run`."""
    import sys

    return azlite_run(azlite, sys.executable, "-c", code, **kwargs)
