#!/usr/bin/env python3
"""Data Lake Store Gen1 load for scripts/bench-datalake.sh: WebHDFS over TLS to azlite's
listener on 127.0.0.1 with the account's host name as SNI and Host (never resolved: the
socket goes to 127.0.0.1 only), as the owner (a bearer token for datalake.azure.net).

Usage: dls_load.py <connection.json> <account> <token> <command> [args]
  upload <local file> <path>   CREATE, then 4 MiB APPENDs at their offsets (as
                               azure-datalake-store writes), the last with syncFlag=CLOSE;
                               prints MB/s
  download <path> <bytes>      OPEN (read=true) read whole; prints MB/s
  fill <folder> <count>        CREATEs <count> empty files in <folder> (16 threads)
  list <folder> <runs>         LISTSTATUS of <folder>, paged with listafter (4000 a page)
                               as clients page it, <runs> times; prints the p50 in ms
                               and the entries seen
Bounded: every request has a 120 s timeout; counts are given.
"""
from __future__ import annotations

import http.client
import json
import socket
import ssl
import statistics
import sys
import threading
import time
import urllib.parse

CHUNK = 4 * 1024 * 1024


class _Connection(http.client.HTTPSConnection):
    """A connection to 127.0.0.1 whose TLS names the account's host (SNI, certificate)."""

    def __init__(self, port: int, context: ssl.SSLContext, host: str):
        super().__init__("127.0.0.1", port, context=context, timeout=120)
        self._sni = host

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._sni)


class Lake:
    def __init__(self, info: dict, account: str, token: str):
        url = urllib.parse.urlsplit(info["https"])
        if url.hostname != "127.0.0.1":
            raise SystemExit(f"azlite is not on 127.0.0.1: {info['https']}")
        self.port = url.port
        self.host = f"{account}.azuredatalakestore.net"
        self.context = ssl.create_default_context(cafile=info["caCertificate"])
        self.headers = {"Authorization": f"Bearer {token}", "Host": self.host}

    def connect(self) -> http.client.HTTPSConnection:
        return _Connection(self.port, self.context, self.host)

    def request(self, conn, method: str, path: str, query: str, body=None, want=(200, 201)):
        url = "/webhdfs/v1" + urllib.parse.quote(path) + "?" + query
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/octet-stream"
        conn.request(method, url, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status not in want:
            raise SystemExit(f"{method} {url}: {response.status} {data[:300]!r}")
        return data


def upload(lake: Lake, local: str, path: str) -> None:
    conn = lake.connect()
    started = time.perf_counter()
    lake.request(conn, "PUT", path, "op=CREATE&overwrite=true&write=true", body=b"")
    offset = 0
    with open(local, "rb") as f:
        size = f.seek(0, 2)
        f.seek(0)
        while offset < size:
            chunk = f.read(CHUNK)
            last = offset + len(chunk) >= size
            flag = "CLOSE" if last else "DATA"
            lake.request(conn, "POST", path,
                         f"op=APPEND&append=true&offset={offset}&syncFlag={flag}", body=chunk)
            offset += len(chunk)
    elapsed = time.perf_counter() - started
    print(f"{size / elapsed / 1e6:.0f}")


def download(lake: Lake, path: str, expected: int) -> None:
    conn = lake.connect()
    started = time.perf_counter()
    url = "/webhdfs/v1" + urllib.parse.quote(path) + "?op=OPEN&read=true"
    conn.request("GET", url, headers=lake.headers)
    response = conn.getresponse()
    got = 0
    while True:
        block = response.read(1 << 20)
        if not block:
            break
        got += len(block)
    elapsed = time.perf_counter() - started
    if response.status != 200 or got != expected:
        raise SystemExit(f"OPEN {path}: {response.status}, {got} of {expected} bytes")
    print(f"{got / elapsed / 1e6:.0f}")


def fill(lake: Lake, folder: str, count: int) -> None:
    threads, lock, next_index = 16, threading.Lock(), [0]
    errors: list[str] = []

    def work():
        conn = lake.connect()
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= count or errors:
                return
            try:
                lake.request(conn, "PUT", f"{folder}/f{i:06d}", "op=CREATE&overwrite=true&write=true", body=b"")
            except SystemExit as e:
                errors.append(str(e))
                return

    started = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise SystemExit(errors[0])
    print(f"{count / (time.perf_counter() - started):.0f}")


def list_folder(lake: Lake, folder: str, runs: int) -> None:
    conn = lake.connect()
    times, seen = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        after, seen = "", 0
        while True:
            query = "op=LISTSTATUS&listSize=4000" + (f"&listAfter={urllib.parse.quote(after)}" if after else "")
            page = json.loads(lake.request(conn, "GET", folder, query))["FileStatuses"]["FileStatus"]
            seen += len(page)
            if len(page) < 4000:
                break
            after = page[-1]["pathSuffix"]
        times.append((time.perf_counter() - started) * 1000)
    print(f"{statistics.median(times):.1f} {seen}")


def main() -> None:
    info = json.load(open(sys.argv[1]))
    lake = Lake(info, sys.argv[2], sys.argv[3])
    command, args = sys.argv[4], sys.argv[5:]
    if command == "upload":
        upload(lake, args[0], args[1])
    elif command == "download":
        download(lake, args[0], int(args[1]))
    elif command == "fill":
        fill(lake, args[0], int(args[1]))
    elif command == "list":
        list_folder(lake, args[0], int(args[1]))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
