#!/usr/bin/env python3
"""A fake etcd client port that answers badly, for the bad-input tests: every request gets the same bad answer.
Usage: bad-etcd.py PORT MODE    MODE: garbage | html | huge | silent (accepts, reads, never answers)"""
import socket, sys, threading, time

PORT, MODE = int(sys.argv[1]), sys.argv[2]


def serve(conn):
    try:
        conn.recv(65536)
        if MODE == "silent":
            time.sleep(3600)
        elif MODE == "garbage":
            body = b"\x00\xff{{not json at all\x13"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        elif MODE == "html":
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        elif MODE == "huge":
            size = 2 * 1024 * 1024 * 1024
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % size)
            chunk = b"[" * (1 << 20)
            for _ in range(size >> 20):
                conn.sendall(chunk)
    except OSError:
        pass
    finally:
        conn.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
