#!/usr/bin/env python3
"""A TLS-terminating front for the Wine smoke test (stdlib only).

    tls_front.py --cert server.pem --key server.key --target 127.0.0.1:PORT [--port 0]

Listens on 127.0.0.1, prints the port it got on stdout (one line), and for each
connection (one thread each) completes the TLS handshake with the given certificate and
copies bytes both ways between the TLS side and a plain TCP connection to --target.
Handshake failures (e.g. the client rejecting the certificate) are logged to stderr,
so run.sh can show what the client said (e.g. "alert unknown ca").
"""
import argparse
import select
import socket
import ssl
import sys
import threading


def log(*args):
    print("[tls-front]", *args, file=sys.stderr, flush=True)


def pump(tls, plain):
    """Copies until either side closes. One thread, select() on both sockets: an
    SSLSocket must not be read and written from two threads at once."""
    socks = [tls, plain]
    while True:
        readable, _, _ = select.select(socks, [], [], 300)
        if not readable:
            return  # idle for 5 minutes
        if tls in readable:
            data = tls.recv(65536)
            if not data:
                return
            # recv returns one TLS record at most; take what OpenSSL already decrypted.
            while tls.pending():
                data += tls.recv(tls.pending())
            plain.sendall(data)
        if plain in readable:
            data = plain.recv(65536)
            if not data:
                return
            tls.sendall(data)


def serve(conn, addr, context, target):
    try:
        tls = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            log(f"handshake with {addr[0]}:{addr[1]} failed: {e}")
            return
        log(f"handshake with {addr[0]}:{addr[1]}: {tls.version()} {tls.cipher()[0]}")
        with socket.create_connection(target, timeout=30) as plain:
            plain.settimeout(None)
            pump(tls, plain)
    except (ssl.SSLError, OSError) as e:
        log(f"connection from {addr[0]}:{addr[1]}: {e}")
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True, help="server certificate chain, PEM")
    ap.add_argument("--key", required=True, help="server private key, PEM")
    ap.add_argument("--target", required=True, help="HOST:PORT of the plain HTTP server")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    host, _, port = args.target.rpartition(":")
    target = (host or "127.0.0.1", int(port))

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, addr = listener.accept()
        threading.Thread(target=serve, args=(conn, addr, context, target), daemon=True).start()


if __name__ == "__main__":
    main()
