"""Count the pixels of one colour in a PNG (stdlib only): png_colour.py FILE RRGGBB MIN.

Proves the screenshot shows the drift highlight (the background of a drift cell), not just that a file exists.
Handles 8-bit RGB/RGBA, non-interlaced images (what headless Chromium writes).
"""

from __future__ import annotations

import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"png_colour: {path} is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _c, _f, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        sys.exit(f"png_colour: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            upleft = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + left) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + up) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif ftype == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else upleft
                line[i] = (line[i] + pred) & 0xFF
        for x in range(width):
            yield tuple(line[x * bpp:x * bpp + 3])
        prev = line
    return


def main():
    path, hexcolour, minimum = sys.argv[1], sys.argv[2], int(sys.argv[3])
    want = tuple(int(hexcolour[i:i + 2], 16) for i in (0, 2, 4))
    count = sum(1 for p in pixels(path) if p == want)
    if count < minimum:
        sys.exit(f"png_colour: {path}: {count} pixels of #{hexcolour}, want at least {minimum}")
    print(f"png_colour: {path}: {count} pixels of #{hexcolour} (drift highlight)")


main()
