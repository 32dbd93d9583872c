"""The lab's TLS endpoints: one process, one loopback port per certificate (``python -m opsbook.lab.tlsserver``).

``--config servers.json`` lists ``{name, port, cert, key, kind}``; ``kind`` is ``https`` (TLS at once,
then a one-line HTTP answer, with HSTS when ``hsts`` is set) or ``smtp`` (a minimal ESMTP responder
that offers STARTTLS, as ``openssl s_client -starttls smtp`` and the tls_certificate module expect).
Every connection has a timeout; a failed handshake only ends that connection.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import sys
import threading

TIMEOUT = 10
MAX_REQUEST = 16384


def context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def _read_until(conn, marker: bytes) -> bytes:
    data = b""
    while marker not in data and len(data) < MAX_REQUEST:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def serve_https(conn: socket.socket, ctx: ssl.SSLContext, server: dict) -> None:
    with ctx.wrap_socket(conn, server_side=True) as tls:
        _read_until(tls, b"\r\n\r\n")
        body = json.dumps({"status": "UP", "endpoint": server["name"]}).encode()
        headers = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}",
                   "Connection: close"]
        if server.get("hsts"):
            headers.append("Strict-Transport-Security: max-age=31536000; includeSubDomains")
        tls.sendall(("\r\n".join(headers) + "\r\n\r\n").encode() + body)


def serve_smtp(conn: socket.socket, ctx: ssl.SSLContext, server: dict) -> None:
    stream, secure = conn, False
    stream.sendall(b"220 opsbook-lab ESMTP\r\n")
    buffer = b""
    while True:
        while b"\r\n" not in buffer:
            chunk = stream.recv(1024)
            if not chunk or len(buffer) > MAX_REQUEST:
                return
            buffer += chunk
        line, buffer = buffer.split(b"\r\n", 1)
        verb = line.split(b" ", 1)[0].upper()
        if verb in (b"EHLO", b"HELO"):
            stream.sendall(b"250 opsbook-lab\r\n" if secure else b"250-opsbook-lab\r\n250 STARTTLS\r\n")
        elif verb == b"STARTTLS" and not secure:
            stream.sendall(b"220 2.0.0 Ready to start TLS\r\n")
            stream, secure, buffer = ctx.wrap_socket(conn, server_side=True), True, b""
        elif verb == b"QUIT":
            stream.sendall(b"221 2.0.0 Bye\r\n")
            return
        else:
            stream.sendall(b"250 2.0.0 OK\r\n" if secure else b"530 5.7.0 Must issue a STARTTLS command first\r\n")


HANDLERS = {"https": serve_https, "smtp": serve_smtp}


def handle(conn: socket.socket, ctx: ssl.SSLContext, server: dict) -> None:
    conn.settimeout(TIMEOUT)
    try:
        HANDLERS[server["kind"]](conn, ctx, server)
    except (OSError, ssl.SSLError):
        pass  # a client that gave up, or refused our certificate (the self-signed one: on purpose)
    finally:
        conn.close()


def accept_loop(sock: socket.socket, ctx: ssl.SSLContext, server: dict) -> None:
    while True:
        conn, _addr = sock.accept()
        threading.Thread(target=handle, args=(conn, ctx, server), daemon=True).start()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    with open(args.config) as handle:
        servers = json.load(handle)["servers"]
    threads = []
    for server in servers:  # every port bound (or the process exits) before any is served
        ctx = context(server["cert"], server["key"])
        sock = socket.create_server((args.host, server["port"]))
        print(f"{server['name']}: {server['kind']} on {args.host}:{server['port']}", flush=True)
        threads.append(threading.Thread(target=accept_loop, args=(sock, ctx, server), daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
