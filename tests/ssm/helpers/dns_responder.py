"""A tiny authoritative-for-everything DNS responder for the network-namespace tests.

Usage: python dns_responder.py BIND_IP PORT ANSWER_IP
Answers every A query with ANSWER_IP (TTL 30) and every other query type with an empty NOERROR
answer; names whose first label starts with "nx" get NXDOMAIN and "servfail" get SERVFAIL.
Runs until killed. Standard library only; nothing here parses more than the question.
"""

from __future__ import annotations

import socket
import struct
import sys


def answer(query: bytes, answer_ip: bytes) -> bytes | None:
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    end = 12
    while end < len(query) and query[end] != 0:
        end += 1 + query[end]
    end += 1
    if end + 4 > len(query):
        return None
    question = query[12 : end + 4]
    qtype = struct.unpack("!H", query[end : end + 2])[0]
    rd = flags & 0x0100
    first_label = query[13 : 13 + query[12]] if query[12] else b""
    rcode = 3 if first_label.startswith(b"nx") else 2 if first_label.startswith(b"servfail") else 0
    ancount = 1 if qtype == 1 and rcode == 0 else 0
    header = struct.pack("!HHHHHH", qid, 0x8080 | rd | rcode, 1, ancount, 0, 0)
    body = question
    if ancount:
        body += struct.pack("!HHHIH", 0xC00C, 1, 1, 30, 4) + answer_ip
    return header + body


def main() -> None:
    bind_ip, port, answer_ip = sys.argv[1], int(sys.argv[2]), socket.inet_aton(sys.argv[3])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((bind_ip, port))
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(4096)
        reply = answer(data, answer_ip)
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
