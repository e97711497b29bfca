"""HTTP/1.1 behaviour that clients with connection pools (requests, azure-core, reqwest)
depend on: a kept-alive connection must stay usable, or the server must say it is closing.
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

import pytest

def read_response(tls: ssl.SSLSocket) -> bytes:
    """One HTTP/1.1 response with a Content-Length body (what azlite sends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} bytes")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = tls.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return head


def test_connection_stays_usable_after_a_post_is_rejected_before_its_body(azlite):
    """urllib3 writes the headers, then the body. If the server answers before the body
    arrives, it must still read (drain) the body and keep the connection, or announce
    `Connection: close`. Here: headers, pause until the 401 comes, body, next request."""
    url = urlsplit(azlite.https)
    host_header = f"{url.hostname}:{url.port}".encode()
    context = ssl.create_default_context(cafile=azlite.ca)
    body = b'{"displayName":"never-created"}'
    with socket.create_connection((url.hostname, url.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=url.hostname) as tls:
            tls.sendall(
                b"POST /azlite/admin/applications HTTP/1.1\r\nHost: %s\r\n"
                b"Authorization: Bearer not.a.token\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % (host_header, len(body))
            )
            tls.settimeout(1.0)
            try:
                first = read_response(tls)  # the server answered before the body: allowed
                answered_early = True
            except (TimeoutError, socket.timeout):
                answered_early = False
            tls.settimeout(5)
            tls.sendall(body)
            if not answered_early:
                first = read_response(tls)
            assert first.startswith(b"HTTP/1.1 401"), first
            if b"connection: close" in first.lower():
                return  # the server said so: a client will not reuse the connection
            tls.sendall(b"GET /common/discovery/keys HTTP/1.1\r\nHost: %s\r\n\r\n" % host_header)
            second = read_response(tls)
            assert second.startswith(b"HTTP/1.1 200"), second
