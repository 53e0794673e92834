"""Send DNS A queries and report how many were answered, as JSON on stdout.

Usage: python dns_query.py SERVER_IP COUNT TIMEOUT_SECONDS NAME
Each query uses a fresh socket (new source port) and id, like a stub resolver's retries.
"""

from __future__ import annotations

import json
import socket
import struct
import sys


def build_query(qid: int, name: str) -> bytes:
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    return header + labels + b"\x00" + struct.pack("!HH", 1, 1)


def main() -> None:
    server, count, timeout, name = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    answered, ids = 0, []
    for i in range(count):
        qid = 0x1000 + i
        ids.append(qid)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.sendto(build_query(qid, name), (server, 53))
            try:
                data, _ = sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            if len(data) >= 2 and struct.unpack("!H", data[:2])[0] == qid:
                answered += 1
    print(json.dumps({"sent": count, "answered": answered, "ids": ids}))


if __name__ == "__main__":
    main()
