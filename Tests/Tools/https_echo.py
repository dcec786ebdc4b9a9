#!/usr/bin/env python3
"""A small HTTPS server for transport tests (Python 3 standard library only).

    https_echo.py --cert CERT --key KEY --port-file FILE

Listens on 127.0.0.1 on a port the kernel picks, speaks HTTP/1.1 with keep-alive, and writes the
port to FILE (atomically, once it is listening). Paths:

  /echo...     JSON: method, path, headers, body lengths, sha256 of the body (gzip-decoded when
               Content-Encoding is gzip), and the client's address:port.
  /gzip        a JSON answer sent with Content-Encoding: gzip.
  /stall       headers and a few bytes of a longer body, then silence.
  /silent      nothing at all for a minute (a held request whose answer never begins).
  /too-large   413 with a JSON reason.
"""

import argparse
import gzip
import hashlib
import http.server
import json
import os
import ssl
import sys
import time

GZIP_TEXT = {"message": "this answer travelled gzip-encoded", "padding": "begawi " * 200}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client may send many requests on one connection

    def log_message(self, format, *args):
        pass

    def send_json(self, status, value, encoding=None):
        body = json.dumps(value).encode()
        if encoding == "gzip":
            body = gzip.compress(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test-Server", "https_echo")
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        raw = self.read_body()
        path = self.path.split("?")[0]
        if path.startswith("/echo"):
            decoded = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
            self.send_json(200, {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "rawLength": len(raw),
                "bodyLength": len(decoded),
                "sha256": hashlib.sha256(decoded).hexdigest(),
                "client": "%s:%d" % self.client_address[:2],
            })
        elif path == "/gzip":
            self.send_json(200, GZIP_TEXT, encoding="gzip")
        elif path == "/stall":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"begawi")
            self.wfile.flush()
            time.sleep(60)
        elif path == "/silent":
            time.sleep(60)
        elif path == "/too-large":
            self.send_json(413, {"reason": "the batch is larger than this hub accepts; send smaller batches"})
        else:
            self.send_json(404, {"reason": "no such path"})

    do_GET = handle_any
    do_POST = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # refused handshakes are what some tests are about


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)
    server = Server(("127.0.0.1", 0), Handler)
    # Handshake in the handler's thread, not in accept(), so a stuck client cannot block the others.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(temporary, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
