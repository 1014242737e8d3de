#!/usr/bin/env python3
"""A TCP proxy in front of one etcd member's client port, for fault tests. The daemon speaks gRPC (HTTP/2, one
connection per call) for etcd's API, HTTP/1.1 for /health, /version and /metrics; every connection is forwarded on a
fresh upstream connection, except that the first fenced write of a member record in phase `stopping` — from any
daemon, through any proxy of the fleet — triggers the scripted fault:

  1. a peer (the first member in the rule that is not the writer) is killed with SIGKILL, by its etcd.pid;
  2. the marker file is created (O_EXCL: once per fleet) holding "<writer> <peer>";
  3. that write, and every record write for the next `failSeconds`, is cut off before its request reaches etcd: the
     connection is reset, which the client reads as UNAVAILABLE (failSeconds 0: that write alone; the client's
     failover to another endpoint then succeeds at once).

A record write is recognised in the bytes the client sends, as protobuf carries them: the key
`/etcd-shepherd/members/<name>` and the record's JSON (`"phase":"stopping"`) appear as they are. Each call has its
own connection, so what one connection has sent so far is one call's request.

Usage: fault-proxy.py LISTEN_PORT UPSTREAM_PORT RULE.json
RULE.json: {"marker": PATH, "failSeconds": 1.5, "pidFiles": {"s1": PATH, ...}}
"""
import asyncio, json, os, re, signal, sys, time

LISTEN, UPSTREAM, RULE = int(sys.argv[1]), int(sys.argv[2]), json.load(open(sys.argv[3]))
MEMBERS = b"/etcd-shepherd/members/"


NAME = re.compile(rb"[A-Za-z0-9._-]+")


def record_write(sent):
    """The member name when the bytes sent so far hold a write of a member record (its JSON has a phase)."""
    i = sent.find(MEMBERS)
    if i < 0 or b'"phase"' not in sent:
        return None
    m = NAME.match(bytes(sent[i + len(MEMBERS):i + len(MEMBERS) + 64]))
    return m.group().decode() if m else None


def injected(sent):
    """True when this request must be cut off: the first stopping write (which fires the fault), or any record
    write inside the fault's window."""
    name = record_write(sent)
    if name is None:
        return False
    if b'"phase":"stopping"' in sent and not os.path.exists(RULE["marker"]) and trigger(name):
        return True
    return fault_window()


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


class Cut(Exception):
    pass


async def inspected(src, dst):
    """Client to upstream, cutting the connection off when what was sent so far is a request to fail."""
    sent = bytearray()
    try:
        while chunk := await src.read(1 << 16):
            sent += chunk
            if injected(sent):
                raise Cut()
            dst.write(chunk)
            await dst.drain()
    finally:
        dst.close()


async def handle(reader, writer):
    up_w = None
    try:
        preface = await reader.readexactly(4)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", UPSTREAM)
        if preface == b"PRI ":
            # gRPC: HTTP/2 with prior knowledge. Passed through as bytes, watched for the writes to fail.
            up_w.write(preface)
            results = await asyncio.gather(
                inspected(reader, up_w), pipe(up_r, writer), return_exceptions=True)
            if any(isinstance(r, Cut) for r in results):
                up_w.transport.abort()
                writer.transport.abort()
            return
        # HTTP/1.1 (/health, /version, /metrics): one request per upstream connection, no faults.
        head, body = await read_head(reader, prefix=preface)
        up_w.write(with_close(head) + body)
        await up_w.drain()
        resp_head = await up_r.readuntil(b"\r\n\r\n")
        writer.write(with_close(resp_head))
        while chunk := await up_r.read(1 << 16):
            writer.write(chunk)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, OSError):
        pass
    finally:
        if up_w is not None:
            up_w.close()
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    print(f"proxy :{LISTEN} -> :{UPSTREAM}", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
