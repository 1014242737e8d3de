#!/usr/bin/env python3
"""Prints the width, height and number of distinct colours of an 8-bit RGB/RGBA PNG (a headless browser's
screenshot), with nothing but the standard library: the timeline test checks the page was not rendered blank.
   scripts/png-colours.py FILE"""
import struct
import sys
import zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width = 8, b"", 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    chunk = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
        assert depth == 8 and colour in (2, 6), "only 8-bit RGB/RGBA"
        bpp = 3 if colour == 2 else 4
    elif kind == b"IDAT":
        idat += chunk
    pos += 12 + length
raw, stride, prev, colours = zlib.decompress(idat), width * bpp, bytearray(width * bpp), set()
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
    prev = line
print(width, height, len(colours))
