#!/usr/bin/env python3
"""A counting TCP proxy in front of one etcd member's client port, for scripts/bench-wire.sh: forwards every
connection byte for byte and appends one line per event to LOG:
  <time> open <conn> h2|h1       a connection (h2: gRPC with prior knowledge, one per call; h1: HTTP/1.1)
  <time> req <conn> <bytes>      bytes from the client
  <time> resp <conn> <bytes>     bytes from the member
  <time> call <conn> <request>   an HTTP/1.1 request line's method and path, or "grpc" for a gRPC call (an HTTP/2
                                 HEADERS frame opening a stream; several per kept connection)
Usage: wire-count.py LISTEN_PORT UPSTREAM_PORT LOG"""
import asyncio, itertools, sys, time

LISTEN, UPSTREAM, LOG = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "a", buffering=1)
ids = itertools.count(1)


def log(*fields):
    LOG.write("%.6f %s\n" % (time.time(), " ".join(str(f) for f in fields)))


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
frames = {}   # conn -> the client's HTTP/2 bytes not yet parsed into frames


def count(kind, conn, h1, chunk):
    log(kind, conn, len(chunk))
    if kind != "req":
        return
    if h1:
        for line in chunk.split(b"\r\n"):
            parts = line.split(b" ")
            if len(parts) == 3 and parts[2].startswith(b"HTTP/1.") and parts[0] in (b"GET", b"POST"):
                log("call", conn, (parts[0] + b" " + parts[1].split(b"?")[0]).decode())
        return
    buf = frames.get(conn, b"") + chunk
    if buf.startswith(PREFACE):
        buf = buf[len(PREFACE):]
    opened = set()
    while len(buf) >= 9:   # frame: length (3), type (1), flags (1), stream id (4), payload
        length = int.from_bytes(buf[0:3], "big")
        if len(buf) < 9 + length:
            break
        stream = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
        if buf[3] == 1 and stream not in opened:   # HEADERS: a call opens its stream (trailers never come from us)
            opened.add(stream)
            log("call", conn, "grpc")
        buf = buf[9 + length:]
    frames[conn] = buf


async def pipe(src, dst, conn, kind, h1):
    try:
        while chunk := await src.read(1 << 16):
            count(kind, conn, h1, chunk)
            dst.write(chunk)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        dst.close()


async def handle(reader, writer):
    conn = next(ids)
    try:
        first = await reader.read(1 << 16)
        if not first:
            return
        h1 = not first.startswith(b"PRI ")
        log("open", conn, "h1" if h1 else "h2")
        up_r, up_w = await asyncio.open_connection("127.0.0.1", UPSTREAM)
        count("req", conn, h1, first)
        up_w.write(first)
        await asyncio.gather(pipe(reader, up_w, conn, "req", h1), pipe(up_r, writer, conn, "resp", h1))
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await server.serve_forever()

asyncio.run(main())
