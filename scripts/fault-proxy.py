#!/usr/bin/env python3
"""An HTTP proxy in front of one etcd member's client port, for fault tests: every request is forwarded on a fresh
upstream connection (answered with `Connection: close`), except that the first fenced write of a member record in
phase `stopping` — from any daemon, through any proxy of the fleet — triggers the scripted fault:

  1. a peer (the first member in the rule that is not the writer) is killed with SIGKILL, by its etcd.pid;
  2. the marker file is created (O_EXCL: once per fleet) holding "<writer> <peer>";
  3. that write, and every record write for the next `failSeconds`, is answered 503 with a gateway error body
     (failSeconds 0: that write alone; the client's failover to another endpoint then succeeds at once).

A connection that opens with the HTTP/2 preface (gRPC: the snapshot) is passed through byte for byte.

Usage: fault-proxy.py LISTEN_PORT UPSTREAM_PORT RULE.json
RULE.json: {"marker": PATH, "failSeconds": 1.5, "pidFiles": {"s1": PATH, ...}}
"""
import asyncio, base64, json, os, signal, sys, time

LISTEN, UPSTREAM, RULE = int(sys.argv[1]), int(sys.argv[2]), json.load(open(sys.argv[3]))
MEMBERS = b"/etcd-shepherd/members/"


def stopping_writer(body):
    """The member name when the body is a txn putting a member record in phase stopping."""
    try:
        txn = json.loads(body)
        for op in txn.get("success", []):
            put = op.get("request_put") or {}
            key = base64.b64decode(put.get("key", ""))
            if key.startswith(MEMBERS) and json.loads(base64.b64decode(put.get("value", ""))).get("phase") == "stopping":
                return key[len(MEMBERS):].decode()
    except Exception:
        return None
    return None


def record_write(body):
    return b"request_put" in body and base64.b64encode(MEMBERS)[:20] in body


def fault_window():
    try:
        return time.time() - os.stat(RULE["marker"]).st_mtime < RULE["failSeconds"]
    except FileNotFoundError:
        return False


def trigger(writer):
    """True when this call fired the fault (once per fleet)."""
    try:
        fd = os.open(RULE["marker"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    peer = next(n for n in sorted(RULE["pidFiles"]) if n != writer)
    try:
        os.kill(int(open(RULE["pidFiles"][peer]).read().strip()), signal.SIGKILL)
    except (OSError, ValueError) as e:
        print(f"could not kill {peer}: {e}", flush=True)
    os.write(fd, f"{writer} {peer}\n".encode())
    os.close(fd)
    print(f"fault: {writer}'s stopping write failed; {peer} killed", flush=True)
    return True


async def read_head(reader, prefix=b""):
    head = prefix + await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, (await reader.readexactly(length) if length else b"")


def with_close(head):
    lines = [l for l in head.rstrip(b"\r\n").split(b"\r\n") if not l.lower().startswith(b"connection:")]
    return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n"


async def pipe(src, dst):
    try:
        while chunk := await src.read(1 << 16):
            dst.write(chunk)
            await dst.drain()
    finally:
        dst.close()


async def handle(reader, writer):
    try:
        # gRPC (the snapshot) is HTTP/2 with prior knowledge: no faults are scripted there, pass it through as bytes.
        preface = await reader.readexactly(4)
        if preface == b"PRI ":
            up_r, up_w = await asyncio.open_connection("127.0.0.1", UPSTREAM)
            up_w.write(preface)
            await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer), return_exceptions=True)
            return
        head, body = await read_head(reader, prefix=preface)
        name = stopping_writer(body) if b"/kv/txn" in head.split(b"\r\n")[0] else None
        fired = name is not None and not os.path.exists(RULE["marker"]) and trigger(name)
        if fired or fault_window() and b"/kv/txn" in head.split(b"\r\n")[0] and record_write(body):
            msg = b'{"error":"injected fault","code":14,"message":"injected fault"}'
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         + b"Content-Length: " + str(len(msg)).encode() + b"\r\n\r\n" + msg)
            await writer.drain()
            return
        up_r, up_w = await asyncio.open_connection("127.0.0.1", UPSTREAM)
        up_w.write(with_close(head) + body)
        await up_w.drain()
        resp_head = await up_r.readuntil(b"\r\n\r\n")
        writer.write(with_close(resp_head))
        while chunk := await up_r.read(1 << 16):
            writer.write(chunk)
            await writer.drain()
        up_w.close()
    except (asyncio.IncompleteReadError, ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    print(f"proxy :{LISTEN} -> :{UPSTREAM}", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
