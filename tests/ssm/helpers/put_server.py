"""A minimal HTTPS server that accepts PUT uploads, standing in for S3 presigned URLs in tests.

Usage: python put_server.py DIRECTORY CERT KEY
Binds 127.0.0.1 on a free port, writes the port to DIRECTORY/port, prints "ready", then stores
each PUT body as DIRECTORY/<last path segment> and appends {"path", "headers", "size"} to
DIRECTORY/requests.jsonl. Answers 200 with an empty body (like S3). Runs until killed.
"""

from __future__ import annotations

import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

DIRECTORY = Path(sys.argv[1])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        name = Path(urlsplit(self.path).path).name or "upload"
        (DIRECTORY / name).write_bytes(body)
        record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "size": len(body)}
        with (DIRECTORY / "requests.jsonl").open("a") as log:
            log.write(json.dumps(record) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    (DIRECTORY / "port").write_text(str(server.server_address[1]))
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
