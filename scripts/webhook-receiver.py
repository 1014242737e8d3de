#!/usr/bin/env python3
"""A webhook receiver for the notification tests: records every POST (its Authorization header and JSON body) as one
JSON line in LOG, and answers by MODE: ok (200), fail (500), hang (never answers within the sender's timeout).
   scripts/webhook-receiver.py PORT LOG MODE"""
import http.server
import json
import sys
import time

port, log, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(log, "a") as f:
            f.write(json.dumps({"auth": self.headers.get("Authorization"), "body": json.loads(body)}) + "\n")
        if mode == "hang":
            time.sleep(30)
        self.send_response(500 if mode == "fail" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
