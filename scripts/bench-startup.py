#!/usr/bin/env python3
"""Start-up time and idle memory of `azlite up` on an existing store.

Usage: scripts/bench-startup.py [BINARY] [RUNS]   (default: target/release/azlite, 10)

The first start (which creates the store, the signing key and the CA) is run once and not
counted. Each counted run measures, from spawn: the first accepted TCP connection, and the
first HTTPS answer (the v2 OpenID document). It also reports the server's own "ready_ms"
log field and the resident memory 5 s after start: VmRSS, and its two parts, RssFile (pages
of the binary and libraries, shared with every process that maps them, most of it the
binary's code) and RssAnon (azlite's own heap and stacks). Everything is on 127.0.0.1 and each
process started here is stopped here, by its PID.
"""
import json, os, re, signal, socket, ssl, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/azlite")
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data_dir, port):
    env = dict(os.environ, RUST_LOG="info")
    return subprocess.Popen([binary, "--data-dir", data_dir, "up", "--listen", f"127.0.0.1:{port}",
                             "--imds-listen", "127.0.0.1:0", "--extension-listen", "127.0.0.1:0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    assert proc.returncode == 0, f"azlite exited with {proc.returncode}: {err[-2000:]}"
    return err


def rss_mib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


with tempfile.TemporaryDirectory() as data_dir:
    port = free_port()
    first = start(data_dir, port)
    conn = os.path.join(data_dir, "connection.json")
    deadline = time.time() + 30
    while not os.path.exists(conn) and time.time() < deadline:
        time.sleep(0.02)
    info = json.load(open(conn))
    ctx = ssl.create_default_context(cafile=info["caCertificate"])
    url_path = f"/{info['tenantId']}/v2.0/.well-known/openid-configuration"
    # Stopped once it answers (older builds died of a SIGTERM sent right after
    # connection.json appeared, before they listened for signals).
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"https://127.0.0.1:{port}{url_path}", context=ctx, timeout=1).read()
            break
        except OSError:
            time.sleep(0.01)
    stop(first)

    accept_ms, answer_ms, ready_ms, rss, rss_anon, rss_file = [], [], [], [], [], []
    for i in range(runs):
        port = free_port()
        t0 = time.perf_counter()
        proc = start(data_dir, port)
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.05).close()
                break
            except OSError:
                time.sleep(0.001)
        accept_ms.append((time.perf_counter() - t0) * 1000)
        while True:
            try:
                urllib.request.urlopen(f"https://127.0.0.1:{port}{url_path}", context=ctx, timeout=1).read()
                break
            except OSError:
                time.sleep(0.001)
        answer_ms.append((time.perf_counter() - t0) * 1000)
        if i == 0:
            time.sleep(5)
            rss.append(rss_mib(proc.pid))
            rss_anon.append(rss_mib(proc.pid, "RssAnon"))
            rss_file.append(rss_mib(proc.pid, "RssFile"))
        err = stop(proc)
        m = re.search(r"ready_ms\D*([0-9.]+)", err)
        if m:
            ready_ms.append(float(m.group(1)))

    def show(name, xs, unit):
        print(f"{name:38s} median {statistics.median(xs):7.1f} {unit}  (min {min(xs):.1f}, max {max(xs):.1f}, n={len(xs)})")

    print(f"binary: {binary}")
    show("spawn -> accepts TCP", accept_ms, "ms")
    show("spawn -> first HTTPS answer", answer_ms, "ms")
    if ready_ms:
        show("server's own open->ready (log)", ready_ms, "ms")
    show("idle RSS 5 s after start", rss, "MiB")
    show("  of which RssAnon (heap, stacks)", rss_anon, "MiB")
    show("  of which RssFile (binary, libs)", rss_file, "MiB")
