#!/usr/bin/env python3
"""Draws the Teams app icons with the standard library only (zlib + struct).

color.png   192x192 RGBA: a red shield with a white check mark on a full-colour background.
outline.png  32x32 RGBA: the same shield as a white outline on a transparent background,
             as Teams requires for the app bar.
Run from this folder: python3 make-icons.py
"""
import struct
import zlib


def png(path, width, height, pixel):
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows.extend(pixel(x, y))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


def in_shield(u, v):
    """u, v in [0, 1]: a shield with a flat top that narrows to a point at the bottom."""
    if v < 0.1 or v > 0.92 or u < 0.15 or u > 0.85:
        return False
    if v < 0.55:
        return True
    half = 0.35 * (0.92 - v) / 0.37
    return abs(u - 0.5) <= half


def on_check(u, v, width):
    """A check mark: a short stroke down-right, then a long stroke up-right."""
    def near(ax, ay, bx, by):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)))
        return (u - ax - t * dx) ** 2 + (v - ay - t * dy) ** 2 <= width * width
    return near(0.33, 0.45, 0.45, 0.6) or near(0.45, 0.6, 0.68, 0.32)


def color(x, y):
    u, v = (x + 0.5) / 192, (y + 0.5) / 192
    if on_check(u, v, 0.045) and in_shield(u, v):
        return (255, 255, 255, 255)
    if in_shield(u, v):
        return (209, 52, 56, 255)
    return (35, 47, 62, 255)


def outline(x, y):
    u, v = (x + 0.5) / 32, (y + 0.5) / 32
    step = 1.6 / 32
    inside = in_shield(u, v)
    edge = inside and not all(in_shield(u + du, v + dv) for du in (-step, 0, step) for dv in (-step, 0, step))
    if edge or (inside and on_check(u, v, 0.05)):
        return (255, 255, 255, 255)
    return (0, 0, 0, 0)


if __name__ == "__main__":
    png("color.png", 192, 192, color)
    png("outline.png", 32, 32, outline)
