#!/usr/bin/env python3
"""Write load and observer for benchmarks: puts through all endpoints (rotating, failing over), records each
acknowledged key, put latencies, the longest gap between acknowledged writes, and leader changes seen through
/v3/maintenance/status. On SIGTERM it re-reads every acknowledged key and writes a JSON summary.
Usage: loadgen.py OUT.json URL[,URL...]"""
import base64, json, signal, sys, threading, time, urllib.request

out, urls = sys.argv[1], sys.argv[2].split(",")
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
b64 = lambda s: base64.b64encode(s.encode()).decode()

def post(url, path, body, timeout):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")

acked, lat, failed = [], [], 0
stall, last = 0.0, time.monotonic()
leaders, changes = [], 0

def watch():
    global changes
    prev = None
    while not stop.is_set():
        for u in urls:
            try:
                lead = post(u, "/v3/maintenance/status", {}, 0.5).get("leader")
                if lead and lead != "0":
                    if prev is not None and lead != prev:
                        changes += 1
                    prev = lead
                    break
            except Exception:
                continue
        time.sleep(0.1)

t = threading.Thread(target=watch, daemon=True); t.start()
i = 0
while not stop.is_set():
    t0 = time.monotonic(); ok = False
    for k in range(len(urls)):
        try:
            post(urls[(i + k) % len(urls)], "/v3/kv/put", {"key": b64(f"/bench/{i}"), "value": b64(f"v{i}")}, 1.0)
            ok = True; break
        except Exception:
            continue
    now = time.monotonic()
    if ok:
        acked.append(i); lat.append(now - t0); stall = max(stall, now - last); last = now
    else:
        failed += 1
    i += 1
    time.sleep(0.005)

lost = None
for u in urls:
    try:
        r = post(u, "/v3/kv/range", {"key": b64("/bench/"), "range_end": b64("/bench0")}, 10)
        have = {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode() for kv in r.get("kvs", [])}
        lost = sum(1 for j in acked if have.get(f"/bench/{j}") != f"v{j}")
        break
    except Exception:
        continue
lat.sort()
p = lambda q: round(1000 * lat[min(len(lat) - 1, int(len(lat) * q))], 1) if lat else None
json.dump({"acked": len(acked), "failed_unacknowledged": failed, "lost_acknowledged": lost, "p50_ms": p(0.5), "p99_ms": p(0.99),
           "longest_stall_s": round(stall, 3), "leader_changes": changes}, open(out, "w"))
