#!/usr/bin/env python3
"""Checks a report rendered by headless Chromium: the screenshot is not blank and the
page's text (from --dump-dom) holds the key values of the folder's summary.json, formatted
as the report formats them.

usage: check-report-page.py FOLDER SCREENSHOT.png DOM.html

Pure standard library: the PNG is decoded with zlib (Pillow may be absent).
"""
import html
import json
import re
import struct
import sys
import zlib


def png_pixels(path):
    """(width, height, bytes per pixel, rows of unfiltered bytes) of an 8-bit PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, colour, _, _, interlace = ihdr
    if depth != 8 or interlace != 0:
        raise SystemExit(f"{path}: unsupported PNG (depth {depth}, interlace {interlace})")
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if bpp is None:
        raise SystemExit(f"{path}: unsupported PNG colour type {colour}")
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_not_blank(path):
    w, h, bpp, rows = png_pixels(path)
    counts = {}
    for row in rows[::4]:
        for x in range(0, w * bpp, bpp * 4):
            px = row[x : x + bpp]
            counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    background = max(counts.values())
    ink = 1 - background / total
    if len(counts) < 8 or ink < 0.02:
        raise SystemExit(
            f"{path}: looks blank ({len(counts)} colours, {100 * ink:.1f}% not background)"
        )
    return ink, len(counts)


def trim(s):
    return s.rstrip("0").rstrip(".") if "." in s else s


def num(x):
    """The report's number format (crates/report/src/svg.rs `num`)."""
    a = abs(x)
    if a >= 1e9:
        return trim(f"{x / 1e9:.3f}") + "G"
    if a >= 1e6:
        return trim(f"{x / 1e6:.2f}") + "M"
    if a >= 1e4:
        return trim(f"{x / 1e3:.1f}") + "k"
    if a >= 100 or x == round(x):
        return f"{x:.0f}"
    return trim(f"{x:.3f}")


def page_text(dom_path):
    dom = open(dom_path, encoding="utf-8").read()
    dom = re.sub(r"<style.*?</style>", " ", dom, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


def mean(stat):
    m = stat["mean"]
    return "never" if m is None else num(m)


def expected(summary):
    """The values the first screen must show, formatted as the report does."""
    kind, want = summary["kind"], [summary["scenario"]]
    if kind == "run":
        m = summary["metrics"]
        mail = m["mail"]
        want += [
            summary["strategy"],
            num(m["user_minutes_without_send_receive"]),
            format(mail["bounced"] + mail["lost_silently"] + mail["queued_at_end"], ","),
        ]
    elif kind == "study":
        want += [
            str(summary["replications"]),
            mean(summary["metrics"]["user_minutes_without_send_receive"]),
            mean(summary["metrics"]["mail_not_delivered"]),
        ]
    elif kind == "compare":
        for s in summary["strategies"]:
            want += [s["strategy"], mean(s["summary"]["metrics"]["mail_not_delivered"])]
    elif kind == "sweep":
        want += summary["axes"]
        for p in summary["points"]:
            want.append(mean(p["summary"]["metrics"]["user_minutes_without_send_receive"]))
    return want


def main():
    folder, png, dom = sys.argv[1:4]
    summary = json.load(open(f"{folder}/summary.json", encoding="utf-8"))
    ink, colours = check_not_blank(png)
    text = page_text(dom)
    missing = [v for v in expected(summary) if v not in text]
    if missing:
        raise SystemExit(f"{dom}: the page lacks {missing}")
    if re.search(r"\bNaN\b|\binf\b|undefined", text):
        raise SystemExit(f"{dom}: the page shows NaN, inf or undefined")
    print(f"ok {summary['kind']}: {png} ({colours} colours, {100 * ink:.0f}% ink), key values present")


if __name__ == "__main__":
    main()
