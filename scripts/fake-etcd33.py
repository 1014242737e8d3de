#!/usr/bin/env python3
"""A test double for an etcd 3.3 member's client port (no 3.3 binary reaches these machines): /version says 3.3.27,
the v3 gateway answers under /v3beta only (as 3.3's does) and /v3/... is "404 page not found", like a real 3.3.
Answers are the shapes 3.3.27 returns for the calls the prefix test makes: member list, range, status.
Usage: fake-etcd33.py PORT"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
URL = "http://127.0.0.1:%d" % PORT
HEADER = {"cluster_id": "14841639068965178418", "member_id": "10276657743932975437", "revision": "7", "raft_term": "2"}
ANSWERS = {
    "/v3beta/cluster/member/list": {"header": HEADER, "members": [{"ID": "10276657743932975437", "name": "old33",
                                    "peerURLs": ["http://127.0.0.1:2380"], "clientURLs": [URL]}]},
    "/v3beta/kv/range": {"header": HEADER, "kvs": [{"key": "L2s=", "create_revision": "7", "mod_revision": "7",
                         "version": "1", "value": "djMz"}], "count": "1"},
    "/v3beta/maintenance/status": {"header": HEADER, "version": "3.3.27", "dbSize": "24576", "leader": "10276657743932975437",
                                   "raftIndex": "9", "raftTerm": "2"},
}


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/version":
            self.reply(200, {"etcdserver": "3.3.27", "etcdcluster": "3.3.0"})
        elif self.path == "/health":
            self.reply(200, {"health": "true"})
        else:
            self.reply(404, b"404 page not found\n", "text/plain")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path in ANSWERS:
            self.reply(200, ANSWERS[self.path])
        else:
            self.reply(404, b"404 page not found\n", "text/plain")

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
